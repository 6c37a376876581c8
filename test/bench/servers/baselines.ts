// The baseline servers, each in its own process on 127.0.0.1.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, spawnServer, type ServerProcess } from './process.ts';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } from '../../demo/provider/flow.ts';

export const BASELINE_CLIENT = { client_id: 'bench-client', client_secret: 'bench-client-secret-of-some-length' };

export async function spawnOidcBaseline(logDir: string): Promise<ServerProcess> {
  const port = await freePort();
  return spawnServer({
    script: fileURLToPath(new URL('./oidc-baseline-child.ts', import.meta.url)),
    args: [String(port), BASELINE_CLIENT.client_id, BASELINE_CLIENT.client_secret],
    nodeArgs: ['--disable-warning=ExperimentalWarning'],
    env: {},
    port,
    readyPath: '/.well-known/openid-configuration',
    logFile: join(logDir, `oidc-baseline-${port}.log`),
  });
}

/** The demo provider (Writ's local upstream), started by its own entry point. */
export async function spawnDemoProvider(logDir: string): Promise<ServerProcess> {
  const port = await freePort();
  return spawnServer({
    script: fileURLToPath(new URL('../../../src/demo/provider/main.ts', import.meta.url)),
    nodeArgs: ['--disable-warning=ExperimentalWarning'],
    env: { DEMO_PROVIDER_PORT: String(port), DEMO_CLIENT_ID: CLIENT_ID, DEMO_CLIENT_SECRET: CLIENT_SECRET, DEMO_REDIRECT_URI: REDIRECT_URI },
    port,
    readyPath: '/.well-known/openid-configuration',
    logFile: join(logDir, `demo-provider-${port}.log`),
  });
}
