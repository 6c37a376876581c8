// Every path that issues or records rights goes through the one rights function: consent by scope
// or by details, authorization code, refresh, client credentials and token exchange with an actor.
// Each case here asks for something outside a ceiling, or for a wildcard, and checks that nothing
// of it reaches a grant or a token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { startTestWrit, seedOrg, type TestWrit } from '../support/writ.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, JWT } from '../support/exchange.ts';
import type { SqliteStore } from '../../src/storage/sqlite/index.ts';

async function grantsOf(writ: TestWrit, org: string) {
  return (await writ.admin('GET', `/orgs/${org}/grants`)).json.grants as Array<{ authorization_details: Array<{ tools: string[] }> }>;
}

async function issuedCount(writ: TestWrit, org: string) {
  return (await writ.admin('GET', `/orgs/${org}/audit?type=token.exchanged`)).json.events.length as number;
}

async function introspect(config: oauth.Configuration, token: string) {
  return oauth.tokenIntrospection(config, token);
}

/** An admin narrowing an agent's ceiling after it was granted more (the store is the source of truth). */
function narrowCeiling(writ: TestWrit, client_id: string, tools: string[]) {
  (writ.store as SqliteStore).database.run('UPDATE agents SET tools = ? WHERE client_id = ?', JSON.stringify(tools), client_id);
}

const sqlite = (writ: TestWrit) => writ.store.kind === 'sqlite';

test('consent by scope alone stays within the ceiling, and a requested wildcard is refused, never matched', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ); // ceiling: demo.notes.create, demo.notes.get, notion.pages.create

  await t.test('a tool outside the ceiling by scope is refused at /authorize with invalid_scope', async () => {
    const run = await delegate(writ, seeded, { scope: 'tool:demo.notes.create tool:gmail.messages.send' });
    assert.equal(run.callback?.searchParams.get('error'), 'invalid_scope');
    assert.match(run.callback?.searchParams.get('error_description') ?? '', /ceiling/);
    assert.equal(run.tokens, undefined);
  });

  await t.test('scope=tool:* is refused, not read as every tool', async () => {
    for (const scope of ['tool:*', 'tool:demo.notes.create tool:*', 'tool:demo.*']) {
      const run = await delegate(writ, seeded, { scope });
      assert.equal(run.callback?.searchParams.get('error'), 'invalid_scope', scope);
      assert.equal(run.tokens, undefined, scope);
    }
  });

  await t.test('authorization_details with tools ["*"] is refused', async () => {
    const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['*'] }] });
    assert.equal(run.callback?.searchParams.get('error'), 'invalid_authorization_details');
    assert.equal(run.tokens, undefined);
  });
  assert.deepEqual(await grantsOf(writ, seeded.org.id), [], 'no refusal wrote a grant');

  await t.test('within the ceiling, scope alone grants exactly the named tools, in the grant and the token', async () => {
    const run = await delegate(writ, seeded, { scope: 'tool:demo.notes.get' });
    assert.ok(run.tokens, 'delegation completed');
    assert.deepEqual(run.tokens.authorization_details, [{ type: 'tool_access', tools: ['demo.notes.get'] }]);
    const grants = await grantsOf(writ, seeded.org.id);
    assert.deepEqual(grants.map((g) => g.authorization_details), [[{ type: 'tool_access', tools: ['demo.notes.get'] }]]);
    // A wildcard can be neither asked for at the exchange nor derived from this grant.
    const wild = await exchange(writ, seeded.agent, { subject_token: run.tokens.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['*']) });
    assert.equal(wild.json.error, 'invalid_authorization_details');
    const wildScope = await exchange(writ, seeded.agent, { subject_token: run.tokens.access_token, subject_token_type: ACCESS_TOKEN, scope: 'tool:*' });
    assert.equal(wildScope.json.error, 'invalid_scope');
    assert.equal(await issuedCount(writ, seeded.org.id), 0);
  });
});

