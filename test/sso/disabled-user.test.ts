// A disabled user stays disabled whoever the provider says they are. Single sign-on finds them
// with or without an identity link, refuses the sign-in with a reason that says so (on the record
// as sso.signin_refused), provisions nobody and links nothing; once re-enabled they sign in again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ssoOrg } from './support/org.ts';

test('single sign-on refuses a disabled user, linked or not, and provisions nobody in their place', async (t) => {
  const { writ, org, signIn, users, audit } = await ssoOrg(t, {
    name: 'DisCorp', domain: 'discorp.example',
    accounts: [{ sub: 'idp-pat', preferred_username: 'pat', email: 'pat@discorp.example', name: 'Pat', groups: [] }],
  });
  const disabled = /the user is disabled in this organisation/;

  // Pat has a Writ user (the email the provider vouches for) but no identity link yet, and is disabled.
  const created = await writ.admin('POST', `/orgs/${org.org.id}/users`, { username: 'pat', password: 'pats-local-password', email: 'pat@discorp.example' });
  assert.equal(created.status, 201, created.text);
  const pat = created.json;
  assert.equal((await writ.admin('POST', `/orgs/${org.org.id}/users/${pat.id}/disable`)).status, 200);
  const before = (await users()).length;

  const unlinked = await signIn('pat');
  assert.equal(unlinked.status, 403, unlinked.text.slice(0, 300));
  assert.match(unlinked.text, disabled);
  assert.doesNotMatch(unlinked.text, /pat at DisCorp/);
  assert.equal((await users()).length, before, 'nobody was provisioned in pat\'s place');
  assert.ok((await users()).find((u) => u.id === pat.id).disabled_at, 'pat stays disabled');
  assert.deepEqual(await audit('user.provisioned'), []);
  assert.match((await audit('sso.signin_refused'))[0].details.reason, disabled);

  // Re-enabled, pat signs in and is linked; disabled again, the link finds pat and refuses the same way.
  assert.equal((await writ.admin('POST', `/orgs/${org.org.id}/users/${pat.id}/enable`)).status, 200);
  const enabled = await signIn('pat');
  assert.equal(enabled.status, 200, enabled.text.slice(0, 300));
  assert.match(enabled.text, /pat at DisCorp/);
  assert.equal((await writ.admin('POST', `/orgs/${org.org.id}/users/${pat.id}/disable`)).status, 200);
  const linked = await signIn('pat');
  assert.equal(linked.status, 403);
  assert.match(linked.text, disabled);

  const reasons = (await audit('sso.signin_refused')).map((e) => e.details.reason);
  assert.equal(reasons.length, 2);
  for (const reason of reasons) assert.match(reason, disabled);
  assert.deepEqual((await users()).filter((u) => u.username === 'pat').map((u) => u.id), [pat.id]);
  assert.equal((await audit('signin.succeeded')).filter((e) => e.details.method === 'sso').length, 1, 'only the sign-in while enabled');
});
