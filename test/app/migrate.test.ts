import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'openid-client';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';

function migrate(env: Record<string, string>, args: string[]) {
  return spawnSync(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'migrate', '--json', ...args], {
    env: { PATH: process.env.PATH, ...env }, encoding: 'utf8',
  });
}

test('writ migrate copies a whole embedded instance and verifies counts and every audit chain', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(() => demo.close());
  const seeded = await seedOrg(writ, { tools: ['demo.notes.create'] });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const spare = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const link = (await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id })).json.authorization_url;
  assert.match((await openConnectLink(run.browser, link)).text, /is connected/);
  const revoked = (await oauth.tokenIntrospection(spare.config, spare.tokens!.access_token)).auth_event_id as string;
  await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants/${revoked}`);
  await writ.admin('POST', '/keys/rotate');
  // SCIM and audit evidence travel too: a group, the SCIM token, a signed checkpoint and its key.
  const scimToken = (await writ.admin('POST', `/orgs/${seeded.org.id}/scim/token`)).json.token as string;
  const group = await fetch(`${writ.issuer}/scim/v2/Groups`, {
    method: 'POST', headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Finance', members: [{ value: seeded.user.id }] }),
  });
  assert.equal(group.status, 201);
  const checkpoint = (await writ.admin('POST', `/orgs/${seeded.org.id}/audit/checkpoints`)).json;
  await writ.stop({ keepData: true });

  const target = mkdtempSync(join(tmpdir(), 'writ-migrated-'));
  t.after(() => rmSync(target, { recursive: true, force: true }));
  const env = { WRIT_DATA_DIR: writ.dataDir, WRIT_MASTER_KEY: writ.masterKey, WRIT_ADMIN_TOKEN: writ.adminToken };
  const result = migrate(env, ['--from', 'sqlite', '--to', 'sqlite', '--target-dir', target]);
  assert.equal(result.status, 0, result.stderr + result.stdout);
  const report = JSON.parse(result.stdout);
  assert.equal(report.ok, true);
  for (const name of ['orgs', 'users', 'agents', 'grants', 'connected_accounts', 'signing_keys', 'oidc_models', 'audit_events', 'groups', 'scim_tokens', 'checkpoint_keys', 'checkpoints']) {
    assert.ok(report.counts[name].source > 0, `${name} were copied`);
    assert.equal(report.counts[name].target, report.counts[name].source);
  }
  assert.ok(report.audit.every((a: { ok: boolean }) => a.ok));

  // The copy serves: the same refresh token, the same revocation, the same vaulted account.
  await new Promise((r) => setTimeout(r, 100));
  const moved = await startTestWrit({ dataDir: target, env: {
    PORT: String(writ.port), WRIT_MASTER_KEY: writ.masterKey, WRIT_ADMIN_TOKEN: writ.adminToken, WRIT_DEMO_PROVIDER_URL: demo.url,
    WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1', WRIT_CONNECTOR_CLIENTS: JSON.stringify({ demo: { client_id: 'writ-demo', client_secret: 'demo-client-secret-of-length' } }),
  } });
  t.after(() => moved.stop());
  const config = await agentClient(moved, seeded.agent);
  const refreshed = await oauth.refreshTokenGrant(config, run.tokens!.refresh_token!);
  await assert.rejects(oauth.refreshTokenGrant(config, spare.tokens!.refresh_token!), 'the revoked grant stays revoked');
  const cap = await exchange(moved, seeded.agent, { subject_token: refreshed.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['demo.notes.create']) });
  assert.equal(cap.status, 200, JSON.stringify(cap.json));
  const executed = await fetch(`${moved.issuer}/v1/tools/demo.notes.create/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${cap.json.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { title: 'after migration', body: 'x' } }),
  });
  assert.equal(executed.status, 200, await executed.text());
  assert.equal((await moved.admin('POST', `/orgs/${seeded.org.id}/audit/verify`)).json.ok, true);
  // The same checkpoint key signs on: the next checkpoint verifies with the key published before.
  const next = (await moved.admin('POST', `/orgs/${seeded.org.id}/audit/checkpoints`)).json;
  assert.equal(next.kid, checkpoint.kid);
  assert.ok(next.seq > checkpoint.seq);
  const scim = await fetch(`${moved.issuer}/scim/v2/Groups`, { headers: { authorization: `Bearer ${scimToken}` } });
  assert.equal(((await scim.json()) as { totalResults: number }).totalResults, 1, 'the SCIM token and the group moved');
});

test('writ migrate --to mongodb', { skip: process.env.MONGODB_URI ? false : 'MongoDB migration not run: MONGODB_URI is not set' }, async () => {
  const source = mkdtempSync(join(tmpdir(), 'writ-migrate-src-'));
  const writ = await startTestWrit({ dataDir: source });
  await seedOrg(writ);
  await writ.stop({ keepData: true });
  const url = new URL(process.env.MONGODB_URI!);
  url.pathname = `/writ_migrate_${Date.now()}`;
  const result = migrate({ WRIT_DATA_DIR: source, WRIT_MASTER_KEY: writ.masterKey, WRIT_ADMIN_TOKEN: writ.adminToken, MONGODB_URI: url.toString() }, ['--from', 'sqlite', '--to', 'mongodb']);
  assert.equal(result.status, 0, result.stderr + result.stdout);
  assert.equal(JSON.parse(result.stdout).ok, true);
  rmSync(source, { recursive: true, force: true });
});
