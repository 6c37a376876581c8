// An org connector may use plain http only for a host the operator allow-listed for private
// egress (development: production refuses the setting), as the shipped connectors' endpoint
// overrides may; every other host stays https-only, and the call goes through to the local service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { billingConnector, startBilling } from '../support/providers/index.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';

const API_KEY = 'sk_test_local_billing_key_0123456789';
const TOOL = 'billing.invoices.pay';
test('an org connector over http works for an allow-listed host, and only for it', async (t) => {
  const billing = await startBilling({ apiKey: API_KEY, invoices: [{ id: 'inv_1', amount_due: 50 }], http: true });
  t.after(() => billing.close());
  assert.match(billing.url, /^http:\/\//);
  const writ = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: new URL(billing.url).host } });
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: [TOOL], connectors: { billing: billingConnector(billing.url) } });
  const org = seeded.org.id;

  // Any host the operator did not list stays https-only, loopback or not, and the answer says why.
  for (const url of [`http://127.0.0.2:${billing.port}`, 'http://billing.example.com', `http://localhost:${billing.port}`]) {
    const refused = await writ.admin('PUT', `/orgs/${org}/connectors/other`, billingConnector(url));
    assert.equal(refused.status, 400, url);
    assert.match(refused.json.error_description, /https URL \(http only for hosts in WRIT_ALLOW_PRIVATE_EGRESS\)/);
  }

  assert.equal((await writ.admin('POST', `/orgs/${org}/connected-accounts`, { connector: 'billing', user_id: seeded.user.id, api_key: API_KEY })).status, 201);
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
  const cap = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([TOOL]) });
  assert.equal(cap.status, 200, JSON.stringify(cap.json));
  const res = await fetch(`${writ.issuer}/v1/tools/${TOOL}/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${cap.json.access_token}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: { invoice_id: 'inv_1', amount: 50 } }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(billing.invoices.get('inv_1')!.paid, [50]);
  assert.equal(billing.calls[0]!.token, API_KEY, 'the key went to the local service, over the allow-listed http');
});
