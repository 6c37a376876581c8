// One tool call reads its connector once: the tool, the upstream request, the credential's header
// and the answer's success field all come from that one read, so a connector replaced mid-call
// cannot give a call one definition's request and another's credential placement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delegate } from '../support/delegation.ts';
import { ACCESS_TOKEN, exchange } from '../support/exchange.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { startBilling } from '../support/providers/index.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { WritStore } from '../../src/storage/index.ts';

const TOOL = 'billing.invoices.pay';
const API_KEY = 'sk_live_xcorp_billing_0123456789abcdef';

const billingConnector = (api_base_url: string) => ({
  display_name: 'Billing', auth: { type: 'api_key', prefix: 'Bearer ' }, api_base_url,
  tools: {
    'invoices.pay': {
      description: 'Pay an open invoice.', method: 'POST', path: '/v1/invoices/{invoice_id}/pay',
      input_schema: {
        type: 'object', properties: { invoice_id: { type: 'string', minLength: 1 }, amount: { type: 'number', exclusiveMinimum: 0 } },
        required: ['invoice_id', 'amount'], additionalProperties: false,
      },
      body: ['amount'], resource: 'billing:invoice:{invoice_id}',
    },
  },
});

/** The store, with the org connector reads counted at the org connectors port. */
function countingConnectorReads(store: WritStore): { store: WritStore; reads: () => number } {
  let reads = 0;
  const orgConnectors = new Proxy(store.orgConnectors, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === 'getOrgConnector') return (...args: Parameters<typeof target.getOrgConnector>) => { reads++; return target.getOrgConnector(...args); };
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const wrapped = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'orgConnectors') return orgConnectors;
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: wrapped, reads: () => reads };
}

test('one execute call reads the tool\'s connector once', async (t) => {
  const billing = await startBilling({ apiKey: API_KEY, invoices: [{ id: 'inv_1', amount_due: 10 }] });
  t.after(() => billing.close());
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-connector-reads-'));
  const opened = openSqliteStore(dataDir);
  t.after(() => { opened.close(); rmSync(dataDir, { recursive: true, force: true }); });
  const counted = countingConnectorReads(opened);
  const writ = await startTestWrit({ dataDir, env: { WRIT_ALLOW_PRIVATE_EGRESS: new URL(billing.url).host }, writ: { store: counted.store } });
  t.after(() => writ.stop({ keepData: true }));

  const seeded = await seedOrg(writ, { tools: [TOOL], connectors: { billing: billingConnector(billing.url) } });
  const org_id = seeded.org.id;
  assert.equal((await writ.admin('POST', `/orgs/${org_id}/connected-accounts`, { connector: 'billing', user_id: seeded.user.id, api_key: API_KEY })).status, 201);
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
  const cap = await exchange(writ, seeded.agent, {
    subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN,
    authorization_details: JSON.stringify([{ type: 'tool_access', tools: [TOOL], resources: ['billing:invoice:inv_1'] }]),
  });
  assert.equal(cap.status, 200, JSON.stringify(cap.json));

  const before = counted.reads();
  const res = await fetch(`${writ.issuer}/v1/tools/${TOOL}/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${cap.json.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { invoice_id: 'inv_1', amount: 10 } }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal(counted.reads() - before, 1, 'the connector is read once for the whole call');
  assert.equal(billing.calls.length, 1, 'and the provider was called once');
});
