// An approval stands on the grant behind it. Revoke the grant after the approval, and the approval
// yields nothing: the poll is refused; revoke it after the capability was issued, and the
// capability is refused at the executor. Either way the billing service sees no call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../support/wait.ts';
import { executeRaw } from '../stories/helpers.ts';
import { APPROVAL_POLICY, approvalWorld, askApproval, auditOf, pollToken, payment, TOOL, type ApprovalWorld } from './support.ts';

async function approvedRequest(w: ApprovalWorld, invoice: string, amount: number) {
  const asked = await askApproval(w, { login_hint: 'john', authorization_details: payment(invoice, amount) });
  assert.equal(asked.status, 200, asked.text);
  const id = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=pending`)).json.approvals[0].id as string;
  const approved = await w.writ.admin('POST', `/orgs/${w.org_id}/approvals/${id}/approve`, { on_behalf_of: w.xcorp.user.id });
  assert.equal(approved.status, 200, approved.text);
  return { auth_req_id: asked.json.auth_req_id as string, grant_id: approved.json.grant_id as string };
}

test('an approval whose grant is revoked before use yields nothing usable', async (t) => {
  const w = await approvalWorld(t);
  assert.equal((await w.writ.admin('PUT', `/orgs/${w.org_id}/approval-settings`, { allow_admin_api_approval: true })).status, 200);

  // Revoked between the approval and the poll: the token endpoint issues nothing.
  const early = await approvedRequest(w, 'inv_1042', 4200);
  // The capability issued before the revocation below: refused at the executor after it.
  const late = await approvedRequest(w, 'inv_1043', 9800);
  assert.equal(early.grant_id, late.grant_id);
  const issued = await pollToken(w, late.auth_req_id);
  assert.equal(issued.status, 200, issued.text);

  // A third request is still waiting when the grant goes.
  const waiting = await askApproval(w, { login_hint: 'john', authorization_details: payment('inv_1042', 1500) });
  assert.equal(waiting.status, 200, waiting.text);
  const waitingId = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=pending`)).json.approvals[0].id as string;

  const revoked = await w.writ.admin('DELETE', `/orgs/${w.org_id}/grants/${early.grant_id}`);
  assert.ok(revoked.status === 200 || revoked.status === 204, revoked.text);

  const tooLate = await w.writ.admin('POST', `/orgs/${w.org_id}/approvals/${waitingId}/approve`, { on_behalf_of: w.xcorp.user.id });
  assert.equal(tooLate.status, 409, 'nothing left to approve');
  assert.match(tooLate.json.error_description, /delegation behind this request has ended/);

  const poll = await pollToken(w, early.auth_req_id);
  assert.equal(poll.status, 400);
  assert.equal(poll.json.error, 'invalid_grant');
  assert.match(poll.json.error_description, /revoked/);
  assert.equal(poll.json.access_token, undefined);

  const use = await executeRaw(w.writ, TOOL, issued.json.access_token, { input: { invoice_id: 'inv_1043', amount: 9800 } });
  assert.equal(use.status, 401, use.text);
  assert.equal(use.json.error.code, 'invalid_token');
  assert.equal(w.billing.calls.length, 0, 'the billing service saw no call');
  assert.ok((await auditOf(w, 'token.exchange_denied')).some((e) => /revoked/.test(e.details.reason)), 'the refused issuance is on the record');
});

test('an approval given under one policy yields nothing once a stricter policy is in force', async (t) => {
  const w = await approvalWorld(t);
  assert.equal((await w.writ.admin('PUT', `/orgs/${w.org_id}/approval-settings`, { allow_admin_api_approval: true })).status, 200);
  const { auth_req_id } = await approvedRequest(w, 'inv_1042', 4200);
  // While the agent waits, the org adds a rule: payments over 4,000 need an admin too.
  writeFileSync(join(w.policies, 'invoices.yaml'), `${APPROVAL_POLICY}  - id: admins-approve-over-4000
    description: An admin also approves payments over 4,000.
    effect: require_approval
    match: { tools: ["billing.invoices.pay"] }
    when: { amount: { gt: 4000 } }
    approvers: org_admin
`);
  await waitFor('the new policy to load', async () => {
    const run = await w.writ.admin('POST', `/orgs/${w.org_id}/policy/dry-run`, { agent_id: w.xcorp.agent.client_id, user_id: w.xcorp.user.id, tools: [TOOL], arguments: { amount: { eq: 4200 } } });
    return (run.json?.decision?.approval?.rules ?? []).includes('admins-approve-over-4000');
  });
  const poll = await pollToken(w, auth_req_id);
  assert.equal(poll.json.error, 'access_denied', poll.text);
  assert.match(poll.json.error_description, /does not meet rule admins-approve-over-4000/);
  assert.equal(poll.json.access_token, undefined);
});
