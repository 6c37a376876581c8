// The same SDK client against the documented third-party MCP server (docs/examples/mcp-server.ts):
// protected by @writ/verifier's MCP adapter, registered with Writ as a resource server. Its tokens
// are Writ capabilities for exactly its resource; Writ's own /mcp refuses them and it refuses /mcp's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDocsServer } from '../../docs/examples/mcp-server.ts';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { waitFor } from '../support/wait.ts';
import { connect, mcpTestbed, MemoryClientProvider } from './support.ts';

test('the SDK client against a third-party MCP server protected by Writ', async (t) => {
  const bed = await mcpTestbed(t, { tools: ['docs.search'] });
  if (!bed) return;
  const { writ, seeded, org, callback, consents, authorize } = bed;
  const docs = await startDocsServer({ issuer: writ.issuer });
  t.after(() => docs.close());
  assert.equal((await writ.admin('POST', '/resource-servers', { identifier: docs.resource, name: 'Team docs', org_id: org })).status, 201);

  const provider = new MemoryClientProvider({ redirectUrl: callback.url, name: 'Docs reader' });
  const session = await connect(new URL(docs.resource), provider, (url) => {
    assert.equal(url.searchParams.get('resource'), docs.resource);
    assert.equal(url.searchParams.get('scope'), 'tool:docs.search');
    return authorize(url);
  });
  t.after(() => session.client.close());
  assert.match(consents[0]!, /docs\.search/);

  await t.test('tools/list and tools/call, as the person of the org', async () => {
    assert.deepEqual((await session.client.listTools()).tools.map((x) => x.name), ['docs.search']);
    const result = await session.client.callTool({ name: 'docs.search', arguments: { query: 'receipts' } });
    const answer = JSON.parse((result.content as Array<{ text: string }>)[0]!.text);
    assert.equal(answer.for, seeded.user.id);
    assert.equal(answer.org, org);
    assert.deepEqual(answer.pages.map((p: { title: string }) => p.title), ['Expenses']);
  });

  await t.test('its token is a capability for exactly its resource: Writ\'s /mcp refuses it', async () => {
    const token = provider.saved!.access_token;
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.equal(claims.aud, docs.resource);
    assert.equal(claims.sub, seeded.user.id);
    assert.match(claims.client_id, /^mcp_/);
    assert.deepEqual(claims.authorization_details, [{ type: 'tool_access', tools: ['docs.search'] }]);
    const res = await fetch(`${writ.issuer}/mcp`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 401);
  });

  await t.test('after a key rotation, the next token is signed with the new key and verifies through the published JWKS', async () => {
    const before = decodeProtectedHeader(provider.saved!.access_token);
    const rotated = await writ.admin('POST', '/keys/rotate');
    assert.equal(rotated.status, 200, rotated.text);
    const jwks = createLocalJWKSet(await (await fetch(`${writ.issuer}/jwks`)).json() as JSONWebKeySet);
    const res = await fetch(`${writ.issuer}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: provider.saved!.refresh_token!, client_id: provider.client!.client_id, resource: docs.resource }),
    });
    const refreshed = await res.json() as { access_token: string; refresh_token?: string };
    assert.equal(res.status, 200, JSON.stringify(refreshed));
    const header = decodeProtectedHeader(refreshed.access_token);
    assert.notEqual(header.kid, before.kid, 'signed with the key Writ started with');
    assert.ok((rotated.json.kids as string[]).includes(header.kid!), `${header.kid} is not among the rotated keys ${rotated.json.kids}`);
    const { payload } = await jwtVerify(refreshed.access_token, jwks, { issuer: writ.issuer, audience: docs.resource, algorithms: ['EdDSA'] });
    assert.equal(payload.sub, seeded.user.id);
    // The third-party server's verifier fetches the JWKS again on the unknown kid (at most once per
    // its refresh interval) and accepts the token.
    await waitFor('the third-party server accepts the token signed with the new key', async () => {
      const listed = await fetch(docs.resource, {
        method: 'POST', headers: { authorization: `Bearer ${refreshed.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      await listed.body?.cancel();
      return listed.status === 200;
    }, { everyMs: 200 });
    provider.saveTokens({ ...provider.saved!, ...refreshed, token_type: 'Bearer' });
  });

  await t.test('revoking the grant reaches the third-party server through the feed', async () => {
    const grant = (await writ.admin('GET', `/orgs/${org}/grants`)).json.grants.find((g: any) => g.agent_id.startsWith('mcp_'));
    assert.equal((await writ.admin('DELETE', `/orgs/${org}/grants/${grant.id}`)).status, 204);
    const token = provider.saved!.access_token;
    await waitFor('the third-party server refuses the revoked capability', async () => {
      const res = await fetch(docs.resource, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
      return res.status === 401 && /invalid_token/.test(res.headers.get('www-authenticate') ?? '');
    });
  });
});
