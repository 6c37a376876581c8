// The capability an approval yields: a Biscuit when the poll asks for one, DPoP-bound when the poll
// carries a proof, and one only, however many deciders and pollers race for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDpopKey, dpopProof } from '../../src/client/dpop.ts';
import { BISCUIT } from '../support/exchange.ts';
import { executeRaw } from '../stories/helpers.ts';
import { approvalWorld, askApproval, claimsOf, payment, pollToken, TOOL, type ApprovalWorld } from './support.ts';

async function approved(w: ApprovalWorld, invoice: string, amount: number): Promise<{ auth_req_id: string; id: string }> {
  const asked = await askApproval(w, { login_hint: 'john', authorization_details: payment(invoice, amount) });
  assert.equal(asked.status, 200, asked.text);
  const id = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=pending`)).json.approvals[0].id as string;
  const res = await w.writ.admin('POST', `/orgs/${w.org_id}/approvals/${id}/approve`, { on_behalf_of: w.xcorp.user.id });
  assert.equal(res.status, 200, res.text);
  return { auth_req_id: asked.json.auth_req_id, id };
}

test('an approval yields a Biscuit, or a DPoP-bound capability, on request', async (t) => {
  const w = await approvalWorld(t);
  assert.equal((await w.writ.admin('PUT', `/orgs/${w.org_id}/approval-settings`, { allow_admin_api_approval: true })).status, 200);
  const execute = `${w.writ.issuer}/v1/tools/${TOOL}/execute`;

  await t.test('Biscuit: the approved amount once, nothing else', async () => {
    const { auth_req_id, id } = await approved(w, 'inv_1042', 4200);
    const res = await pollToken(w, auth_req_id, { requested_token_type: BISCUIT });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.issued_token_type, BISCUIT);
    const cap = res.json.access_token as string;
    assert.equal((await executeRaw(w.writ, TOOL, cap, { input: { invoice_id: 'inv_1042', amount: 4201 } })).json.error.code, 'constraint_failed');
    assert.equal((await executeRaw(w.writ, TOOL, cap, { input: { invoice_id: 'inv_1042', amount: 4200 } })).status, 200);
    assert.equal((await executeRaw(w.writ, TOOL, cap, { input: { invoice_id: 'inv_1042', amount: 4200 } })).json.error.reason, 'spent');
    const executed = (await w.writ.admin('GET', `/orgs/${w.org_id}/audit?type=tool.executed`)).json.events;
    assert.deepEqual(executed.map((e: any) => e.subject.approval_id), [id], 'the Biscuit names its approval too');
  });

  await t.test('DPoP: a proof on the poll binds the capability to that key', async () => {
    const { auth_req_id } = await approved(w, 'inv_1043', 9800);
    const key = await createDpopKey();
    const res = await pollToken(w, auth_req_id, {}, { dpop: await dpopProof(key, { htm: 'POST', htu: `${w.writ.issuer}/token` }) });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.token_type, 'DPoP');
    const cap = res.json.access_token as string;
    assert.ok(claimsOf(cap).cnf?.jkt, 'bound to the key');
    const bearer = await executeRaw(w.writ, TOOL, cap, { input: { invoice_id: 'inv_1043', amount: 9800 } });
    assert.equal(bearer.status, 401, 'a bound capability without its proof is refused');
    const other = await createDpopKey();
    const wrongKey = await executeRaw(w.writ, TOOL, cap, { input: { invoice_id: 'inv_1043', amount: 9800 } }, {
      headers: { authorization: `DPoP ${cap}`, dpop: await dpopProof(other, { htm: 'POST', htu: execute, accessToken: cap }) },
    });
    assert.equal(wrongKey.status, 401, 'another key\'s proof is refused');
    const paid = await executeRaw(w.writ, TOOL, cap, { input: { invoice_id: 'inv_1043', amount: 9800 } }, {
      headers: { authorization: `DPoP ${cap}`, dpop: await dpopProof(key, { htm: 'POST', htu: execute, accessToken: cap }) },
    });
    assert.equal(paid.status, 200, paid.text);
    assert.deepEqual(w.billing.invoices.get('inv_1043')!.paid, [9800]);
  });
});

test('racing deciders and pollers: one decision wins, one capability is issued', async (t) => {
  const w = await approvalWorld(t);
  assert.equal((await w.writ.admin('PUT', `/orgs/${w.org_id}/approval-settings`, { allow_admin_api_approval: true })).status, 200);
  const asked = await askApproval(w, { login_hint: 'john', authorization_details: payment('inv_1042', 4200) });
  const id = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=pending`)).json.approvals[0].id as string;
  const decisions = await Promise.all(Array.from({ length: 8 }, (_, i) =>
    w.writ.admin('POST', `/orgs/${w.org_id}/approvals/${id}/${i % 2 ? 'deny' : 'approve'}`, { on_behalf_of: w.xcorp.user.id })));
  assert.deepEqual(decisions.map((d) => d.status).sort(), [200, 409, 409, 409, 409, 409, 409, 409]);
  const winner = decisions.find((d) => d.status === 200)!.json.status as string;
  const polls = await Promise.all(Array.from({ length: 8 }, () => pollToken(w, asked.json.auth_req_id)));
  if (winner === 'approved') {
    assert.equal(polls.filter((p) => p.status === 200).length, 1, polls.map((p) => p.text).join('\n'));
    assert.ok(polls.filter((p) => p.status !== 200).every((p) => p.json.error === 'invalid_grant'));
  } else {
    assert.ok(polls.every((p) => p.json.error === 'access_denied'));
  }
  const events = (await w.writ.admin('GET', `/orgs/${w.org_id}/audit?type=token.exchanged`)).json.events;
  assert.equal(events.filter((e: any) => e.details.approval_id === id).length, winner === 'approved' ? 1 : 0);
});
