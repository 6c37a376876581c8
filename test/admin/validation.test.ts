import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestWrit } from '../support/writ.ts';

test('admin API refuses bad input with RFC-style errors and stores nothing', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const org = (await writ.admin('POST', '/orgs', { name: 'XCorp' })).json;
  const counts = async () => ({
    orgs: (await writ.admin('GET', '/orgs')).json.orgs.length,
    users: (await writ.admin('GET', `/orgs/${org.id}/users`)).json.users.length,
    agents: (await writ.admin('GET', `/orgs/${org.id}/agents`)).json.agents.length,
  });
  const before = await counts();

  await t.test('no token, a wrong token, another scheme: 401', async () => {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${writ.adminToken}`, `Bearer ${writ.adminToken}x`]) {
      const res = await fetch(`${writ.issuer}/admin/v1/orgs`, { headers: authorization ? { authorization } : {} });
      assert.equal(res.status, 401);
      const body = await res.json();
      assert.equal(body.error, 'unauthorized');
      assert.ok(res.headers.get('www-authenticate')?.startsWith('Bearer'));
    }
  });

  const cases: Array<[string, string, unknown, number, string]> = [
    ['wrong type', '/orgs', { name: 42 }, 400, 'invalid_request'],
    ['unknown field', '/orgs', { name: 'A', id: 'org_mine' }, 400, 'invalid_request'],
    ['operator-like value', '/orgs', { name: { $gt: '' } }, 400, 'invalid_request'],
    ['over-long string', '/orgs', { name: 'x'.repeat(10_000) }, 400, 'invalid_request'],
    ['not JSON', '/orgs', '{"name":', 400, 'invalid_request'],
    ['an array body', '/orgs', [{ name: 'A' }], 400, 'invalid_request'],
    ['user: operator in username', `/orgs/${org.id}/users`, { username: { $ne: null }, password: 'long enough password' }, 400, 'invalid_request'],
    ['user: mass assignment of org_id', `/orgs/${org.id}/users`, { username: 'eve', password: 'long enough password', org_id: 'org_other' }, 400, 'invalid_request'],
    ['user: short password', `/orgs/${org.id}/users`, { username: 'eve', password: 'short' }, 400, 'invalid_request'],
    ['user: unknown role', `/orgs/${org.id}/users`, { username: 'eve', password: 'long enough password', roles: ['root'] }, 400, 'invalid_request'],
    ['agent: bad tool name', `/orgs/${org.id}/agents`, { name: 'A', tools: ['../etc'] }, 400, 'invalid_request'],
    ['agent: http redirect off loopback', `/orgs/${org.id}/agents`, { name: 'A', tools: ['demo.notes.create'], redirect_uris: ['http://evil.example/cb'] }, 400, 'invalid_request'],
    ['agent: private_key_jwt without jwks', `/orgs/${org.id}/agents`, { name: 'A', tools: ['demo.notes.create'], token_endpoint_auth_method: 'private_key_jwt' }, 400, 'invalid_request'],
    ['agent: private key in jwks', `/orgs/${org.id}/agents`, { name: 'A', tools: ['demo.notes.create'], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'a', d: 'b' }] } }, 400, 'invalid_request'],
    ['agent: client secret supplied', `/orgs/${org.id}/agents`, { name: 'A', tools: ['demo.notes.create'], client_secret: 'mine' }, 400, 'invalid_request'],
    ['unknown org', '/orgs/org_nope/users', { username: 'eve', password: 'long enough password' }, 404, 'not_found'],
  ];
  for (const [name, path, body, status, error] of cases) {
    await t.test(name, async () => {
      const res = await writ.admin('POST', path, body);
      assert.equal(res.status, status, res.text);
      assert.equal(res.json.error, error);
      assert.equal(typeof res.json.error_description, 'string');
      assert.ok(!/at .*\.ts:\d+/.test(res.text), 'no stack trace');
    });
  }

  await t.test('a 2 MiB body: 413', async () => {
    const res = await writ.admin('POST', '/orgs', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }));
    assert.equal(res.status, 413);
    assert.equal(res.json.error, 'payload_too_large');
  });

  await t.test('a non-JSON content type: 415', async () => {
    const res = await fetch(`${writ.issuer}/admin/v1/orgs`, { method: 'POST', headers: { authorization: `Bearer ${writ.adminToken}`, 'content-type': 'text/plain' }, body: 'name=A' });
    assert.equal(res.status, 415);
  });

  await t.test('duplicate username in one org: 409', async () => {
    assert.equal((await writ.admin('POST', `/orgs/${org.id}/users`, { username: 'dup', password: 'long enough password' })).status, 201);
    const again = await writ.admin('POST', `/orgs/${org.id}/users`, { username: 'dup', password: 'another password' });
    assert.equal(again.status, 409);
    assert.equal(again.json.error, 'conflict');
  });

  const after = await counts();
  assert.deepEqual(after, { ...before, users: before.users + 1 }, 'only the one valid user was stored');
});

test('an agent\'s client secret is shown once and never again', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const org = (await writ.admin('POST', '/orgs', { name: 'XCorp' })).json;
  const created = await writ.admin('POST', `/orgs/${org.id}/agents`, { name: 'A', tools: ['demo.notes.create'] });
  assert.equal(created.status, 201);
  assert.match(created.json.client_secret, /^[A-Za-z0-9_-]{43}$/);
  const listed = await writ.admin('GET', `/orgs/${org.id}/agents`);
  assert.ok(!listed.text.includes(created.json.client_secret));
  assert.ok(!listed.text.includes('"client_secret"') && !listed.text.includes('client_secret_digest'));
  const one = await writ.admin('GET', `/orgs/${org.id}/agents/${created.json.client_id}`);
  assert.ok(!one.text.includes('"client_secret"') && !one.text.includes('client_secret_digest'));
  // Another org cannot read it.
  const other = (await writ.admin('POST', '/orgs', { name: 'Other' })).json;
  assert.equal((await writ.admin('GET', `/orgs/${other.id}/agents/${created.json.client_id}`)).status, 404);
});
