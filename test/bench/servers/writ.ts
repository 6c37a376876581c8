// Writ started exactly as `npm start` starts it (src/cli/main.ts serve), in a child process.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnServer, type ServerProcess } from './process.ts';
import { remoteWrit } from '../../support/writ.ts';

const MAIN = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

/** The Node flags `npm start` passes (heap sizing), read from package.json so the two never drift. */
export const START_NODE_ARGS: string[] = (() => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { scripts: { start: string } };
  return pkg.scripts.start.split(/\s+/).filter((arg) => arg.startsWith('--'));
})();

export interface WritProcess extends ServerProcess {
  readonly issuer: string;
  readonly executorResource: string;
  readonly dataDir: string;
  readonly adminToken: string;
  readonly masterKey: string;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
}

export interface WritSpawnOptions {
  dataDir?: string;
  /** Several processes on one data dir share secrets and one issuer name. */
  adminToken?: string;
  masterKey?: string;
  issuer?: string;
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** A port chosen beforehand, when another server must know Writ's address first. */
  port?: number;
}

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'writ-bench-'));
}

export async function spawnWrit(options: WritSpawnOptions = {}): Promise<WritProcess> {
  const dataDir = options.dataDir ?? newDataDir();
  const port = options.port ?? (await freePort());
  const adminToken = options.adminToken ?? `bench-admin-${randomBytes(24).toString('base64url')}`;
  const masterKey = options.masterKey ?? `v1:${randomBytes(32).toString('base64url')}`;
  const issuer = options.issuer ?? `http://127.0.0.1:${port}`;
  const server = await spawnServer({
    script: MAIN,
    args: ['serve'],
    nodeArgs: [...START_NODE_ARGS, ...(options.nodeArgs ?? [])],
    env: {
      PORT: String(port), HOST: '127.0.0.1', WRIT_ISSUER: issuer, WRIT_DATA_DIR: dataDir,
      WRIT_ADMIN_TOKEN: adminToken, WRIT_MASTER_KEY: masterKey, NODE_ENV: 'development',
      // The demo connector exists only with a provider URL; the exchange benches need its tools in
      // the catalog, not the provider (the executor module passes a real one), as test/support does.
      WRIT_DEMO_PROVIDER_URL: 'http://127.0.0.1:9', ...options.env,
    },
    port,
    readyPath: '/healthz',
    logFile: join(dataDir, `writ-${port}.log`),
  });
  return {
    ...server,
    rssMb: server.rssMb,
    stop: server.stop,
    issuer,
    executorResource: `${issuer}/executor`,
    dataDir,
    adminToken,
    masterKey,
    // The admin API at the process's own address (the issuer name may differ from where it listens).
    admin: remoteWrit(server.url, adminToken).admin,
  };
}
