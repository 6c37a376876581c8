// A person who is disabled or deleted leaves no request waiting on them: every pending approval
// request about them is denied with the lifecycle's cause, in the user's one event as a count,
// and the agent's next poll answers access_denied (nothing is left for anyone to approve).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { approvalWorld, askApproval, auditOf, pollToken, payment } from './support.ts';

for (const ending of ['disable', 'delete'] as const) {
  test(`a user's pending approval requests end when the user is ${ending}d`, async (t) => {
    const w = await approvalWorld(t);
    const asked = [];
    for (const [invoice, amount] of [['inv_1042', 4200], ['inv_1043', 9800]] as const) {
      const res = await askApproval(w, { login_hint: 'john', authorization_details: payment(invoice, amount) });
      assert.equal(res.status, 200, res.text);
      asked.push(res.json.auth_req_id as string);
    }
    const waiting = await pollToken(w, asked[0]!);
    assert.equal(waiting.json?.error, 'authorization_pending', waiting.text);

    const user = `/orgs/${w.org_id}/users/${w.xcorp.user.id}`;
    const ended = ending === 'disable' ? await w.writ.admin('POST', `${user}/disable`) : await w.writ.admin('DELETE', user);
    assert.ok(ended.status === 200 || ended.status === 204, ended.text);

    const left = await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=pending`);
    assert.equal(left.status, 200, left.text);
    assert.deepEqual(left.json.approvals, [], 'nothing waits on them');
    for (const id of asked) {
      const poll = await pollToken(w, id);
      assert.equal(poll.status, 400, poll.text);
      assert.equal(poll.json.error, 'access_denied');
      assert.match(poll.json.error_description, new RegExp(`user ${ending}d \\(admin\\)`));
      assert.equal(poll.json.access_token, undefined);
    }

    const denied = await auditOf(w, 'approval.denied');
    assert.equal(denied.length, 2);
    for (const e of denied) {
      assert.equal(e.actor.kind, 'system');
      assert.equal(e.details.cause, 'admin');
      assert.equal(e.subject.user_id, w.xcorp.user.id);
    }
    const [event] = await auditOf(w, ending === 'disable' ? 'user.disabled' : 'user.deleted');
    assert.equal(event?.details.pending_approvals_denied, 2, 'the user\'s one event counts them');
    assert.equal(w.billing.calls.length, 0);
  });
}
