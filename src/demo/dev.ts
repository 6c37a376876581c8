import { randomBytes } from 'node:crypto';
import { serve } from '../app/serve.ts';
import { DEMO_PASSWORD, startDemoProvider } from './provider/index.ts';

// `npm run dev` (`writ dev`): `writ serve` with the bundled demo notes provider connected, so the
// README's by-hand path ends in a real tool call. The provider starts first on a free loopback port
// with a fresh client for Writ's connect callback; Writ then serves with the three settings that
// connect it (WRIT_DEMO_PROVIDER_URL, WRIT_CONNECTOR_CLIENTS, WRIT_ALLOW_PRIVATE_EGRESS for that
// one host and port). Development only: production refuses private egress.

export const DEMO_CLIENT_ID = 'writ-demo';

/** Joins a comma-separated setting and one more value. */
const plus = (list: string | undefined, value: string) => [...(list ?? '').split(',').map((v) => v.trim()).filter(Boolean), value].join(',');

export async function dev(env: Record<string, string | undefined> = process.env): Promise<void> {
  if (env.NODE_ENV === 'production') {
    process.stderr.write('writ: writ dev runs the demo provider and is for development; use writ serve in production\n');
    process.exit(2);
  }
  const port = env.PORT ?? '8080';
  if (port === '0') {
    process.stderr.write('writ: configuration error: PORT: writ dev needs a fixed port (the demo provider is told where Writ\'s connect callback is)\n');
    process.exit(2);
  }
  const issuer = (env.WRIT_ISSUER ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const client = { client_id: DEMO_CLIENT_ID, client_secret: randomBytes(24).toString('base64url') };
  const provider = await startDemoProvider({
    port: Number(env.DEMO_PROVIDER_PORT ?? 0),
    clients: [{ ...client, redirect_uris: [`${issuer}/connect/callback`] }],
  });
  let clients: Record<string, unknown> | undefined = {};
  try { if (env.WRIT_CONNECTOR_CLIENTS) clients = JSON.parse(env.WRIT_CONNECTOR_CLIENTS) as Record<string, unknown>; } catch { clients = undefined; }
  const served = {
    ...env,
    // One process: several workers would each start a provider of their own.
    WRIT_WORKERS: '1',
    WRIT_DEMO_PROVIDER_URL: provider.url,
    WRIT_ALLOW_PRIVATE_EGRESS: plus(env.WRIT_ALLOW_PRIVATE_EGRESS, new URL(provider.url).host),
    // Unreadable JSON is passed on as given, for serve to name the setting.
    WRIT_CONNECTOR_CLIENTS: clients ? JSON.stringify({ ...clients, demo: client }) : env.WRIT_CONNECTOR_CLIENTS,
  };
  await serve(served);
  process.stderr.write([
    `The demo notes provider is connected at ${provider.url}: connector \`demo\`, tools demo.notes.create, demo.notes.get, demo.notes.list.`,
    `Its sign-in is john or alice, password "${DEMO_PASSWORD}". Ctrl-C stops both.`,
    '',
  ].join('\n'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => { void provider.close(); });
}
