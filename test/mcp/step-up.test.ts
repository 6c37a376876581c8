// Step-up from one tool to two: /mcp answers a call outside the grant with 403 insufficient_scope
// naming every scope needed; re-authorization for the union shows the person only what is new,
// and the new consent replaces the old one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auth } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { connect, mcpTestbed, MemoryClientProvider } from './support.ts';

test('step-up from one tool to two', async (t) => {
  // At first the org lets external clients list notes only.
  const bed = await mcpTestbed(t, { tools: ['demo.notes.list'], demo: true });
  if (!bed) return;
  const { writ, org, callback, mcpUrl, consents, authorize } = bed;
  const provider = new MemoryClientProvider({ redirectUrl: callback.url, name: 'Step-up client' });
  let session = await connect(mcpUrl, provider, authorize);
  assert.match(consents[0]!, /Not available to MCP clients in XCorp: .*demo\.notes\.create/);
  assert.deepEqual((await session.client.listTools()).tools.map((x) => x.name), ['demo.notes.list']);

  // The org widens the ceiling; the client's grant still covers one tool.
  assert.equal((await writ.admin('PUT', `/orgs/${org}/mcp`, { accept: 'any', tools: ['demo.notes.list', 'demo.notes.create'] })).status, 200);

  await t.test('a call outside the grant: 403 insufficient_scope naming every scope needed', async () => {
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${provider.saved!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'demo.notes.create', arguments: { title: 't', body: 'b' } } }),
    });
    assert.equal(res.status, 403);
    const challenge = res.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /error="insufficient_scope"/);
    assert.match(challenge, /scope="tool:demo\.notes\.list tool:demo\.notes\.create"/);
    assert.match(challenge, /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp"/);
  });

  await t.test('the SDK transport meets it; re-authorization for the union shows only what is new', async () => {
    // SDK 1.32.2 answers the 403 by calling auth() with the scope, which refreshes the token it
    // holds (a refresh cannot widen) and then gives up: the host application starts the
    // authorization for the union itself, with the SDK's auth().
    await assert.rejects(session.client.callTool({ name: 'demo.notes.create', arguments: { title: 't', body: 'b' } }),
      (err: unknown) => err instanceof StreamableHTTPError && err.code === 403);
    const scope = 'tool:demo.notes.list tool:demo.notes.create';
    provider.invalidateCredentials('tokens');
    assert.equal(await auth(provider, { serverUrl: mcpUrl, scope }), 'REDIRECT');
    const code = await authorize(provider.authorizationUrls.at(-1)!);
    assert.match(consents[1]!, /New:\s*demo\.notes\.create/);
    assert.match(consents[1]!, /Already allowed: demo\.notes\.list\./);
    assert.doesNotMatch(consents[1]!.split('Already allowed')[0]!, /demo\.notes\.list/);
    assert.equal(await auth(provider, { serverUrl: mcpUrl, scope, authorizationCode: code }), 'AUTHORIZED');
    session = await connect(mcpUrl, provider, authorize);
    assert.deepEqual((await session.client.listTools()).tools.map((x) => x.name).sort(), ['demo.notes.create', 'demo.notes.list']);
    const result = await session.client.callTool({ name: 'demo.notes.create', arguments: { title: 't', body: 'b' } });
    // Within the grant now: what remains is the person's demo account, not yet connected.
    assert.equal(JSON.parse((result.content as Array<{ text: string }>)[0]!.text).error.code, 'not_connected');
    const grants = (await writ.admin('GET', `/orgs/${org}/grants`)).json.grants.filter((g: any) => g.agent_id.startsWith('mcp_'));
    assert.equal(grants.filter((g: any) => !g.revoked_at).length, 1, 'the new consent replaced the old one');
    assert.equal(grants.length, 2);
  });
});
