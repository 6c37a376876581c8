// An MCP server built with the MCP TypeScript SDK (McpServer, Streamable HTTP on Express),
// protected by the SDK's requireBearerAuth with Writ's token verifier, called by the SDK's client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createVerifier } from '../../src/verifier/index.ts';
import { mcpTokenVerifier } from '../../src/verifier/mcp.ts';
import { startWritWithCapabilities, OTHER_TOOL, TOOL } from './writ-capabilities.ts';

const METADATA = 'https://notes.example/.well-known/oauth-protected-resource/mcp';

test('an MCP SDK server answers tools/list and tools/call for a Writ capability, and refuses without one', async (t) => {
  const issuer = await startWritWithCapabilities();
  t.after(() => issuer.stop());
  const verifier = createVerifier({ issuer: issuer.writ.issuer, audience: issuer.writ.executorResource });
  t.after(() => verifier.close());

  const app = express();
  app.use(express.json());
  app.post('/mcp', requireBearerAuth({ verifier: mcpTokenVerifier(verifier, { requiredTool: TOOL }), resourceMetadataUrl: METADATA }), async (req, res) => {
    // Stateless: one server and transport per request.
    const server = new McpServer({ name: 'notes', version: '1.0.0' });
    server.registerTool('create_note', { description: 'Create a note' }, async (extra) => ({
      content: [{ type: 'text', text: JSON.stringify({ for: extra.authInfo?.extra?.sub, org: extra.authInfo?.extra?.org_id, scopes: extra.authInfo?.scopes }) }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => { void transport.close(); void server.close(); });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const listener = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listener.once('listening', resolve));
  t.after(() => new Promise<void>((resolve) => listener.close(() => resolve())));
  const url = new URL(`http://127.0.0.1:${(listener.address() as AddressInfo).port}/mcp`);

  const connect = async (token: string) => {
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    return client;
  };
  const post = (headers: Record<string, string>) => fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });

  const live = await issuer.mint(TOOL);
  for (const [format, token] of [['JWT', live.jwt], ['Biscuit', live.biscuit]] as const) {
    await t.test(`a ${format} capability lists and calls the tool, which sees whom it acts for`, async () => {
      const client = await connect(token);
      try {
        assert.deepEqual((await client.listTools()).tools.map((tool) => tool.name), ['create_note']);
        const result = await client.callTool({ name: 'create_note', arguments: {} });
        const text = (result.content as Array<{ type: string; text: string }>)[0]!.text;
        assert.deepEqual(JSON.parse(text), { for: issuer.seeded.user.id, org: issuer.seeded.org.id, scopes: [`tool:${TOOL}`] });
      } finally {
        await client.close();
      }
    });
  }

  await t.test('no capability: 401 invalid_token with the resource metadata (RFC 9728)', async () => {
    const response = await post({});
    assert.equal(response.status, 401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer error="invalid_token"/);
    assert.ok(challenge.includes(`resource_metadata="${METADATA}"`), challenge);

    const forged = await post({ authorization: `Bearer ${issuer.forge(live)}` });
    assert.equal(forged.status, 401);
    assert.ok((forged.headers.get('www-authenticate') ?? '').includes(`resource_metadata="${METADATA}"`));
  });

  await t.test('a capability for another tool: 403 insufficient_scope', async () => {
    const elsewhere = await issuer.mint(OTHER_TOOL);
    for (const token of [elsewhere.jwt, elsewhere.biscuit]) {
      const response = await post({ authorization: `Bearer ${token}` });
      assert.equal(response.status, 403);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="insufficient_scope"/);
      assert.equal(((await response.json()) as { error: string }).error, 'insufficient_scope');
    }
  });
});