test('an actor_token of another agent does not lift the presenting client\'s ceiling', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ); // agent A: no gmail in its ceiling
  const b = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name: 'Mail agent', tools: ['gmail.messages.send', 'demo.notes.create'] })).json;
  await writ.admin('POST', `/orgs/${seeded.org.id}/agents/${b.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send'] }] });
  const bConfig = await agentClient(writ, b);
  const bToken = (await oauth.clientCredentialsGrant(bConfig)).access_token;
  const bCapability = await exchange(writ, b, { subject_token: bToken, subject_token_type: ACCESS_TOKEN });
  assert.equal(bCapability.status, 200, JSON.stringify(bCapability.json));
  const before = await issuedCount(writ, seeded.org.id);

  // A holds B's capability (gmail) and B's token, and asks with B as the actor.
  const viaActor = await exchange(writ, seeded.agent, {
    subject_token: bCapability.json.access_token, subject_token_type: JWT, actor_token: bToken, actor_token_type: ACCESS_TOKEN,
  });
  assert.equal(viaActor.status, 400, JSON.stringify(viaActor.json));
  assert.equal(viaActor.json.error, 'invalid_authorization_details');
  assert.match(viaActor.json.error_description, /ceiling/);
  assert.ok(viaActor.json.error_description.includes(seeded.agent.client_id), 'the presenting client\'s ceiling is named');
  assert.equal(viaActor.json.access_token, undefined);
  const named = await exchange(writ, seeded.agent, {
    subject_token: bCapability.json.access_token, subject_token_type: JWT, actor_token: bToken, actor_token_type: ACCESS_TOKEN,
    scope: 'tool:gmail.messages.send',
  });
  assert.equal(named.json.error, 'invalid_scope');
  assert.equal(await issuedCount(writ, seeded.org.id), before, 'nothing was issued');
  const denied = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=token.exchange_denied`)).json.events;
  assert.ok(denied.length >= 2, 'the refusals are on the record');
});

