// Starts `node src/cli/main.ts serve` as a child process (WRIT_WORKERS and the rest from `env`)
// on a free port with a fresh data dir, and stops it (SIGTERM) and removes the data dir at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from './connect.ts';
import { untilHealthy } from './process.ts';

export interface ServedWrit {
  issuer: string;
  adminToken: string;
  masterKey: string;
  dataDir: string;
  port: number;
  child: ChildProcess;
  output(): string;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

/** `again` restarts over the data dir, port and secrets of a Writ that was stopped with `keepData`. */
export async function serveWrit(env: Record<string, string> = {}, again?: ServedWrit): Promise<ServedWrit> {
  const dataDir = again?.dataDir ?? mkdtempSync(join(tmpdir(), 'writ-served-'));
  const port = again?.port ?? await freePort();
  const issuer = `http://localhost:${port}`;
  const adminToken = again?.adminToken ?? `served-admin-${randomBytes(24).toString('hex')}`;
  const masterKey = again?.masterKey ?? `v1:${randomBytes(32).toString('base64url')}`;
  let output = '';
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'serve'], {
    cwd: join(import.meta.dirname, '../..'),
    env: {
      PATH: process.env.PATH, PORT: String(port), WRIT_DATA_DIR: dataDir, WRIT_ADMIN_TOKEN: adminToken,
      // The demo connector is in the catalog, so agents may name its tools (nothing listens there).
      WRIT_MASTER_KEY: masterKey, WRIT_LOG_LEVEL: 'warn', WRIT_DEMO_PROVIDER_URL: 'http://127.0.0.1:9', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  const stop = async ({ keepData = false } = {}) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    if (!keepData) rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await untilHealthy(issuer, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { issuer, adminToken, masterKey, dataDir, port, child, output: () => output, stop };
}
