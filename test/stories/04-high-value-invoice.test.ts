// Story 4 — The high-value invoice (docs/guides/high-value-invoice.md).
// Paying invoice inv_1042 gets a capability that is single-use, lives one minute, names that
// invoice and caps the amount at the approved figure. A second use, another invoice, a larger
// amount, or a use after the minute: each is refused, and each refusal is on the record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delegate } from '../support/delegation.ts';
import { ACCESS_TOKEN, exchange } from '../support/exchange.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { startBilling } from '../support/providers/index.ts';
import { billingConnector } from '../support/providers/billing.ts';
import { executeRaw } from './helpers.ts';

const TOOL = 'billing.invoices.pay';
const API_KEY = 'sk_live_xcorp_billing_0123456789abcdef';
const POLICY = `version: 1
rules:
  - id: invoices-single-use
    description: Paying an invoice is single-use, alive for a minute, and capped.
    effect: allow
    match: { tools: ["billing.invoices.*"] }
    constraints:
      single_use: true
      max_ttl: 60
      arguments:
        "billing.invoices.pay":
          amount: { max: 10000 }
`;


test('the high-value invoice: one payment, of that invoice, up to the approved amount, within the minute', async (t) => {
  const billing = await startBilling({ apiKey: API_KEY, invoices: [{ id: 'inv_1042', amount_due: 4200 }, { id: 'inv_1043', amount_due: 9800 }] });
  t.after(() => billing.close());
  const policies = mkdtempSync(join(tmpdir(), 'writ-invoice-policies-'));
  copyFileSync(join(import.meta.dirname, '../../policies/default.yaml'), join(policies, 'default.yaml'));
  writeFileSync(join(policies, 'invoices.yaml'), POLICY);
  // Writ's clock runs with the wall clock, and the test can move it on.
  let skew = 0;
  const clock = { now: () => Date.now() + skew };
  const writ = await startTestWrit({ env: { WRIT_POLICIES: policies, WRIT_ALLOW_PRIVATE_EGRESS: new URL(billing.url).host }, writ: { clock } });
  t.after(() => writ.stop());

  // The org registers its billing service first: an agent's ceiling names only tools that exist.
  const xcorp = await seedOrg(writ, { name: 'XCorp', username: 'john', tools: [TOOL], connectors: { billing: billingConnector(billing.url) } });
  const org_id = xcorp.org.id;
  // John (finance) connects his own billing API key; the agent never sees it.
  const account = await writ.admin('POST', `/orgs/${org_id}/connected-accounts`, { connector: 'billing', user_id: xcorp.user.id, api_key: API_KEY });
  assert.equal(account.status, 201, account.text);
  const john = await delegate(writ, xcorp, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });

  /** The capability for paying one invoice, up to the approved figure. */
  const approve = async (invoice: string, amount: number) => {
    const res = await exchange(writ, xcorp.agent, {
      subject_token: john.tokens!.access_token, subject_token_type: ACCESS_TOKEN,
      authorization_details: JSON.stringify([{ type: 'tool_access', tools: [TOOL], resources: [`billing:invoice:${invoice}`], constraints: { amount: { max: amount } } }]),
    });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json as { access_token: string; expires_in: number };
  };
  const pay = (cap: string, invoice_id: string, amount: number) => executeRaw(writ, TOOL, cap, { input: { invoice_id, amount } });

  const cap = await approve('inv_1042', 4200);
  assert.ok(cap.expires_in <= 60, `lives at most a minute (${cap.expires_in}s)`);

  await t.test('a larger amount is refused, and does not use the capability up', async () => {
    const res = await pay(cap.access_token, 'inv_1042', 4200.01);
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json.error.code, 'constraint_failed');
  });

  await t.test('another invoice is refused', async () => {
    const res = await pay(cap.access_token, 'inv_1043', 100);
    assert.equal(res.json.error.code, 'insufficient_scope', res.text);
  });

  await t.test('the approved payment goes through once', async () => {
    const res = await pay(cap.access_token, 'inv_1042', 4200);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.data.status, 'paid');
    assert.deepEqual(billing.invoices.get('inv_1042')!.paid, [4200]);
    assert.equal(billing.calls.at(-1)!.token, API_KEY, 'the billing service saw John\'s key, which the agent never held');
  });

  await t.test('a second use is refused', async () => {
    const res = await pay(cap.access_token, 'inv_1042', 4200);
    assert.equal(res.status, 401);
    assert.equal(res.json.error.code, 'invalid_token');
    assert.equal(res.json.error.reason, 'spent');
  });

  await t.test('a use after the minute is refused', async () => {
    const fresh = await approve('inv_1043', 9800);
    skew += 61_000;
    const res = await pay(fresh.access_token, 'inv_1043', 9800);
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json.error.code, 'invalid_token');
    assert.equal(res.json.error.reason, 'expired');
    assert.deepEqual(billing.invoices.get('inv_1043')!.paid, []);
  });

  await t.test('the policy\'s own ceiling holds whatever the request asks', async () => {
    skew = 0;
    const res = await exchange(writ, xcorp.agent, {
      subject_token: john.tokens!.access_token, subject_token_type: ACCESS_TOKEN,
      authorization_details: JSON.stringify([{ type: 'tool_access', tools: [TOOL], resources: ['billing:invoice:inv_1043'] }]),
    });
    assert.equal(res.status, 200);
    const over = await pay(res.json.access_token, 'inv_1043', 10_000.5);
    assert.equal(over.json.error.code, 'constraint_failed', 'the policy caps every payment at 10000');
  });

  await t.test('every refusal is on the record, with the capability it tried to spend', async () => {
    const denied = (await writ.admin('GET', `/orgs/${org_id}/audit?type=tool.denied&tool=${TOOL}`)).json.events.reverse();
    assert.deepEqual(denied.map((e: any) => e.details.outcome), ['constraint_failed', 'insufficient_scope', 'invalid_token', 'invalid_token', 'constraint_failed']);
    for (const e of denied) {
      assert.equal(e.subject.user_id, xcorp.user.id);
      assert.match(e.subject.capability_id, /^cap_/);
    }
    assert.equal(billing.calls.length, 1, 'the billing service saw exactly the one approved payment');
  });
});
