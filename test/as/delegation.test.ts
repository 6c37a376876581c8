import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';

const NOTES = [{ type: 'tool_access', tools: ['demo.notes.create'], resources: ['demo:notebook:team'] }];

test('a user delegates tools to an agent through sign-in and consent; introspection shows org, user and grant', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);

  const run = await delegate(writ, seeded, { authorization_details: NOTES });
  assert.ok(run.tokens, `no tokens; last page ${run.last.status} ${run.last.url}: ${run.last.text.replace(/<style[\s\S]*?<\/style>/, "").slice(0, 600)}`);
  assert.ok(run.tokens.access_token);
  assert.ok(run.tokens.refresh_token, 'a refresh token is issued');
  assert.ok(run.tokens.expires_in! <= 600, 'access tokens live at most 10 minutes');
  assert.deepEqual(run.tokens.authorization_details, NOTES);

  const info = await oauth.tokenIntrospection(run.config, run.tokens.access_token);
  assert.equal(info.active, true);
  assert.equal(info.sub, seeded.user.id);
  assert.equal(info.client_id, seeded.agent.client_id);
  assert.equal(info.org_id, seeded.org.id);
  assert.match(String(info.auth_event_id), /^grt_/);
  assert.deepEqual(info.authorization_details, NOTES);

  const grants = (await writ.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants;
  assert.equal(grants.length, 1);
  assert.equal(grants[0].id, info.auth_event_id);
  assert.equal(grants[0].user_id, seeded.user.id);
  assert.deepEqual(grants[0].authorization_details, NOTES);

  // Refresh tokens rotate: the new one works, the old one is spent.
  const refreshed = await oauth.refreshTokenGrant(run.config, run.tokens.refresh_token!);
  assert.notEqual(refreshed.refresh_token, run.tokens.refresh_token);
  await assert.rejects(oauth.refreshTokenGrant(run.config, run.tokens.refresh_token!), (err: any) => err.error === 'invalid_grant');

  const audit = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=grant.created`)).json.events;
  assert.equal(audit.length, 1);
  assert.equal(audit[0].subject.grant_id, info.auth_event_id);
});
