// The console's access rules over plain HTTP (no browser needed): who gets in, which org they
// see, and that every state change needs the session's CSRF token and is audited as the admin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { httpClient, parseForm, parseForms, type HttpClient } from '../support/http.ts';
import { delegate } from '../support/delegation.ts';
import { seedOrg, startTestWrit, type TestWrit } from '../support/writ.ts';

const NOTES = [{ type: 'tool_access', tools: ['demo.notes.create'] }];

async function addAdmin(writ: TestWrit, org_id: string, username = 'alice') {
  const password = 'admin horse battery staple';
  const res = await writ.admin('POST', `/orgs/${org_id}/users`, { username, password, roles: ['admin'] });
  assert.equal(res.status, 201, res.text);
  return { ...res.json, password } as { id: string; username: string; password: string };
}

/** Signs in through the console's sign-in page, the way a person would. */
async function signIn(writ: TestWrit, org_id: string, user: { username: string; password: string }): Promise<HttpClient> {
  const browser = httpClient();
  // The console sends people to the account page's sign-in, which returns them to the console.
  const page = await browser.follow(`${writ.issuer}/console?org=${org_id}`);
  assert.equal(page.status, 200);
  assert.equal(new URL(page.url).pathname, '/account');
  const form = parseForm(page.text, '/account/signin');
  const posted = await browser.request(new URL(form.action, page.url), { form: { ...form.hidden, username: user.username, password: user.password } });
  assert.equal(posted.status, 303, posted.text);
  assert.equal(posted.location, `${writ.issuer}/console`);
  return browser;
}

test('/account/signin?next=/console lands an admin on the console of their own org', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const alice = await addAdmin(writ, seeded.org.id);
  const browser = await signIn(writ, seeded.org.id, alice);
  const page = await browser.request(`${writ.issuer}/console`);
  assert.equal(page.status, 200);
  assert.match(page.text, /<h1>XCorp: agents and grants<\/h1>/);
  assert.match(page.text, /Content agent/);
  assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.match(page.text, /href="\/account"/);
  // And the admin's own page links back to the console.
  assert.match((await browser.request(`${writ.issuer}/account`)).text, /<a href="\/console">Admin console of XCorp<\/a>/);
});

test('a wrong password on the way to the console keeps the way back', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const alice = await addAdmin(writ, seeded.org.id);
  const browser = httpClient();
  const page = await browser.follow(`${writ.issuer}/console?org=${seeded.org.id}`);
  const form = parseForm(page.text, '/account/signin');
  const wrong = await browser.request(new URL(form.action, page.url), { form: { ...form.hidden, username: alice.username, password: 'not it' } });
  assert.equal(wrong.status, 401);
  const again = parseForm(wrong.text, '/account/signin');
  const right = await browser.request(new URL(again.action, wrong.url), { form: { ...again.hidden, username: alice.username, password: alice.password } });
  assert.equal(right.status, 303);
  assert.equal(right.location, `${writ.issuer}/console`);
  // A member's own page has no console link.
  const member = httpClient();
  const memberPage = await member.follow(`${writ.issuer}/console?org=${seeded.org.id}`);
  const memberForm = parseForm(memberPage.text, '/account/signin');
  await member.request(new URL(memberForm.action, memberPage.url), { form: { ...memberForm.hidden, username: seeded.user.username, password: seeded.user.password } });
  const own = await member.request(`${writ.issuer}/account`);
  assert.equal(own.status, 200);
  assert.doesNotMatch(own.text, /Admin console/);
});

