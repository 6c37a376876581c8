import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestWrit, seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate, type Seeded } from '../support/delegation.ts';

const NOTES = [{ type: 'tool_access', tools: ['demo.notes.create'] }];

async function grantsOf(writ: TestWrit, org: string) {
  return (await writ.admin('GET', `/orgs/${org}/grants`)).json.grants as unknown[];
}

test('refusals at sign-in and consent write no grant', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded: Seeded = await seedOrg(writ);
  const other = await seedOrg(writ, { name: 'TechCorp', username: 'alice', password: 'alice password 1' });

  await t.test('the user denies', async () => {
    const run = await delegate(writ, seeded, { authorization_details: NOTES, decision: 'deny' });
    assert.equal(run.callback?.searchParams.get('error'), 'access_denied');
    assert.equal(run.tokens, undefined);
    const denied = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=consent.denied`)).json.events;
    assert.equal(denied.length, 1);
  });

  await t.test('a wrong password', async () => {
    const run = await delegate(writ, seeded, { authorization_details: NOTES, password: 'not the password' });
    assert.equal(run.last.status, 401);
    assert.match(run.last.text, /Wrong username or password/);
    assert.equal(run.callback, undefined);
    const failed = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=signin.failed`)).json.events;
    assert.ok(failed.length >= 1);
    assert.ok(!JSON.stringify(failed).includes('not the password'), 'the password is never audited');
  });

  await t.test('a user of another org cannot sign in for this agent', async () => {
    const run = await delegate(writ, seeded, { authorization_details: NOTES, username: other.user.username, password: other.user.password });
    assert.equal(run.last.status, 401);
    assert.equal(run.callback, undefined);
  });

  await t.test('a missing CSRF token at sign-in', async () => {
    const run = await delegate(writ, seeded, { authorization_details: NOTES, dropCsrf: 'login' });
    assert.equal(run.last.status, 403);
    assert.match(run.last.text, /CSRF/);
  });

  await t.test('a missing CSRF token at consent', async () => {
    const run = await delegate(writ, seeded, { authorization_details: NOTES, dropCsrf: 'consent' });
    assert.equal(run.last.status, 403);
    assert.equal(run.callback, undefined);
  });

  await t.test('a tool outside the agent\'s ceiling', async () => {
    const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send'] }] });
    assert.equal(run.callback?.searchParams.get('error'), 'invalid_authorization_details');
    assert.match(run.callback?.searchParams.get('error_description') ?? '', /ceiling/);
  });

  await t.test('malformed authorization_details', async () => {
    const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'], extra: 1 }] });
    assert.equal(run.callback?.searchParams.get('error'), 'invalid_authorization_details');
  });

  assert.deepEqual(await grantsOf(writ, seeded.org.id), [], 'no refusal wrote a grant');
  assert.deepEqual(await grantsOf(writ, other.org.id), []);
});

test('repeated failed sign-ins lock the username for a while', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  let last = 0;
  for (let i = 0; i < 10; i++) {
    last = (await delegate(writ, seeded, { authorization_details: NOTES, password: `wrong ${i}` })).last.status;
  }
  assert.equal(last, 429);
  // Even the right password is refused while locked.
  const run = await delegate(writ, seeded, { authorization_details: NOTES });
  assert.equal(run.last.status, 429);
  assert.match(run.last.text, /locked/);
  assert.equal(run.tokens, undefined);
  const locked = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=signin.locked`)).json.events;
  assert.equal(locked.length, 1);
});

test('PKCE is required: an authorization request without a code challenge is refused before any page', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const url = new URL(`${writ.issuer}/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: seeded.agent.client_id, redirect_uri: seeded.redirect_uri, state: 's1',
    authorization_details: JSON.stringify(NOTES),
  }).toString();
  const res = await fetch(url, { redirect: 'manual' });
  assert.equal(res.status, 303);
  const back = new URL(res.headers.get('location')!);
  assert.equal(back.origin + back.pathname, seeded.redirect_uri);
  assert.equal(back.searchParams.get('error'), 'invalid_request');
  assert.match(back.searchParams.get('error_description') ?? '', /PKCE/);
  // The plain method is refused too.
  url.searchParams.set('code_challenge', 'x'.repeat(43));
  url.searchParams.set('code_challenge_method', 'plain');
  const plain = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
  assert.equal(plain.searchParams.get('error'), 'invalid_request');
});
