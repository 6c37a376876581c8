import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestWrit } from '../support/writ.ts';

const connector = (token_url: string, revocation_url?: string) => ({
  display_name: 'Acme Notes',
  auth: {
    type: 'oauth2', authorization_url: 'https://auth.acme.example/authorize', token_url, ...(revocation_url ? { revocation_url } : {}),
    client_id: 'acme-client', client_secret: 'acme-secret-value', token_endpoint_auth_method: 'client_secret_post', scopes: ['notes:write'],
  },
  api_base_url: 'https://api.acme.example',
  tools: { 'notes.create': { description: 'Create a note', method: 'POST', path: '/notes', scopes: ['notes:write'], input_schema: { type: 'object' } } },
});

test('an org connector\'s token and revocation endpoints get the egress rules: no private, loopback or metadata targets', async (t) => {
  const writ = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: '10.9.9.9' } });
  t.after(() => writ.stop());
  const org = (await writ.admin('POST', '/orgs', { name: 'XCorp' })).json.id;
  const put = (body: unknown) => writ.admin('PUT', `/orgs/${org}/connectors/acme`, body);

  for (const target of ['https://10.0.0.1/token', 'https://127.0.0.1/token', 'https://169.254.169.254/latest', 'https://metadata.google.internal/token', 'https://localhost/token']) {
    const res = await put(connector(target));
    assert.equal(res.status, 400, `${target}: ${res.text}`);
    assert.equal(res.json.error, 'invalid_request');
    const revocation = await put(connector('https://auth.acme.example/token', target));
    assert.equal(revocation.status, 400, `revocation ${target}: ${revocation.text}`);
  }
  assert.deepEqual((await writ.admin('GET', `/orgs/${org}/connectors`)).json.connectors.filter((c: any) => c.origin === 'org'), [], 'nothing was stored');
  const ok = await put(connector('https://auth.acme.example/token', 'https://auth.acme.example/revoke'));
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.redirect_uri, `${writ.issuer}/connect/callback`);
  assert.ok(!ok.text.includes('acme-secret-value'), 'the client secret is never returned');
  // An operator-allowed private host is accepted.
  assert.equal((await put(connector('https://10.9.9.9/token'))).status, 200);
});
