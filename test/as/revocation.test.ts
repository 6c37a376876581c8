import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { parseForm } from '../support/http.ts';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';

const NOTES = [{ type: 'tool_access', tools: ['demo.notes.create'] }];

test('revoking a grant through the admin API kills its access and refresh tokens, and is audited', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: NOTES });
  const keep = await delegate(writ, seeded, { authorization_details: NOTES });
  const info = await oauth.tokenIntrospection(run.config, run.tokens!.access_token);
  assert.equal(info.active, true);

  const res = await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants/${info.auth_event_id}`);
  assert.equal(res.status, 204);

  assert.equal((await oauth.tokenIntrospection(run.config, run.tokens!.access_token)).active, false);
  await assert.rejects(oauth.refreshTokenGrant(run.config, run.tokens!.refresh_token!), (err: any) => err.error === 'invalid_grant');
  // The other grant of the same user and agent is untouched.
  assert.equal((await oauth.tokenIntrospection(keep.config, keep.tokens!.access_token)).active, true);

  const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=grant.revoked`)).json.events;
  assert.equal(events.length, 1);
  assert.equal(events[0].subject.grant_id, info.auth_event_id);
  const grants = (await writ.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants;
  assert.ok(grants.find((g: any) => g.id === info.auth_event_id).revoked_at);

  // Another org's admin path cannot see or revoke it.
  const other = (await writ.admin('POST', '/orgs', { name: 'Other' })).json;
  assert.equal((await writ.admin('DELETE', `/orgs/${other.id}/grants/${keep.tokens ? (await oauth.tokenIntrospection(keep.config, keep.tokens.access_token)).auth_event_id : ''}`)).status, 404);
});

test('a user revokes a grant from their own page', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: NOTES });

  // Signing in for consent also signed the browser in to the account page.
  const page = await run.browser.request(`${writ.issuer}/account`);
  assert.equal(page.status, 200);
  assert.match(page.text, /Content agent/);
  assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  const form = parseForm(page.text, /revoke$/);

  // Without the CSRF token the revoke is refused and nothing changes.
  const forged = await run.browser.request(new URL(form.action, page.url), { form: {} });
  assert.equal(forged.status, 403);
  assert.equal((await oauth.tokenIntrospection(run.config, run.tokens!.access_token)).active, true);

  const revoked = await run.browser.request(new URL(form.action, page.url), { form: form.hidden });
  assert.equal(revoked.status, 303);
  assert.equal((await oauth.tokenIntrospection(run.config, run.tokens!.access_token)).active, false);
  await assert.rejects(oauth.refreshTokenGrant(run.config, run.tokens!.refresh_token!));
  const after = await run.browser.request(`${writ.issuer}/account`);
  assert.match(after.text, /Nothing can act for you/);
  const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=grant.revoked`)).json.events;
  assert.equal(events[0].actor.kind, 'user');
});

test('deleting an agent revokes every grant it held', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: NOTES });
  assert.equal((await writ.admin('DELETE', `/orgs/${seeded.org.id}/agents/${seeded.agent.client_id}`)).status, 204);
  const grants = (await writ.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants;
  assert.ok(grants.every((g: any) => g.revoked_at));
  await assert.rejects(oauth.refreshTokenGrant(run.config, run.tokens!.refresh_token!));
});

test('org-level delegation: client_credentials yields a token bound to the org grant', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const bot = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name: 'Slack bot', tools: ['slack.chat.post_message'] })).json;
  const config = await oauth.discovery(new URL(writ.issuer), bot.client_id, bot.client_secret, undefined, { execute: [oauth.allowInsecureRequests], algorithm: 'oauth2' });

  await assert.rejects(oauth.clientCredentialsGrant(config), (err: any) => err.error === 'invalid_grant', 'no org grant yet');
  const outside = await writ.admin('POST', `/orgs/${seeded.org.id}/agents/${bot.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send'] }] });
  assert.equal(outside.status, 400);
  assert.equal(outside.json.error, 'invalid_authorization_details');

  const grant = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents/${bot.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['slack.chat.post_message'] }] })).json;
  const tokens = await oauth.clientCredentialsGrant(config);
  const info = await oauth.tokenIntrospection(config, tokens.access_token);
  assert.equal(info.active, true);
  assert.equal(info.org_id, seeded.org.id);
  assert.equal(info.auth_event_id, grant.id);
  assert.equal(info.principal, 'org');
  assert.deepEqual(info.authorization_details, [{ type: 'tool_access', tools: ['slack.chat.post_message'] }]);

  await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants/${grant.id}`);
  assert.equal((await oauth.tokenIntrospection(config, tokens.access_token)).active, false, 'the org-level token dies with its grant');
  await assert.rejects(oauth.clientCredentialsGrant(config), (err: any) => err.error === 'invalid_grant');
});
