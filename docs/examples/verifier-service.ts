// A downstream service that accepts Writ capabilities: one route, protected by the verifier's Koa
// middleware. Run it with
//   WRIT_ISSUER=https://writ.example AUDIENCE=https://mail.example/api PORT=3000 \
//     node docs/examples/verifier-service.ts
// In your own service, import from the package's `./verifier` entry point instead of src/.
import Koa from 'koa';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createVerifier, requireCapability, type VerifiedCapability } from '../../src/verifier/index.ts';

export interface ServiceOptions {
  issuer: string;
  audience: string;
  port?: number;
}

export async function startService(options: ServiceOptions) {
  const verifier = createVerifier({ issuer: options.issuer, audience: options.audience });
  const app = new Koa();

  // A tiny JSON body reader, so constraints can be checked against the tool input.
  app.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.is('application/json')) {
      let raw = '';
      for await (const chunk of ctx.req) {
        raw += chunk;
        if (raw.length > 64 * 1024) ctx.throw(413);
      }
      try {
        (ctx.request as { body?: unknown }).body = JSON.parse(raw);
      } catch {
        ctx.throw(400, 'invalid JSON');
      }
    }
    await next();
  });

  // POST /mailboxes/:mailbox/send  { "input": { "to": "...", "subject": "..." } }
  const send = requireCapability<Koa.Context>(verifier, {
    tool: 'gmail.messages.send',
    resource: (ctx) => `gmail:mailbox:${ctx.path.split('/')[2] ?? ''}`,
  });
  app.use(async (ctx, next) => {
    if (ctx.method !== 'POST' || !/^\/mailboxes\/[a-z0-9-]+\/send$/.test(ctx.path)) return next();
    await send(ctx, async () => {
      const capability = ctx.state.capability as VerifiedCapability;
      // The principal comes from the verified capability, never from the request body.
      ctx.body = { sent: true, on_behalf_of: capability.sub, org: capability.org_id, via: capability.actor_chain };
    });
  });

  const server = app.listen(options.port ?? 0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      verifier.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const service = await startService({
    issuer: process.env.WRIT_ISSUER ?? 'http://localhost:8080',
    audience: process.env.AUDIENCE ?? 'http://localhost:3000',
    port: Number(process.env.PORT ?? 3000),
  });
  console.log(`listening on ${service.url}`);
}