test('an admin of org A never sees org B, whatever the URL says', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const a = await seedOrg(writ, { name: 'Acme' });
  const b = await seedOrg(writ, { name: 'Bravo' });
  const runB = await delegate(writ, b, { authorization_details: NOTES });
  const grantB = (await oauth.tokenIntrospection(runB.config, runB.tokens!.access_token)).auth_event_id as string;
  const alice = await addAdmin(writ, a.org.id);
  const browser = await signIn(writ, a.org.id, alice);

  for (const path of ['/console', `/console?org=${b.org.id}`, '/console/policies', '/console/audit', `/console/audit?grant_id=${grantB}`]) {
    const page = await browser.request(`${writ.issuer}${path}`);
    assert.equal(page.status, 200, path);
    assert.doesNotMatch(page.text, /Bravo/, path);
    assert.ok(!page.text.includes(grantB) || path.includes(grantB), path);
    assert.ok(!page.text.includes(b.user.id), path);
  }
  const audit = await browser.request(`${writ.issuer}/console/audit?grant_id=${grantB}`);
  assert.match(audit.text, /No events match/);

  // Revoking B's grant with A's valid CSRF token: not found, and B's token still works.
  const csrf = parseForm((await browser.request(`${writ.issuer}/console/policies`)).text, '/console/policies/dry-run').hidden.csrf!;
  const res = await browser.request(`${writ.issuer}/console/grants/${grantB}/revoke`, { form: { csrf } });
  assert.equal(res.status, 404);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  assert.equal((await oauth.tokenIntrospection(runB.config, runB.tokens!.access_token)).active, true);

  // A dry run naming B's agent is refused as unknown.
  const dry = await browser.request(`${writ.issuer}/console/policies/dry-run`, { form: { csrf, agent_id: b.agent.client_id, user_id: '', tools: 'demo.notes.create', resources: '', audience: '' } });
  assert.equal(dry.status, 404);
  assert.match(dry.text, /No such agent in this organisation/);
});

