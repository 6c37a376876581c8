// Single sign-on where Writ authenticates to the org's provider with private_key_jwt: the private
// key an admin gave is sealed at rest and signs Writ's client assertion at the provider's token
// endpoint; a key the provider does not know signs nobody in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { httpClient } from '../support/http.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { startIdp } from './support/idp.ts';

const ecKey = (kid: string) => ({ ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid });
const publicOf = ({ d: _d, ...pub }: Record<string, unknown>) => pub;

test('single sign-on with private_key_jwt at the provider', async (t) => {
  const writ = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1' } });
  t.after(() => writ.stop());
  const org = await seedOrg(writ, { name: 'KeyCorp' });
  const registered = ecKey('writ-1');
  const idp = await startIdp({
    accounts: [
      { sub: 'idp-pat', preferred_username: 'pat', email: 'pat@keycorp.example', name: 'Pat', groups: [] },
      { sub: 'idp-mallory', preferred_username: 'john', email: 'mallory@keycorp.example', name: 'Mallory', groups: [] },
    ],
    clients: [{ client_id: 'writ-keycorp', token_endpoint_auth_method: 'private_key_jwt', redirect_uris: [`${writ.issuer}/sso/callback`], jwks: { keys: [publicOf(registered)] } }],
  });
  t.after(() => idp.close());

  const signIn = async (username = 'pat') => {
    const browser = httpClient();
    const page = await browser.follow(`${writ.issuer}/sso/start?org=${org.org.id}&next=/account`);
    assert.ok(page.url.startsWith(idp.issuer), page.url);
    const posted = await browser.request(page.url, { form: { username } });
    return browser.follow(posted.location!);
  };
  // Pat already has a Writ user with the email the provider vouches for: the sign-in links to it.
  const pat = (await writ.admin('POST', `/orgs/${org.org.id}/users`, { username: 'pat', password: 'pats-local-password', email: 'pat@keycorp.example' })).json;

  const set = (key: Record<string, unknown>) => writ.admin('PUT', `/orgs/${org.org.id}/identity-provider`, {
    issuer: idp.issuer, client_id: 'writ-keycorp', token_endpoint_auth_method: 'private_key_jwt', private_key_jwk: key, domains: ['keycorp.example'],
  });
  assert.equal((await set(registered)).status, 200);
  const done = await signIn();
  assert.equal(done.status, 200, done.text.slice(0, 300));
  assert.match(done.text, /pat at KeyCorp/);
  assert.deepEqual((await writ.admin('GET', `/orgs/${org.org.id}/users`)).json.users.filter((u: any) => u.username === 'pat').map((u: any) => u.id), [pat.id]);
  // Someone at the provider who calls themselves john is not the org's john, whose email differs.
  const impostor = await signIn('john');
  assert.equal(impostor.status, 403);
  assert.match(impostor.text, /does not vouch for their email/);

  // A key the provider never registered: the token request fails and nobody is signed in.
  assert.equal((await set(ecKey('unknown'))).status, 200);
  const refused = await signIn();
  assert.equal(refused.status, 403);
  const reasons = (await writ.admin('GET', `/orgs/${org.org.id}/audit?type=sso.signin_refused`)).json.events.map((e: any) => e.details.reason);
  assert.equal(reasons.length, 2);
  assert.match(reasons[0], /invalid_client/);
});
