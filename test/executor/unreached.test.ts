// A single-use capability whose call never reached the provider is given back, on the record; a
// call that reached it stays spent. The operator's log says why the provider could not be reached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';

const TOOL = 'demo.notes.create';

async function execute(writ: TestWrit, capability: string, title: string) {
  const res = await fetch(`${writ.issuer}/v1/tools/${TOOL}/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${capability}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: { title, body: 'x' } }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

test('a single-use capability is released when the provider was never reached, and stays spent once it was', async (t) => {
  const policies = mkdtempSync(join(tmpdir(), 'writ-unreached-'));
  t.after(() => rmSync(policies, { recursive: true, force: true }));
  copyFileSync(join(import.meta.dirname, '../../policies/default.yaml'), join(policies, 'default.yaml'));
  writeFileSync(join(policies, 'once.yaml'), `version: 1\nrules:\n  - id: notes-once\n    description: Notes are created once per capability.\n    effect: allow\n    match: { tools: ["${TOOL}"] }\n    constraints: { single_use: true, max_ttl: 300 }\n`);
  const { writ, demo } = await startWritWithDemo({ env: { WRIT_POLICIES: policies } });
  let demoOpen = true;
  t.after(async () => { await writ.stop(); if (demoOpen) await demo.close(); });
  const seeded = await seedOrg(writ, { tools: [TOOL] });
  const org = seeded.org.id;
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
  const capability = async () => {
    const res = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([TOOL]) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json.access_token as string;
  };
  const released = async () => (await writ.admin('GET', `/orgs/${org}/audit?type=capability.released`)).json.events as any[];

  // 1. No account connected yet: nothing was called, so the use is given back.
  const first = await capability();
  const unconnected = await execute(writ, first, 'before connecting');
  assert.equal(unconnected.json.error.code, 'not_connected');
  assert.deepEqual((await released()).map((e) => [e.subject.capability_id, e.details.reason]), [[JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString()).jti, 'not_connected']]);
  const created = await writ.admin('POST', `/orgs/${org}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
  assert.match((await openConnectLink(run.browser, created.json.authorization_url)).text, /is connected/);
  // The same capability now does its one call, and no second.
  assert.equal((await execute(writ, first, 'first note')).status, 200);
  assert.equal((await execute(writ, first, 'second note')).json.error.code, 'invalid_token');
  assert.equal(demo.notes.length, 1);

  // 2. The provider answered (with a failure): it was reached, so the capability stays spent.
  const second = await capability();
  demo.setFault({ kind: 'status', status: 500, times: 1 });
  assert.equal((await execute(writ, second, 'reached')).json.error.code, 'upstream_error');
  assert.equal((await execute(writ, second, 'again')).json.error.code, 'invalid_token', 'spent: the provider was reached');
  assert.equal((await released()).length, 1);

  // 3. The provider refuses connections: nothing reached it, so each try gives the use back, and the
  // log names the cause for the operator while the agent hears only that it could not be reached.
  const third = await capability();
  await demo.close();
  demoOpen = false;
  for (let i = 0; i < 2; i++) {
    const refused = await execute(writ, third, `refused ${i}`);
    assert.equal(refused.status, 502);
    assert.equal(refused.json.error.code, 'upstream_error');
    assert.doesNotMatch(JSON.stringify(refused.json), /ECONNREFUSED|127\.0\.0\.1/, 'the cause is for the operator only');
  }
  const events = await released();
  assert.deepEqual(events.slice(0, 2).map((e) => e.details.reason), ['connection_refused', 'connection_refused']);
  const line = writ.logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'provider could not be reached');
  assert.equal(line?.reason, 'connection_refused');
  assert.match(String(line?.cause), /ECONNREFUSED/);
});
