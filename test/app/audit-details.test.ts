// The audit record says what was consented and what was issued: after a delegation and an
// exchange, `grant.created` and `token.exchanged` hold the whole authorization_details —
// tools, resources, constraints — and no token.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delegate } from '../support/delegation.ts';
import { ACCESS_TOKEN, exchange } from '../support/exchange.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';

test('grant.created and token.exchanged record the full authorization_details', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: ['notion.pages.create', 'demo.notes.create'] });
  const consented = [{
    type: 'tool_access', tools: ['notion.pages.create'], resources: ['notion:page:8a1f0c2e'],
    // A constraint on an input whose name is also a secret's name is still what was consented.
    constraints: { code: { starts_with: 'FR-' } },
  }];
  const run = await delegate(writ, seeded, { authorization_details: consented });
  assert.ok(run.tokens, 'consented');
  const issued = await exchange(writ, seeded.agent, {
    subject_token: run.tokens.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: JSON.stringify(consented),
  });
  assert.equal(issued.status, 200, JSON.stringify(issued.json));

  const audit = async (type: string) => (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=${type}`)).json.events as any[];
  const [granted] = await audit('grant.created');
  assert.deepEqual(granted.details.authorization_details, consented);
  const [exchanged] = await audit('token.exchanged');
  assert.deepEqual(exchanged.details.authorization_details, issued.json.authorization_details);
  assert.deepEqual(exchanged.details.authorization_details[0].tools, ['notion.pages.create']);
  assert.deepEqual(exchanged.details.authorization_details[0].resources, ['notion:page:8a1f0c2e']);
  assert.deepEqual(exchanged.details.authorization_details[0].constraints, { code: { starts_with: 'FR-' } });

  const everything = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?limit=1000`)).text + writ.logs.join('\n');
  for (const secret of [run.tokens.access_token, run.tokens.refresh_token!, issued.json.access_token as string, seeded.agent.client_secret]) {
    assert.ok(!everything.includes(secret), 'a token or secret is in the audit record or the log');
  }
  assert.equal((await writ.admin('POST', `/orgs/${seeded.org.id}/audit/verify`)).json.ok, true);
});
