// The identity provider and cross-app access through the admin API: strict input that changes
// nothing when refused, secrets sealed and never shown or logged, one org never reaching another's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { startIdp } from './support/idp.ts';

test('the identity provider is set, read and removed through the admin API; bad input changes nothing', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const idp = await startIdp({ accounts: [], clients: [] });
  t.after(() => idp.close());
  const a = await seedOrg(writ, { name: 'A' });
  const b = await seedOrg(writ, { name: 'B' });
  const secret = 'a-client-secret-that-must-never-show';
  const good = { issuer: idp.issuer, client_id: 'writ', client_secret: secret, domains: ['a.example'] };
  const path = `/orgs/${a.org.id}/identity-provider`;

  assert.equal((await writ.admin('GET', path)).status, 404);
  const bad: Array<[string, unknown]> = [
    ['an http issuer off loopback', { ...good, issuer: 'http://idp.example' }],
    ['an issuer with a query', { ...good, issuer: `${idp.issuer}?x=1` }],
    ['an unknown field', { ...good, org_id: b.org.id }],
    ['no secret for client_secret_basic', { issuer: idp.issuer, client_id: 'writ' }],
    ['private_key_jwt without a key', { issuer: idp.issuer, client_id: 'writ', token_endpoint_auth_method: 'private_key_jwt' }],
    ['a public key as the private key', { issuer: idp.issuer, client_id: 'writ', token_endpoint_auth_method: 'private_key_jwt', private_key_jwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } }],
    ['scopes without openid', { ...good, scopes: ['email'] }],
    ['a domain that is not one', { ...good, domains: ['not a domain'] }],
    ['a max age over a day', { ...good, sensitive_max_age: 86_401 }],
    ['not JSON', '{"issuer":'],
  ];
  for (const [why, body] of bad) {
    const res = await writ.admin('PUT', path, body);
    assert.equal(res.status, 400, `${why}: ${res.text}`);
    assert.equal(res.json.error, 'invalid_request', why);
  }
  assert.equal((await writ.admin('GET', path)).status, 404, 'nothing was written');
  assert.equal((await writ.admin('GET', `/orgs/${a.org.id}/audit?type=sso.configured`)).json.events.length, 0);

  const put = await writ.admin('PUT', path, good);
  assert.equal(put.status, 200, put.text);
  const shown = (await writ.admin('GET', path));
  for (const text of [put.text, shown.text, JSON.stringify((await writ.admin('GET', `/orgs/${a.org.id}/audit`)).json), ...writ.logs]) {
    assert.ok(!text.includes(secret), 'the client secret is never shown, audited or logged');
  }
  assert.equal(shown.json.client_secret_set, true);
  assert.equal(shown.json.sealed_client_secret, undefined);
  assert.equal(shown.json.backchannel_logout_uri, `${writ.issuer}/sso/backchannel-logout/${a.org.id}`);
  assert.deepEqual(shown.json.scopes, ['openid', 'email', 'profile']);
  assert.equal(shown.json.local_passwords, true);
  // The provider is on loopback and this Writ's operator allowed no private host: no request goes there.
  const start = await fetch(`${writ.issuer}/sso/start?org=${a.org.id}`, { redirect: 'manual' });
  assert.equal(start.status, 403);

  // private_key_jwt: the private key is sealed, its public half shown.
  const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const pk = await writ.admin('PUT', path, { issuer: idp.issuer, client_id: 'writ', token_endpoint_auth_method: 'private_key_jwt', private_key_jwk: { ...jwk, kid: 'k1' } });
  assert.equal(pk.status, 200, pk.text);
  assert.equal(pk.json.public_jwk.d, undefined);
  assert.equal(pk.json.public_jwk.kid, 'k1');
  assert.ok(!pk.text.includes(String(jwk.d)));

  // Another org's id in the path reaches only that org; an unknown org is 404.
  assert.equal((await writ.admin('GET', `/orgs/${b.org.id}/identity-provider`)).status, 404);
  assert.equal((await writ.admin('PUT', '/orgs/org_nope/identity-provider', good)).status, 404);
  // The admin token is required.
  const anonymous = await fetch(`${writ.issuer}/admin/v1${path}`);
  assert.equal(anonymous.status, 401);

  assert.equal((await writ.admin('DELETE', path)).status, 204);
  assert.equal((await writ.admin('DELETE', path)).status, 404);
  assert.equal((await writ.admin('GET', `/orgs/${a.org.id}/audit?type=sso.removed`)).json.events.length, 1);
});

test('cross-app access targets: validated, replaced whole, each audience once', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const a = await seedOrg(writ);
  const path = `/orgs/${a.org.id}/cross-app-access`;
  assert.deepEqual((await writ.admin('GET', path)).json, { org_id: a.org.id, targets: [] });
  const target = { audience: 'https://as.example', clients: { [a.agent.client_id]: 'there' }, scopes: ['read'] };
  for (const body of [
    { targets: [target, target] },
    { targets: [{ ...target, audience: 'http://as.example' }] },
    { targets: [{ ...target, clients: {} }] },
    { targets: [{ ...target, ttl: 3600 }] },
    { targets: [{ ...target, extra: true }] },
  ]) assert.equal((await writ.admin('PUT', path, body)).status, 400, JSON.stringify(body));
  const put = await writ.admin('PUT', path, { targets: [target] });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.targets[0].ttl, 300);
  assert.deepEqual(put.json.targets[0].resources, []);
  assert.equal((await writ.admin('PUT', path, { targets: [] })).status, 200);
  assert.deepEqual((await writ.admin('GET', path)).json.targets, []);
});

test('offboarding an org removes its identity provider, frees its domains and ends its cross-app targets', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const leaving = await seedOrg(writ, { name: 'Leaving' });
  const next = await seedOrg(writ, { name: 'Next' });
  const provider = { issuer: 'https://idp.example', client_id: 'writ', client_secret: 'secret', domains: ['leaving.example'], accept_id_jag: true };
  assert.equal((await writ.admin('PUT', `/orgs/${leaving.org.id}/identity-provider`, provider)).status, 200);
  assert.equal((await writ.admin('PUT', `/orgs/${leaving.org.id}/cross-app-access`, { targets: [{ audience: 'https://as.example', clients: { [leaving.agent.client_id]: 'c' } }] })).status, 200);
  assert.equal((await writ.admin('PUT', `/orgs/${next.org.id}/identity-provider`, provider)).status, 409, 'the domain is taken');
  assert.equal((await writ.admin('POST', `/orgs/${leaving.org.id}/offboard`)).status, 200);
  assert.equal((await writ.admin('GET', `/orgs/${leaving.org.id}/identity-provider`)).status, 404);
  assert.deepEqual((await writ.admin('GET', `/orgs/${leaving.org.id}/cross-app-access`)).json.targets, []);
  assert.equal((await writ.admin('PUT', `/orgs/${next.org.id}/identity-provider`, provider)).status, 200, 'the domain is free again');
});
