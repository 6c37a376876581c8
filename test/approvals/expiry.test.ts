// A request nobody decides and nobody polls still ends: the sweep marks it expired once, on the
// record and at the org's webhook, and nothing can decide it afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../support/wait.ts';
import { approvalWorld, askApproval, auditOf, httpsReceiver, payment, pollToken } from './support.ts';

test('an undecided request expires on its own, once, with its event and webhook', async (t) => {
  const hooks = await httpsReceiver(t);
  const w = await approvalWorld(t, { allowHosts: [hooks.host] });
  assert.equal((await w.writ.admin('PUT', `/orgs/${w.org_id}/approval-settings`, { webhook_url: `${hooks.url}/hooks`, allow_admin_api_approval: true })).status, 200);
  const asked = await askApproval(w, { login_hint: 'john', authorization_details: payment('inv_1042', 4200), requested_expiry: '30' });
  assert.equal(asked.status, 200, asked.text);
  await hooks.waitFor(1);
  w.advance(31_000);
  await waitFor('approval.expired on the record', async () => (await auditOf(w, 'approval.expired')).length > 0);
  const [delivered] = (await hooks.waitFor(2)).slice(1);
  assert.equal(JSON.parse(delivered!.body).type, 'approval.expired');
  const id = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=expired`)).json.approvals[0].id as string;
  const late = await w.writ.admin('POST', `/orgs/${w.org_id}/approvals/${id}/approve`, { on_behalf_of: w.xcorp.user.id });
  assert.equal(late.status, 409, 'an expired request cannot be approved');
  assert.equal((await pollToken(w, asked.json.auth_req_id)).json.error, 'expired_token');
  assert.equal((await auditOf(w, 'approval.expired')).length, 1, 'expired once, however many looked');
});
