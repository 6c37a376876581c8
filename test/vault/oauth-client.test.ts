import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exchangeCode } from '../../src/vault/oauth-client.ts';

async function tokenEndpoint(respond: (body: string) => { status: number; type: string; text: string }) {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { const r = respond(body); res.writeHead(r.status, { 'content-type': r.type }).end(r.text); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`, close: () => server.close() };
}

const config = (token_url: string) => ({
  authorization_url: 'https://provider.example/authorize', token_url, client_id: 'c', client_secret: 's', token_endpoint_auth_method: 'client_secret_post' as const,
});

test('granted scopes are read whether the provider sends a string or a JSON array (Linear)', async (t) => {
  const asArray = await tokenEndpoint(() => ({ status: 200, type: 'application/json', text: JSON.stringify({ access_token: 'at-1', token_type: 'Bearer', scope: ['read', 'write'] }) }));
  t.after(asArray.close);
  const tokens = await exchangeCode(config(asArray.url), { code: 'c', redirect_uri: 'https://writ.example/cb', code_verifier: 'v' });
  assert.deepEqual(tokens.scopes, ['read', 'write']);

  const asString = await tokenEndpoint(() => ({ status: 200, type: 'application/json', text: JSON.stringify({ access_token: 'at-2', token_type: 'Bearer', scope: 'read,write' }) }));
  t.after(asString.close);
  assert.deepEqual((await exchangeCode(config(asString.url), { code: 'c', redirect_uri: 'https://writ.example/cb', code_verifier: 'v' })).scopes, ['read', 'write']);
});