test('members are turned away; revoking needs the CSRF token and is audited as the admin user', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: NOTES });
  const grant = (await oauth.tokenIntrospection(run.config, run.tokens!.access_token)).auth_event_id as string;

  // The member who delegated is signed in (through consent) but is not an admin.
  const member = await run.browser.request(`${writ.issuer}/console`);
  assert.equal(member.status, 403);
  assert.match(member.text, /Only administrators/);
  assert.doesNotMatch(member.text, new RegExp(grant));
  const memberPost = await run.browser.request(`${writ.issuer}/console/grants/${grant}/revoke`, { form: { csrf: 'x' } });
  assert.equal(memberPost.status, 403);

  // Nobody signed in: POST refused, GET sent to the sign-in.
  const anonymous = httpClient();
  assert.equal((await anonymous.request(`${writ.issuer}/console/grants/${grant}/revoke`, { form: {} })).status, 401);
  const redirected = await anonymous.request(`${writ.issuer}/console/audit`);
  assert.equal(redirected.status, 303);
  assert.equal(redirected.location, `${writ.issuer}/console`);

  const alice = await addAdmin(writ, seeded.org.id);
  const browser = await signIn(writ, seeded.org.id, alice);
  const page = await browser.request(`${writ.issuer}/console`);
  const form = parseForms(page.text).find((f) => f.action.includes(`/grants/${grant}/revoke`))!;
  assert.ok(form, 'a Revoke form for the grant');

  const forged = await browser.request(new URL(form.action, page.url), { form: { csrf: 'not-the-token' } });
  assert.equal(forged.status, 403);
  // A token from another session does not work either.
  const other = await signIn(writ, seeded.org.id, alice);
  const otherCsrf = parseForm((await other.request(`${writ.issuer}/console/policies`)).text, 'dry-run').hidden.csrf!;
  assert.notEqual(otherCsrf, form.hidden.csrf);
  assert.equal((await browser.request(new URL(form.action, page.url), { form: { csrf: otherCsrf } })).status, 403);
  assert.equal((await oauth.tokenIntrospection(run.config, run.tokens!.access_token)).active, true);

  const done = await browser.request(new URL(form.action, page.url), { form: form.hidden });
  assert.equal(done.status, 303);
  assert.equal((await oauth.tokenIntrospection(run.config, run.tokens!.access_token)).active, false);
  const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=grant.revoked`)).json.events;
  assert.equal(events.length, 1);
  assert.deepEqual(events[0].actor, { kind: 'user', user_id: alice.id, role: 'admin' });
  assert.equal(events[0].subject.grant_id, grant);

  // The console says so, and the grant has no Revoke button any more.
  const after = await browser.request(done.location!);
  assert.match(after.text, /was revoked/);
  assert.doesNotMatch(after.text.split('Grants in force')[1]!.split('Connected accounts')[0]!, new RegExp(`${grant}/revoke`));
});

test('bad audit filters get a clear error page and change nothing', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const alice = await addAdmin(writ, seeded.org.id);
  const browser = await signIn(writ, seeded.org.id, alice);
  for (const query of ['since=yesterday', 'tool=NOT%20A%20TOOL', 'cursor=-1', 'color=red', 'type=a&type=b']) {
    const res = await browser.request(`${writ.issuer}/console/audit?${query}`);
    assert.equal(res.status, 400, query);
    assert.match(res.text, /role="alert"/, query);
  }
  const ok = await browser.request(`${writ.issuer}/console/audit?type=&user_id=&since=2020-01-01T00%3A00&until=`);
  assert.equal(ok.status, 200);
  assert.match(ok.text, /user.created|signin.succeeded/);
});

test('the audit viewer pages with the cursor and keeps the filters', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const alice = await addAdmin(writ, seeded.org.id);
  // 60 failed sign-ins under distinct usernames: more than one page of `signin.failed`.
  const anonymous = httpClient();
  const signInPage = await anonymous.follow(`${writ.issuer}/console?org=${seeded.org.id}`);
  const form = parseForm(signInPage.text, '/account/signin');
  for (let i = 0; i < 60; i++) {
    const res = await anonymous.request(new URL(form.action, signInPage.url), { form: { ...form.hidden, username: `nobody${i}`, password: 'wrong' } });
    assert.equal(res.status, 401);
  }
  const browser = await signIn(writ, seeded.org.id, alice);
  const rowsOf = (text: string) => [...text.matchAll(/<th scope="row"><code>([a-z_.]+)<\/code><br>#(\d+)</g)].map((m) => ({ type: m[1]!, seq: Number(m[2]) }));

  const first = await browser.request(`${writ.issuer}/console/audit?type=signin.failed`);
  const page1 = rowsOf(first.text);
  assert.equal(page1.length, 50);
  assert.ok(page1.every((r) => r.type === 'signin.failed'));
  const older = /<a href="\/console\/audit\?([^"]+)" rel="next">Older events<\/a>/.exec(first.text);
  assert.ok(older, 'a link to older events');
  const query = new URLSearchParams(older[1]!.replaceAll('&amp;', '&'));
  assert.equal(query.get('type'), 'signin.failed');
  assert.equal(query.get('cursor'), String(page1.at(-1)!.seq));

  const second = await browser.request(`${writ.issuer}/console/audit?${query}`);
  const page2 = rowsOf(second.text);
  assert.equal(page2.length, 10);
  assert.ok(page2.every((r) => r.type === 'signin.failed' && r.seq < page1.at(-1)!.seq));
  assert.doesNotMatch(second.text, /rel="next"/);
  assert.match(second.text, /Newest events/);
});

test('connected accounts show status, and reconnect where only the org or its owner can fix them', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const other = await seedOrg(writ, { name: 'Bravo' });
  const at = new Date().toISOString();
  const account = (org_id: string, id: string, owner: { kind: 'org' } | { kind: 'user'; user_id: string }, connector: string, status: 'active' | 'revoked' | 'expired') =>
    writ.store.vault.createAccount(org_id, { id, org_id, owner, connector, status, scopes: ['read'], created_at: at, updated_at: at, credential_version: 1 });
  await account(seeded.org.id, 'acc_org_slack', { kind: 'org' }, 'slack', 'revoked');
  await account(seeded.org.id, 'acc_john_gmail', { kind: 'user', user_id: seeded.user.id }, 'gmail', 'expired');
  await account(seeded.org.id, 'acc_john_github', { kind: 'user', user_id: seeded.user.id }, 'github', 'active');
  await account(other.org.id, 'acc_bravo_notion', { kind: 'org' }, 'notion', 'revoked');
  const alice = await addAdmin(writ, seeded.org.id);
  const browser = await signIn(writ, seeded.org.id, alice);
  const page = await browser.request(`${writ.issuer}/console`);
  const section = page.text.split('id="accounts"')[1]!;
  const row = (id: string) => section.split('<tr>').find((r) => r.includes(id)) ?? '';

  assert.match(row('acc_org_slack'), /<strong>revoked<\/strong>/);
  assert.match(row('acc_org_slack'), new RegExp(`<a href="${writ.issuer}/connect/acc_org_slack\\?org=${seeded.org.id}">Reconnect slack</a>`));
  assert.match(row('acc_john_gmail'), /<strong>expired<\/strong>/);
  assert.match(row('acc_john_gmail'), /Send john this link to reconnect/);
  assert.match(row('acc_john_github'), /<strong>active<\/strong>/);
  assert.doesNotMatch(row('acc_john_github'), /connect\//);
  assert.doesNotMatch(page.text, /acc_bravo_notion|notion<br>/);
});
