import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';
import { startTestWrit } from '../support/writ.ts';

test('master key rotation: a new version joins, data keys and signing keys are re-wrapped, the old version leaves, everything still works', async (t) => {
  const v1 = `v1:${randomBytes(32).toString('base64url')}`;
  const v2 = `v2:${randomBytes(32).toString('base64url')}`;
  const { writ, demo } = await startWritWithDemo({ env: { WRIT_MASTER_KEY: v1 } });
  t.after(() => demo.close());
  const seeded = await seedOrg(writ, { tools: ['demo.notes.create'] });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const link = (await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id })).json.authorization_url;
  assert.match((await openConnectLink(run.browser, link)).text, /is connected/);
  const env = (key: string) => ({
    PORT: String(writ.port), WRIT_ADMIN_TOKEN: writ.adminToken, WRIT_MASTER_KEY: key, WRIT_DEMO_PROVIDER_URL: demo.url,
    WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1', WRIT_CONNECTOR_CLIENTS: JSON.stringify({ demo: { client_id: 'writ-demo', client_secret: 'demo-client-secret-of-length' } }),
  });
  await writ.stop({ keepData: true });
  await new Promise((r) => setTimeout(r, 100));

  // Both versions in the ring, newest first: v2 seals from now on, v1 still opens.
  const both = await startTestWrit({ dataDir: writ.dataDir, env: env(`${v2},${v1}`) });
  const res = await both.admin('POST', '/vault/rewrap');
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.data_keys.done, 1);
  assert.ok(res.json.signing_keys >= 3);
  await both.stop({ keepData: true });
  await new Promise((r) => setTimeout(r, 100));

  // v1 is gone; the vaulted credential and the signing keys open under v2 alone.
  const only = await startTestWrit({ dataDir: writ.dataDir, env: env(v2) });
  t.after(() => only.stop());
  const cap = await exchange(only, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['demo.notes.create']) });
  assert.equal(cap.status, 200, JSON.stringify(cap.json));
  const executed = await fetch(`${only.issuer}/v1/tools/demo.notes.create/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${cap.json.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { title: 'after rotation', body: 'still readable' } }),
  });
  assert.equal(executed.status, 200, await executed.text());
  assert.equal(demo.notes.at(-1)?.title, 'after rotation');
});
