import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { parseForm } from '../support/http.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';

test('a user connects and disconnects from their own page; disconnecting revokes the token at the provider', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: ['demo.notes.create'] });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });

  const empty = await run.browser.request(`${writ.issuer}/connect`);
  assert.equal(empty.status, 200);
  assert.match(empty.text, /Nothing is connected yet/);
  const link = /href="(\/connect\/new\?[^"]+)"/.exec(empty.text)?.[1]?.replace(/&amp;/g, '&');
  assert.ok(link, 'the page offers to connect the demo service');
  const done = await openConnectLink(run.browser, `${writ.issuer}${link}`, { providerUser: seeded.user.username });
  assert.match(done.text, /is connected/);

  const page = await run.browser.request(`${writ.issuer}/connect`);
  assert.match(page.text, /<th scope="row">demo<\/th><td data-label="Status">active<\/td>/);
  const form = parseForm(page.text, /disconnect$/);
  const forged = await run.browser.request(new URL(form.action, page.url), { form: {} });
  assert.equal(forged.status, 403);
  const gone = await run.browser.request(new URL(form.action, page.url), { form: form.hidden });
  assert.equal(gone.status, 303);
  assert.deepEqual((await writ.admin('GET', `/orgs/${seeded.org.id}/connected-accounts`)).json.connected_accounts, []);
  const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=account.disconnected`)).json.events;
  assert.equal(events[0].details.upstream, 'revoked');
});

test('the audit log exports as JSON lines and as OCSF API Activity', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ);
  await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const fetchExport = async (format: string) => {
    const res = await fetch(`${writ.issuer}/admin/v1/orgs/${seeded.org.id}/audit/export?format=${format}`, { headers: { authorization: `Bearer ${writ.adminToken}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /ndjson/);
    return (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
  };
  const lines = await fetchExport('jsonl');
  assert.deepEqual(lines.map((e) => e.seq), lines.map((_, i) => i + 1), 'the whole chain, oldest first');
  assert.ok(lines.some((e) => e.type === 'grant.created'));
  const ocsf = await fetchExport('ocsf');
  assert.equal(ocsf.length, lines.length);
  const grant = ocsf.find((e) => e.unmapped.type === 'grant.created');
  assert.equal(grant.class_uid, 6003);
  assert.equal(grant.activity_id, 1);
  assert.equal(grant.type_uid, 600301);
  assert.equal(grant.actor.user.uid, seeded.user.id);
  assert.equal((await writ.admin('GET', `/orgs/${seeded.org.id}/audit/export?format=xml`)).status, 400);
});

test('the account page lists the user\'s own connections and disconnects them with the session\'s CSRF token, on the record', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: ['demo.notes.create'] });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const done = await openConnectLink(run.browser, `${writ.issuer}/connect/new?org=${seeded.org.id}&connector=demo`, { providerUser: seeded.user.username });
  assert.match(done.text, /is connected/);
  const [mine] = (await writ.admin('GET', `/orgs/${seeded.org.id}/connected-accounts`)).json.connected_accounts;
  // Another user's account and the org's own are not on John's page, and not his to end.
  const mary = (await writ.admin('POST', `/orgs/${seeded.org.id}/users`, { username: 'mary', password: 'mary password 1' })).json;
  const marys = (await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: mary.id })).json;

  const page = await run.browser.request(`${writ.issuer}/account`);
  assert.equal(page.status, 200);
  assert.match(page.text, new RegExp(`${mine.id}[\\s\\S]*<strong>active</strong>`));
  assert.doesNotMatch(page.text, new RegExp(marys.id));
  const form = parseForm(page.text, `/account/connections/${mine.id}/disconnect`);
  assert.equal((await run.browser.request(new URL(form.action, page.url), { form: {} })).status, 403, 'no CSRF token');
  const theirs = await run.browser.request(new URL(`/account/connections/${marys.id}/disconnect`, page.url), { form: form.hidden });
  assert.equal(theirs.status, 404, 'another user\'s connection answers as a missing one');
  const gone = await run.browser.request(new URL(form.action, page.url), { form: form.hidden });
  assert.equal(gone.status, 303);
  assert.equal(gone.location, `${writ.issuer}/account?disconnected=1`);
  const left = (await writ.admin('GET', `/orgs/${seeded.org.id}/connected-accounts`)).json.connected_accounts.map((a: { id: string }) => a.id);
  assert.deepEqual(left, [marys.id]);
  const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=account.disconnected`)).json.events;
  assert.equal(events.length, 1);
  assert.deepEqual(events[0].actor, { kind: 'user', user_id: seeded.user.id });
  assert.equal(events[0].subject.account_id, mine.id);
  assert.equal(events[0].details.upstream, 'revoked', 'the token was revoked at the provider');
  assert.match((await run.browser.request(gone.location!)).text, /No provider account is connected for you/);
});
