// The Express, Fastify and Hono middlewares, each protecting one route of a real service on
// loopback, against capabilities minted by a running Writ (keys and revocations over HTTP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { createVerifier, type Verifier } from '../../src/verifier/index.ts';
import * as onExpress from '../../src/verifier/express.ts';
import * as onFastify from '../../src/verifier/fastify.ts';
import * as onHono from '../../src/verifier/hono.ts';
import { waitFor } from '../support/wait.ts';
import { startWritWithCapabilities, OTHER_TOOL, TOOL } from './writ-capabilities.ts';

const METADATA = 'https://notes.example/.well-known/oauth-protected-resource';
const requirement = { require: { tool: TOOL }, resourceMetadataUrl: METADATA };

/** What the handler answers: who the capability speaks for, as the middleware handed it over. */
const whoFor = (c: { sub: string; principal: string; org_id: string; actor_chain: string[] }) => ({ sub: c.sub, principal: c.principal, org: c.org_id, via: c.actor_chain });

interface Service { name: string; url: string; close(): Promise<void> }

const listening = (server: Server) => new Promise<string>((resolve) => {
  server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
});
const closing = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

async function expressService(verifier: Verifier): Promise<Service> {
  const app = express();
  app.use(express.json());
  app.post('/notes', onExpress.requireCapability(verifier, requirement), (_req, res) => {
    res.json(whoFor(onExpress.capabilityOf(res)));
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { name: 'express', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => closing(server) };
}

async function fastifyService(verifier: Verifier): Promise<Service> {
  const app = Fastify();
  app.post('/notes', { preHandler: onFastify.requireCapability(verifier, requirement) }, async (request) => whoFor(onFastify.capabilityOf(request)));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { name: 'fastify', url, close: () => app.close() };
}

async function honoService(verifier: Verifier): Promise<Service> {
  const app = new Hono<{ Variables: onHono.CapabilityVariables }>();
  app.post('/notes', onHono.requireCapability(verifier, requirement), (c) => c.json(whoFor(c.get('capability'))));
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
  await new Promise((resolve) => server.once('listening', resolve));
  return { name: 'hono', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => closing(server) };
}

test('Express, Fastify and Hono services accept Writ capabilities for their tool and refuse the rest', async (t) => {
  const issuer = await startWritWithCapabilities();
  t.after(() => issuer.stop());
  const live = await issuer.mint(TOOL);
  const doomed = await issuer.mint(TOOL);
  const elsewhere = await issuer.mint(OTHER_TOOL);
  const forged = issuer.forge(live);

  const services: Service[] = [];
  for (const start of [expressService, fastifyService, honoService]) {
    // Each service is its own downstream party: its own verifier, keys and feed.
    const verifier = createVerifier({ issuer: issuer.writ.issuer, audience: issuer.writ.executorResource, keyRefreshIntervalSec: 0 });
    const service = await start(verifier);
    t.after(async () => { verifier.close(); await service.close(); });
    services.push(service);
    const call = (authorization?: string) => fetch(`${service.url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
      body: JSON.stringify({ input: { title: 't', body: 'b' }, user: 'usr_someone_else' }),
    });

    await t.test(`${service.name}: a JWT and a Biscuit reach the handler, which sees the capability's principal`, async () => {
      for (const token of [live.jwt, live.biscuit]) {
        const response = await call(`Bearer ${token}`);
        assert.equal(response.status, 200, await response.clone().text());
        const body = (await response.json()) as ReturnType<typeof whoFor>;
        assert.equal(body.sub, issuer.seeded.user.id);
        assert.equal(body.principal, 'user');
        assert.equal(body.org, issuer.seeded.org.id);
        assert.deepEqual(body.via, [issuer.seeded.agent.client_id]);
      }
    });

    await t.test(`${service.name}: no token and a forged one get 401 with an RFC 6750 challenge naming the metadata`, async () => {
      const missing = await call();
      assert.equal(missing.status, 401);
      const bare = missing.headers.get('www-authenticate') ?? '';
      assert.match(bare, /^Bearer resource_metadata="https:\/\/notes\.example\/\.well-known\/oauth-protected-resource"/);
      assert.doesNotMatch(bare, /error=/, 'RFC 6750 §3.1: no error code without credentials');

      const refused = await call(`Bearer ${forged}`);
      assert.equal(refused.status, 401);
      const challenge = refused.headers.get('www-authenticate') ?? '';
      assert.match(challenge, /^Bearer error="invalid_token", error_description="[^"]+"/);
      assert.match(challenge, new RegExp(`resource_metadata="${METADATA.replace(/[./]/g, '\\$&')}"`));
      assert.equal(((await refused.json()) as { error: string }).error, 'invalid_token');
    });

    await t.test(`${service.name}: a capability for another tool gets 403 insufficient_scope naming the scope`, async () => {
      for (const token of [elsewhere.jwt, elsewhere.biscuit]) {
        const response = await call(`Bearer ${token}`);
        assert.equal(response.status, 403);
        const challenge = response.headers.get('www-authenticate') ?? '';
        assert.match(challenge, /^Bearer error="insufficient_scope"/);
        assert.match(challenge, new RegExp(`scope="tool:${TOOL}"`));
      }
    });

    await t.test(`${service.name}: before its grant is revoked, the doomed capability works`, async () => {
      for (const token of [doomed.jwt, doomed.biscuit]) assert.equal((await call(`Bearer ${token}`)).status, 200);
    });
  }

  await t.test('once the feed says a grant is revoked, every service refuses its capabilities', async () => {
    await issuer.revoke(doomed);
    for (const token of [doomed.jwt, doomed.biscuit]) {
      for (const service of services) {
        await waitFor(`${service.name} refuses the revoked capability`, async () => {
          const response = await fetch(`${service.url}/notes`, {
            method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}',
          });
          if (response.status !== 401) return false;
          assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
          assert.equal(((await response.json()) as { error: string }).error, 'revoked');
          return true;
        });
      }
    }
  });
});
