// The console's lifecycle page, through its real forms: an org admin disables, enables and deletes
// users and agents of their own org; the forms carry the console's CSRF token; an admin cannot
// lock themselves out, and another org's ids are not found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { httpClient, parseForm } from '../support/http.ts';
import { signIn } from '../security/web-support.ts';

test('an org admin disables, enables and deletes users and agents from the console', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: ['demo.notes.create'] });
  const other = await seedOrg(writ, { name: 'Other' });
  const org = seeded.org.id;
  const admin = (await writ.admin('POST', `/orgs/${org}/users`, { username: 'alice', password: 'alice password 1', roles: ['admin'] })).json;
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const browser = await signIn(writ, httpClient(), org, { username: 'alice', password: 'alice password 1' });

  const page = await browser.request(`${writ.issuer}/console/people`);
  assert.equal(page.status, 200, page.text.slice(0, 300));
  assert.match(page.text, /Users and agents/);
  assert.ok(!page.text.includes(`/console/users/${admin.id}/disable`), 'no button to disable yourself');

  // Disable John: his delegation ends at once.
  const disable = parseForm(page.text, `/console/users/${seeded.user.id}/disable`);
  const posted = await browser.request(new URL(disable.action, page.url), { form: disable.hidden });
  assert.equal(posted.status, 303, posted.text.slice(0, 300));
  assert.equal((await oauth.tokenIntrospection(await agentClient(writ, seeded.agent), run.tokens!.access_token)).active, false);
  const events = (await writ.admin('GET', `/orgs/${org}/audit?type=user.disabled`)).json.events;
  assert.equal(events.length, 1);
  assert.equal(events[0].details.cause, 'console');
  assert.equal(events[0].actor.user_id, admin.id);

  // Enable him again, then disable and delete the agent.
  const after = await browser.request(`${writ.issuer}/console/people`);
  assert.match(after.text, /disabled/);
  const enable = parseForm(after.text, `/console/users/${seeded.user.id}/enable`);
  assert.equal((await browser.request(new URL(enable.action, after.url), { form: enable.hidden })).status, 303);
  assert.equal((await writ.store.directory.getUser(org, seeded.user.id))?.id, seeded.user.id);
  const agentForm = parseForm(after.text, `/console/agents/${seeded.agent.client_id}/disable`);
  assert.equal((await browser.request(new URL(agentForm.action, after.url), { form: agentForm.hidden })).status, 303);
  assert.ok((await writ.admin('GET', `/orgs/${org}/agents/${seeded.agent.client_id}`)).json.disabled_at);
  const last = await browser.request(`${writ.issuer}/console/people`);
  const del = parseForm(last.text, `/console/agents/${seeded.agent.client_id}/delete`);
  assert.equal((await browser.request(new URL(del.action, last.url), { form: del.hidden })).status, 303);
  assert.equal((await writ.admin('GET', `/orgs/${org}/agents/${seeded.agent.client_id}`)).status, 404);

  // Refusals that change nothing: no CSRF token, yourself, another org's user.
  const before = (await writ.admin('GET', `/orgs/${org}/audit?limit=1`)).json.events[0].seq;
  const fresh = await browser.request(`${writ.issuer}/console/people`);
  const form = parseForm(fresh.text, `/console/users/${seeded.user.id}/disable`);
  assert.equal((await browser.request(new URL(form.action, fresh.url), { form: { csrf: 'wrong' } })).status, 403);
  assert.equal((await browser.request(new URL(`/console/users/${admin.id}/disable`, fresh.url), { form: form.hidden })).status, 403);
  assert.equal((await browser.request(new URL(`/console/users/${other.user.id}/delete`, fresh.url), { form: form.hidden })).status, 404);
  assert.equal((await writ.admin('GET', `/orgs/${org}/audit?limit=1`)).json.events[0].seq, before, 'nothing was written');
  assert.ok(await writ.store.directory.getUser(other.org.id, other.user.id), 'the other org\'s user is untouched');
});