test('client_credentials computes its rights with the same function: scope narrows, wildcards are refused, the ceiling of now applies', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const bot = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name: 'Slack bot', tools: ['slack.chat.post_message', 'slack.conversations.list'] })).json;
  await writ.admin('POST', `/orgs/${seeded.org.id}/agents/${bot.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['slack.chat.post_message', 'slack.conversations.list'] }] });
  const config = await agentClient(writ, bot);

  const byScope = await oauth.clientCredentialsGrant(config, { scope: 'tool:slack.chat.post_message' });
  assert.deepEqual((await introspect(config, byScope.access_token)).authorization_details, [{ type: 'tool_access', tools: ['slack.chat.post_message'] }]);
  for (const scope of ['tool:*', 'tool:slack.*', 'tool:gmail.messages.send']) {
    await assert.rejects(oauth.clientCredentialsGrant(config, { scope }), (err: any) => err.error === 'invalid_scope', scope);
  }
  await assert.rejects(oauth.clientCredentialsGrant(config, { authorization_details: details(['*']) }), (err: any) => err.error === 'invalid_authorization_details');

  await t.test('a wildcard already stored in a grant matches nothing', async () => {
    const legacy = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name: 'Legacy bot', tools: ['slack.chat.post_message'] })).json;
    // As a grant written before scopes were checked at /authorize could hold it.
    await writ.store.grants.createGrant(seeded.org.id, {
      id: 'grt_legacy_wildcard', org_id: seeded.org.id, agent_id: legacy.client_id,
      authorization_details: [{ type: 'tool_access', tools: ['*'] }], created_at: new Date().toISOString(),
    });
    const legacyConfig = await agentClient(writ, legacy);
    await assert.rejects(oauth.clientCredentialsGrant(legacyConfig), (err: any) => err.error === 'invalid_authorization_details', 'nothing held names a tool');
    await assert.rejects(oauth.clientCredentialsGrant(legacyConfig, { scope: 'tool:slack.chat.post_message' }), (err: any) => err.error === 'invalid_scope', '"*" does not hold slack.chat.post_message');
  });

  if (!sqlite(writ)) { t.diagnostic('ceiling change needs the sqlite store; skipped'); return; }
  narrowCeiling(writ, bot.client_id, ['slack.conversations.list']);
  const all = await oauth.clientCredentialsGrant(config);
  assert.deepEqual((await introspect(config, all.access_token)).authorization_details, [{ type: 'tool_access', tools: ['slack.conversations.list'] }],
    'the org grant trimmed to the ceiling as it is now');
  await assert.rejects(oauth.clientCredentialsGrant(config, { scope: 'tool:slack.chat.post_message' }), (err: any) => err.error === 'invalid_scope');
});

test('refresh computes its rights with the same function: scope narrows, and a ceiling narrowed since consent applies', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { scope: 'offline_access tool:demo.notes.create tool:demo.notes.get' });
  assert.ok(run.tokens?.refresh_token, 'a refresh token');
  assert.deepEqual(run.tokens.authorization_details, [{ type: 'tool_access', tools: ['demo.notes.create', 'demo.notes.get'] }]);

  const narrowed = await oauth.refreshTokenGrant(run.config, run.tokens.refresh_token, { scope: 'tool:demo.notes.get' });
  assert.deepEqual(narrowed.authorization_details, [{ type: 'tool_access', tools: ['demo.notes.get'] }]);
  for (const scope of ['tool:*', 'tool:gmail.messages.send']) {
    await assert.rejects(oauth.refreshTokenGrant(run.config, narrowed.refresh_token!, { scope }), (err: any) => err.error === 'invalid_scope', scope);
  }

  const again = await delegate(writ, seeded, { scope: 'offline_access tool:demo.notes.create tool:demo.notes.get' });
  if (!sqlite(writ)) { t.diagnostic('ceiling change needs the sqlite store; skipped'); return; }
  narrowCeiling(writ, seeded.agent.client_id, ['demo.notes.get']);
  const refreshed = await oauth.refreshTokenGrant(again.config, again.tokens!.refresh_token!);
  assert.deepEqual(refreshed.authorization_details, [{ type: 'tool_access', tools: ['demo.notes.get'] }], 'demo.notes.create left the ceiling');
  const info = await introspect(again.config, refreshed.access_token);
  assert.deepEqual(info.authorization_details, [{ type: 'tool_access', tools: ['demo.notes.get'] }]);
  const ex = await exchange(writ, seeded.agent, { subject_token: refreshed.access_token, subject_token_type: ACCESS_TOKEN, scope: 'tool:demo.notes.create' });
  assert.equal(ex.json.error, 'invalid_scope');
});

test('a constraint on one detail of a tool binds every request for that tool, as verifiers read it', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: ['demo.notes.create'] });
  const sub = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name: 'Sub-agent', tools: ['demo.notes.create'] })).json;
  const run = await delegate(writ, seeded, { authorization_details: [
    { type: 'tool_access', tools: ['demo.notes.create'], resources: ['demo:notebook:a'] },
    { type: 'tool_access', tools: ['demo.notes.create'], resources: ['demo:notebook:b'], constraints: { size: { max: 50 } } },
  ] });
  // The parent capability holds both details: a verifier allows size ≤ 50 only, on either notebook.
  const parent = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN });
  assert.equal(parent.status, 200, JSON.stringify(parent.json));
  const dropped = await exchange(writ, sub, { subject_token: parent.json.access_token, subject_token_type: JWT, authorization_details: details(['demo.notes.create'], { resources: ['demo:notebook:a'] }) });
  assert.equal(dropped.json.error, 'invalid_authorization_details', 'the child may not drop the size limit');
  const kept = await exchange(writ, sub, { subject_token: parent.json.access_token, subject_token_type: JWT, authorization_details: details(['demo.notes.create'], { resources: ['demo:notebook:a'], constraints: { size: { max: 50 } } }) });
  assert.equal(kept.status, 200, JSON.stringify(kept.json));
});
