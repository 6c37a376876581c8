import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDemoProvider } from '../../src/demo/provider/index.ts';
import { remoteWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { DEMO_CLIENT, freePort, openConnectLink } from '../support/connect.ts';
import { readySignal } from '../support/process.ts';

test('npm start with two workers: one store, one chain, single-use spent once across processes', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-cluster-'));
  const policies = mkdtempSync(join(tmpdir(), 'writ-cluster-policies-'));
  copyFileSync(join(import.meta.dirname, '../../policies/default.yaml'), join(policies, 'default.yaml'));
  writeFileSync(join(policies, 'once.yaml'), 'version: 1\nrules:\n  - id: notes-once\n    description: once\n    effect: allow\n    match: { tools: ["demo.notes.create"] }\n    constraints: { single_use: true }\n');
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const demo = await startDemoProvider({ clients: [{ ...DEMO_CLIENT, redirect_uris: [`${issuer}/connect/callback`] }] });
  const adminToken = `cluster-admin-${randomBytes(24).toString('hex')}`;
  let output = '';
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'serve'], {
    env: {
      PATH: process.env.PATH, PORT: String(port), WRIT_WORKERS: '2', WRIT_DATA_DIR: dataDir, WRIT_POLICIES: policies,
      WRIT_ADMIN_TOKEN: adminToken, WRIT_MASTER_KEY: `v1:${randomBytes(32).toString('base64url')}`, WRIT_LOG_LEVEL: 'info',
      WRIT_DEMO_PROVIDER_URL: demo.url, WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1', WRIT_CONNECTOR_CLIENTS: JSON.stringify({ demo: DEMO_CLIENT }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });
  t.after(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await demo.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(policies, { recursive: true, force: true });
  });
  // Ready when both workers say they are listening (info level carries that line).
  await readySignal(child, () => output, { count: 2 });

  const writ = remoteWrit(issuer, adminToken);

  const seeded = await seedOrg(writ, { tools: ['demo.notes.create'] });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  assert.ok(run.tokens, 'delegation through two workers');
  const created = await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
  assert.match((await openConnectLink(run.browser, created.json.authorization_url)).text, /is connected/);

  // Many exchanges at once: both workers append to one org's audit chain.
  const caps = await Promise.all(Array.from({ length: 16 }, () => exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['demo.notes.create']) })));
  for (const c of caps) assert.equal(c.status, 200, JSON.stringify(c.json));
  // One single-use capability raced over fresh connections (the cluster spreads them over workers).
  const cap = caps[0]!.json.access_token;
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => fetch(`${issuer}/v1/tools/demo.notes.create/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${cap}`, 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({ input: { title: `race ${i}`, body: 'x' } }),
  }).then((r) => r.status)));
  assert.equal(results.filter((s) => s === 200).length, 1, `statuses: ${results.join(',')}`);
  assert.equal(demo.notes.length, 1);
  const verify = await writ.admin('POST', `/orgs/${seeded.org.id}/audit/verify`);
  assert.equal(verify.json.ok, true, JSON.stringify(verify.json));
  assert.ok(verify.json.events_checked > 20);
});
