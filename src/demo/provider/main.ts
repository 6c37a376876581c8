// `node src/demo/provider/main.ts`: runs the demo provider for the quickstart.
//   DEMO_PROVIDER_PORT  port on 127.0.0.1 (default 9090; 0 picks a free one)
//   DEMO_CLIENT_ID      the client Writ registers as (default `writ-demo`)
//   DEMO_CLIENT_SECRET  its secret (required)
//   DEMO_REDIRECT_URI   Writ's connect callback (required)
import { z } from 'zod';
import { DEMO_PASSWORD, startDemoProvider } from './index.ts';

const Env = z.object({
  DEMO_PROVIDER_PORT: z.coerce.number().int().min(0).max(65535).default(9090),
  DEMO_CLIENT_ID: z.string().min(1).default('writ-demo'),
  DEMO_CLIENT_SECRET: z.string({ error: 'is required' }).min(1, 'is required'),
  DEMO_REDIRECT_URI: z.url({ protocol: /^https?$/, error: 'is required and must be an http(s) URL' }),
});

const env = Env.safeParse(process.env);
if (!env.success) {
  // Name the setting, never echo its value: it may be the secret.
  for (const issue of env.error.issues) console.error(`demo provider: ${issue.path.join('.')} ${issue.message}`);
  process.exit(2);
}

const provider = await startDemoProvider({
  port: env.data.DEMO_PROVIDER_PORT,
  clients: [{
    client_id: env.data.DEMO_CLIENT_ID,
    client_secret: env.data.DEMO_CLIENT_SECRET,
    redirect_uris: [env.data.DEMO_REDIRECT_URI],
  }],
});

console.log(`demo provider listening on ${provider.url}`);
console.log(`  discovery: ${provider.issuer}/.well-known/openid-configuration`);
console.log(`  notes API: ${provider.url}/api (resource ${provider.resource})`);
console.log(`  client:    ${env.data.DEMO_CLIENT_ID} -> ${env.data.DEMO_REDIRECT_URI}`);
console.log(`  sign in as john or alice, password "${DEMO_PASSWORD}"`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void provider.close().then(() => process.exit(0));
  });
}
