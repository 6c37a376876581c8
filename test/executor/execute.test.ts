import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestWrit, seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate, type Seeded } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, BISCUIT, JWT } from '../support/exchange.ts';
import { httpClient } from '../support/http.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';
import { skippingClock } from '../support/clock.ts';
import { Vault } from '../../src/vault/service.ts';
import { LocalKeyProvider, parseMasterKeyRing } from '../../src/vault/crypto.ts';

const TOOLS = ['demo.notes.create', 'demo.notes.get', 'demo.notes.list'];

async function execute(writ: TestWrit, tool: string, capability: string, input: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${writ.issuer}/v1/tools/${tool}/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${capability}`, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ input }),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as any, text, headers: res.headers };
}

/** Delegation for the tools, the demo account connected through the link, and a capability minter. */
async function connected(writ: TestWrit, seeded: Seeded) {
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: TOOLS }] });
  const created = await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.status, 'pending');
  // The browser that consented is signed in to Writ as the user; it opens the link.
  const page = await openConnectLink(run.browser, created.json.authorization_url, { providerUser: seeded.user.username });
  assert.equal(page.status, 200, page.text.slice(0, 400));
  assert.match(page.text, /is connected/);
  const capability = async (tool: string, extra: Record<string, string> = {}) => {
    const res = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([tool]), ...extra });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json.access_token as string;
  };
  return { run, account_id: created.json.id as string, capability };
}

test('connect through the link, exchange, execute: the provider sees the user\'s own token and nothing about it leaves the executor', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: TOOLS });
  const { account_id, capability } = await connected(writ, seeded);

  const accounts = (await writ.admin('GET', `/orgs/${seeded.org.id}/connected-accounts`)).json.connected_accounts;
  assert.equal(accounts[0].status, 'active');
  assert.deepEqual(accounts[0].owner, { kind: 'user', user_id: seeded.user.id });

  const responses: string[] = [];
  for (const format of [JWT, BISCUIT]) {
    const cap = await capability('demo.notes.create', { requested_token_type: format });
    const res = await execute(writ, 'demo.notes.create', cap, { title: `hello from ${format}`, body: 'written by an agent' });
    responses.push(res.text);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.owner, seeded.user.username, 'the provider saw John\'s own token');
    assert.equal(res.json.data.title, `hello from ${format}`);
  }
  assert.equal(demo.notes.length, 2);

  await t.test('one tool\'s capability cannot run another', async () => {
    const cap = await capability('demo.notes.create');
    const res = await execute(writ, 'demo.notes.list', cap, {});
    responses.push(res.text);
    assert.equal(res.status, 403);
    assert.equal(res.json.error.code, 'insufficient_scope');
  });

  await t.test('bad input is refused before any upstream call', async () => {
    const before = demo.stats.apiCalls;
    const cap = await capability('demo.notes.create');
    for (const input of [{ title: '' , body: 'x' }, { title: 'x' }, { title: 'x', body: 'y', owner: 'alice' }, 'not an object']) {
      const res = await execute(writ, 'demo.notes.create', cap, input);
      responses.push(res.text);
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error.code, 'invalid_input');
    }
    const unknown = await execute(writ, 'demo.notes.delete', cap, {});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, 'unknown_tool');
    const noToken = await fetch(`${writ.issuer}/v1/tools/demo.notes.create/execute`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":{}}' });
    assert.equal(noToken.status, 401);
    assert.equal(demo.stats.apiCalls, before, 'the provider was never called');
  });

  await t.test('the audit log records who did what for whom', async () => {
    const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=tool.executed`)).json.events;
    assert.equal(events.length, 2);
    assert.equal(events[0].subject.user_id, seeded.user.id);
    assert.equal(events[0].subject.tool, 'demo.notes.create');
    assert.match(events[0].subject.capability_id, /^cap_/);
    assert.match(events[0].subject.grant_id, /^grt_/);
    assert.deepEqual(events[0].actor.chain, [seeded.agent.client_id]);
    assert.match(events[0].details.request_hash, /^[0-9a-f]{64}$/);
    const byUser = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?user_id=${seeded.user.id}&tool=demo.notes.create&type=tool.executed`)).json.events;
    assert.equal(byUser.length, 2, 'one query answers what agents did for John');
    assert.equal((await writ.admin('POST', `/orgs/${seeded.org.id}/audit/verify`)).json.ok, true);
  });

  await t.test('no provider token appears in any response, log line or audit event', async () => {
    const vault = new Vault({ store: writ.store.vault, keys: new LocalKeyProvider(parseMasterKeyRing(writ.masterKey)) });
    const { credential } = await vault.readCredential(seeded.org.id, account_id);
    assert.equal(credential.type, 'oauth2');
    const secrets = [credential.access_token, credential.refresh_token].filter((s): s is string => !!s);
    assert.ok(secrets.length === 2);
    demo.setFault({ kind: 'echo_token' });
    const cap = await capability('demo.notes.create');
    const echoed = await execute(writ, 'demo.notes.create', cap, { title: 'echo', body: 'echo' });
    demo.setFault(null);
    assert.equal(echoed.status, 200);
    assert.equal(echoed.json.data.received_token, '[redacted]', 'a provider echoing the credential is redacted');
    responses.push(echoed.text);
    const audit = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?limit=1000`)).text;
    const everything = [...responses, audit, writ.logs.join('\n'), (await writ.admin('GET', `/orgs/${seeded.org.id}/connected-accounts`)).text].join('\n');
    for (const secret of secrets) assert.ok(!everything.includes(secret), 'a provider token leaked');
  });
});

