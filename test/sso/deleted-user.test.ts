// A deleted user's identity links go with them. The provider account they signed in with belongs
// to nobody afterwards: its next sign-in provisions a fresh user just in time (a new id, nothing of
// the old one's), rather than being refused as the sign-in of a user who no longer exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ssoOrg } from './support/org.ts';

test('deleting a user removes their identity links: the same provider account then signs in as a fresh just-in-time user', async (t) => {
  const { writ, org, idp, signIn, users, audit } = await ssoOrg(t, {
    name: 'DelCorp', domain: 'delcorp.example',
    accounts: [
      { sub: 'idp-sam', preferred_username: 'sam', email: 'sam@delcorp.example', name: 'Sam', groups: [] },
      { sub: 'idp-kim', preferred_username: 'kim', email: 'kim@delcorp.example', name: 'Kim', groups: [] },
    ],
  });
  const link = (sub: string) => writ.store.sso.getLink(org.org.id, idp.issuer, sub);

  // Sam and Kim sign in: each is provisioned and linked.
  for (const name of ['sam', 'kim']) {
    const first = await signIn(name);
    assert.equal(first.status, 200, first.text.slice(0, 300));
    assert.match(first.text, new RegExp(`${name} at DelCorp`));
  }
  const sam = (await users()).find((u) => u.username === 'sam');
  const kim = (await users()).find((u) => u.username === 'kim');
  assert.equal((await link('idp-sam'))?.user_id, sam.id);

  const deleted = await writ.admin('DELETE', `/orgs/${org.org.id}/users/${sam.id}`);
  assert.ok(deleted.status >= 200 && deleted.status < 300, deleted.text);
  assert.equal(await link('idp-sam'), undefined, 'the deleted user\'s link is gone');
  assert.equal((await link('idp-kim'))?.user_id, kim.id, 'another user\'s link stays');
  const [event] = (await audit('user.deleted')).filter((e) => e.subject.user_id === sam.id);
  assert.equal(event?.details.identity_links_removed, 1, 'the one event counts the links removed');

  // The same provider account signs in again: a fresh user, linked anew, never the deleted one.
  const again = await signIn('sam');
  assert.equal(again.status, 200, again.text.slice(0, 300));
  assert.match(again.text, /sam at DelCorp/);
  const fresh = (await users()).filter((u) => u.username === 'sam');
  assert.equal(fresh.length, 1);
  assert.notEqual(fresh[0].id, sam.id, 'a new user, not the deleted one');
  assert.equal((await link('idp-sam'))?.user_id, fresh[0].id);
  assert.deepEqual((await audit('sso.signin_refused')).map((e) => e.details.reason), []);
  assert.equal((await audit('user.provisioned')).length, 3, 'sam, kim, then sam again');

  // Disabling (not deleting) keeps the link, so a disabled user is still found and refused.
  assert.equal((await writ.admin('POST', `/orgs/${org.org.id}/users/${kim.id}/disable`)).status, 200);
  assert.equal((await link('idp-kim'))?.user_id, kim.id);
});
