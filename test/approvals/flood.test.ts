// An agent cannot bury a person in approval requests (approval fatigue is how a hijacked agent
// gets a careless yes): a few may wait at a time, per agent and person; a decision makes room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PENDING_PER_AGENT_AND_USER } from '../../src/approvals/service.ts';
import { approvalWorld, askApproval, payment } from './support.ts';

test('a handful of requests may wait on one person; the next is refused until one is decided', async (t) => {
  const w = await approvalWorld(t);
  assert.equal((await w.writ.admin('PUT', `/orgs/${w.org_id}/approval-settings`, { allow_admin_api_approval: true })).status, 200);
  const ask = (n: number) => askApproval(w, { login_hint: 'john', authorization_details: payment('inv_1042', 2000 + n) });
  const answers = await Promise.all(Array.from({ length: MAX_PENDING_PER_AGENT_AND_USER }, (_, n) => ask(n)));
  assert.deepEqual(answers.map((a) => a.status), Array(MAX_PENDING_PER_AGENT_AND_USER).fill(200));
  const over = await ask(99);
  assert.equal(over.status, 400, over.text);
  assert.equal(over.json.error, 'invalid_request');
  assert.match(over.json.error_description, /waiting on this user/);
  const pending = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=pending`)).json.approvals as Array<{ id: string }>;
  assert.equal(pending.length, MAX_PENDING_PER_AGENT_AND_USER, 'the refused one was not recorded');
  assert.equal((await w.writ.admin('POST', `/orgs/${w.org_id}/approvals/${pending[0]!.id}/deny`, { on_behalf_of: w.xcorp.user.id })).status, 200);
  assert.equal((await ask(100)).status, 200, 'a decision made room');
});
