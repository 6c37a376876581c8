// The token exchange takes the presenting agent's ceiling from the record client authentication
// read in the same request, instead of reading the agent again. Whatever an admin changes about
// the agent must hold from the very next exchange: a narrowed ceiling, a widened one, a disabled
// agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';

test('a ceiling changed or an agent disabled by an admin holds from the next exchange', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create', 'demo.notes.get'] }] });
  assert.ok(run.tokens, 'delegated');
  const ask = (tool: string) => exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([tool]) });
  const agentPath = `/orgs/${seeded.org.id}/agents/${seeded.agent.client_id}`;

  assert.equal((await ask('demo.notes.create')).status, 200);
  assert.equal((await ask('demo.notes.get')).status, 200);

  const narrowed = await writ.admin('PATCH', agentPath, { tools: ['demo.notes.get'] });
  assert.equal(narrowed.status, 200, narrowed.text);
  const refused = await ask('demo.notes.create');
  assert.equal(refused.status, 400, JSON.stringify(refused.json));
  assert.equal((await ask('demo.notes.get')).status, 200);

  const widened = await writ.admin('PATCH', agentPath, { tools: ['demo.notes.create', 'demo.notes.get'] });
  assert.equal(widened.status, 200, widened.text);
  assert.equal((await ask('demo.notes.create')).status, 200, 'the ceiling of now, not of an earlier read');

  const disabled = await writ.admin('POST', `${agentPath}/disable`);
  assert.equal(disabled.status, 200, disabled.text);
  const afterDisable = await ask('demo.notes.get');
  assert.equal(afterDisable.status, 401, JSON.stringify(afterDisable.json));
  assert.equal(afterDisable.json.error, 'invalid_client');
});