test('the principal comes from the token: another org\'s capability never reaches this org\'s account', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const xcorp = await seedOrg(writ, { tools: TOOLS });
  await connected(writ, xcorp);
  const techcorp = await seedOrg(writ, { name: 'TechCorp', username: 'john', tools: TOOLS }); // same username, other org
  const run = await delegate(writ, techcorp, { authorization_details: [{ type: 'tool_access', tools: TOOLS }] });
  const cap = (await exchange(writ, techcorp.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['demo.notes.create']) })).json.access_token;
  const before = demo.stats.apiCalls;
  // The body names XCorp's user and org: it changes nothing.
  const res = await fetch(`${writ.issuer}/v1/tools/demo.notes.create/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${cap}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { title: 'x', body: 'y' }, user_id: xcorp.user.id, org_id: xcorp.org.id }),
  });
  const json = await res.json() as any;
  assert.equal(res.status, 400, 'extra body fields are refused outright');
  assert.equal(json.error.code, 'invalid_input');
  const plain = await execute(writ, 'demo.notes.create', cap, { title: 'x', body: 'y' });
  assert.equal(plain.status, 409);
  assert.equal(plain.json.error.code, 'not_connected');
  assert.match(plain.json.error.connect_url, new RegExp(`/connect/new\\?org=${techcorp.org.id}&connector=demo`));
  assert.equal(demo.stats.apiCalls, before);
});

test('a different signed-in user cannot complete someone else\'s link', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: TOOLS });
  const alice = (await writ.admin('POST', `/orgs/${seeded.org.id}/users`, { username: 'alice', password: 'alice password 1' })).json;
  const created = (await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id })).json;
  const browser = httpClient();
  const page = await openConnectLink(browser, created.authorization_url, { writUser: { username: 'alice', password: 'alice password 1' } });
  assert.equal(page.status, 403, page.text.slice(0, 300));
  assert.match(page.text, /another user/);
  const accounts = (await writ.admin('GET', `/orgs/${seeded.org.id}/connected-accounts`)).json.connected_accounts;
  assert.equal(accounts[0].status, 'pending');
  assert.ok(alice.id);
});

test('twenty concurrent executions after expiry make one upstream refresh, across two Writ processes on one store', async (t) => {
  const clock = skippingClock();
  const { writ, demo } = await startWritWithDemo({ accessTokenTtlSeconds: 62, clock });
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: TOOLS });
  const { capability } = await connected(writ, seeded);
  const second = await startTestWrit({ dataDir: writ.dataDir, env: {
    WRIT_ADMIN_TOKEN: writ.adminToken, WRIT_MASTER_KEY: writ.masterKey, WRIT_DEMO_PROVIDER_URL: demo.url, WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1',
    WRIT_CONNECTOR_CLIENTS: JSON.stringify({ demo: { client_id: 'writ-demo', client_secret: 'demo-client-secret-of-length' } }), WRIT_ISSUER: writ.issuer,
  }, writ: { clock } });
  t.after(() => second.stop({ keepData: true }));
  const caps = await Promise.all(Array.from({ length: 20 }, () => capability('demo.notes.list')));
  // Both servers skip ahead: the 62 s provider token now expires within the refresher's 60 s skew.
  clock.advance(3_000);
  const refreshesBefore = demo.stats.refreshRequests;
  const results = await Promise.all(caps.map((cap, i) => fetch(`http://localhost:${(i % 2 ? second : writ).port}/v1/tools/demo.notes.list/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${cap}`, 'content-type': 'application/json' }, body: '{"input":{}}',
  }).then(async (r) => ({ status: r.status, body: await r.text() }))));
  for (const r of results) assert.equal(r.status, 200, r.body);
  assert.equal(demo.stats.refreshRequests - refreshesBefore, 1, 'exactly one upstream refresh');
  const refreshed = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=credential.refreshed`)).json.events;
  assert.equal(refreshed.length, 1);
});

test('revoked at the provider is not expired: auth_revoked with a reconnect link, and reconnecting restores it', async (t) => {
  const { writ, demo } = await startWritWithDemo({ accessTokenTtlSeconds: 62 });
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: TOOLS });
  const { run, account_id, capability } = await connected(writ, seeded);
  demo.revokeUserGrants(seeded.user.username);
  const res = await execute(writ, 'demo.notes.list', await capability('demo.notes.list'), {});
  assert.equal(res.json.error?.code, 'auth_revoked', res.text);
  assert.match(res.json.error.reconnect_url, new RegExp(`/connect/${account_id}\\?org=${seeded.org.id}`));
  const accounts = (await writ.admin('GET', `/orgs/${seeded.org.id}/connected-accounts`)).json.connected_accounts;
  assert.equal(accounts[0].status, 'revoked');
  const again = await execute(writ, 'demo.notes.list', await capability('demo.notes.list'), {});
  assert.equal(again.json.error?.code, 'auth_revoked', 'a revoked account is not retried against the provider');

  const page = await openConnectLink(run.browser, res.json.error.reconnect_url, { providerUser: seeded.user.username });
  assert.match(page.text, /is connected/);
  const after = await execute(writ, 'demo.notes.list', await capability('demo.notes.list'), {});
  assert.equal(after.status, 200, after.text);
  const revokedEvents = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=account.revoked`)).json.events;
  assert.equal(revokedEvents.length, 1);
});

test('a single-use capability used concurrently succeeds exactly once', async (t) => {
  const { mkdtempSync, copyFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'writ-single-use-'));
  copyFileSync(join(import.meta.dirname, '../../policies/default.yaml'), join(dir, 'default.yaml'));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'notes-once.yaml'), 'version: 1\nrules:\n  - id: notes-once\n    description: Notes are created once per capability.\n    effect: allow\n    match: { tools: ["demo.notes.create"] }\n    constraints: { single_use: true, max_ttl: 60 }\n');
  const { writ, demo } = await startWritWithDemo({ env: { WRIT_POLICIES: dir } });
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: TOOLS });
  const { capability } = await connected(writ, seeded);
  const cap = await capability('demo.notes.create');
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => execute(writ, 'demo.notes.create', cap, { title: `try ${i}`, body: 'x' })));
  assert.equal(results.filter((r) => r.status === 200).length, 1);
  assert.equal(results.filter((r) => r.json.error?.code === 'invalid_token').length, 9);
  assert.equal(demo.notes.length, 1, 'the provider saw one call');
});
