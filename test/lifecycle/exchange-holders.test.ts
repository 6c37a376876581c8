// A capability minted at the very moment its holder, an agent of its chain or its user is disabled
// or deleted: the exchange read them as enabled, then the lifecycle marked them and swept what they
// hold, then the exchange recorded the capability. Write-then-check in the exchange refuses the
// token and ends the record (the holder's sweep again), so nothing outlives the lifecycle's step.
// The interleaving is set up on a real store: the lifecycle's step runs inside the capability's
// write, before the row lands, through the admin API of the same running Writ; no timing involved.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CapabilityRecord } from '../../src/storage/ports/capabilities.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { delegate } from '../support/delegation.ts';
import { ACCESS_TOKEN, details, exchange, JWT } from '../support/exchange.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';

const TOOL = 'github.issues.get';

test('a capability recorded after the lifecycle swept its holder, its chain or its user is refused and ends', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-exchange-holders-'));
  const store = openSqliteStore(dataDir);
  // The lifecycle's step, run once inside the next capability's write, just before the row lands.
  let during: ((record: CapabilityRecord) => Promise<void>) | undefined;
  const record = store.capabilities.recordCapability.bind(store.capabilities);
  store.capabilities.recordCapability = async (org_id, capability) => {
    const step = during;
    during = undefined;
    if (step) await step(capability);
    return record(org_id, capability);
  };
  const writ = await startTestWrit({ dataDir, writ: { store } });
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: [TOOL] });
  const org = seeded.org.id;
  const newAgent = async (name: string) => (await writ.admin('POST', `/orgs/${org}/agents`, { name, tools: [TOOL], redirect_uris: [seeded.redirect_uri] })).json;
  const lifecycleStep = (method: string, path: string) => async (capability: CapabilityRecord) => {
    const res = await writ.admin(method, `/orgs/${org}${path}`);
    assert.ok(res.status === 200 || res.status === 204, res.text);
    assert.equal(await store.capabilities.getCapability(org, capability.jti), undefined, 'the sweep ran before the row landed');
  };
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
  const fromOrchestrator = async () => {
    const res = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([TOOL]) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json.access_token as string;
  };
  const refusedAndEnded = async (res: { status: number; json: any }, why: RegExp) => {
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json.error, 'invalid_grant');
    assert.match(res.json.error_description, why);
    assert.equal(res.json.access_token, undefined, 'the token is never handed out');
  };
  const latestCapability = async () => {
    const exchanged = (await writ.admin('GET', `/orgs/${org}/audit?type=token.exchanged`)).json.events;
    return exchanged[0].subject.capability_id as string;
  };

  for (const [what, step] of [
    ['disabled', (id: string) => lifecycleStep('POST', `/agents/${id}/disable`)],
    ['deleted', (id: string) => lifecycleStep('DELETE', `/agents/${id}`)],
  ] as const) {
    await t.test(`a sub-agent ${what} while its capability is minted`, async () => {
      const sub = await newAgent(`Sub-agent ${what}`);
      const parent = await fromOrchestrator();
      during = step(sub.client_id);
      await refusedAndEnded(await exchange(writ, sub, { subject_token: parent, subject_token_type: JWT }), new RegExp(`agent ${sub.client_id} ${what}`));
      const jti = await latestCapability();
      assert.ok((await store.capabilities.getCapability(org, jti))?.revoked_at, 'the late record is revoked');
      const revoked = (await writ.admin('GET', `/orgs/${org}/audit?type=capability.revoked`)).json.events.find((e: any) => e.subject.capability_id === jti);
      assert.match(revoked?.details.reason, new RegExp(`agent ${sub.client_id} ${what} while capability ${jti} was issued`));
      const feed = await store.revocationFeed.listRevocations(0, 1000);
      assert.ok(feed.entries.some((e) => e.type === 'jti' && e.id === jti), 'the feed names it for verifiers');
    });
  }

  await t.test('the orchestrator in the chain disabled while its sub-agent\'s capability is minted', async () => {
    const orchestrator = await newAgent('Orchestrator');
    const sub = await newAgent('Its sub-agent');
    const own = await delegate(writ, { ...seeded, agent: orchestrator }, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
    const parent = await exchange(writ, orchestrator, { subject_token: own.tokens!.access_token, subject_token_type: ACCESS_TOKEN });
    assert.equal(parent.status, 200, JSON.stringify(parent.json));
    during = lifecycleStep('POST', `/agents/${orchestrator.client_id}/disable`);
    await refusedAndEnded(await exchange(writ, sub, { subject_token: parent.json.access_token, subject_token_type: JWT }), new RegExp(`agent ${orchestrator.client_id} disabled`));
    assert.ok((await store.capabilities.getCapability(org, await latestCapability()))?.revoked_at);
  });

  await t.test('the user disabled while a capability of theirs is minted', async () => {
    during = lifecycleStep('POST', `/users/${seeded.user.id}/disable`);
    await refusedAndEnded(await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN }), /user disabled/);
    const jti = await latestCapability();
    const capability = await store.capabilities.getCapability(org, jti);
    assert.ok((await store.grants.getGrant(org, capability!.auth_event_id))?.revoked_at, 'its grant has ended: every checker refuses it');
  });
});
