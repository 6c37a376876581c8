import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApprovalRecord, WebhookDelivery } from '../../../src/storage/index.ts';
import { freshStore, isoAt, T0, type ContractSuite } from '../support/harness.ts';

const approval = (org_id: string, id: string, extra: Partial<ApprovalRecord> = {}): ApprovalRecord => ({
  id, org_id, request_ref: `sha256:${id}`, request_sealed: 'sealed', status: 'pending', agent_id: 'agt_1', chain: ['agt_1'], user_id: 'usr_1',
  grant_id: 'grt_1', held: [{ type: 'tool_access', tools: ['billing.invoices.pay'] }],
  details: [{ type: 'tool_access', tools: ['billing.invoices.pay'], constraints: { amount: { eq: 4200 } } }],
  audience: 'https://writ.example/executor', requirement: { rules: ['r'], approvers: ['user'], fresh_sign_in: 300 },
  created_at: T0, expires_at: isoAt(600), ...extra,
});

const delivery = (org_id: string, id: string, extra: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  id, org_id, approval_id: 'apr_1', event: 'approval.requested', url: 'https://hooks.example/w', body: '{}', attempts: 0, next_attempt_at: T0, ...extra,
});

export const approvalsContract: ContractSuite = (adapter, factory) => {
  describe(`approvals port (${adapter})`, () => {
    test('requests are per org, found by request digest, and move only from the status they are in', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.approvals.createApproval('org_A', approval('org_A', 'apr_1'));
      await store.approvals.createApproval('org_B', approval('org_B', 'apr_2', { user_id: 'usr_2' }));
      assert.equal(await store.approvals.getApproval('org_B', 'apr_1'), undefined);
      assert.equal((await store.approvals.findApprovalByRequest('sha256:apr_1'))?.org_id, 'org_A');
      assert.deepEqual((await store.approvals.listApprovals('org_A')).map((a) => a.id), ['apr_1']);
      assert.deepEqual(await store.approvals.listApprovals('org_B', { user_id: 'usr_1' }), []);
      const approved = { ...approval('org_A', 'apr_1'), status: 'approved' as const, decided_at: isoAt(5) };
      const racing = await Promise.all([1, 2, 3].map(() => store.approvals.transitionApproval('org_A', 'apr_1', 'pending', approved)));
      assert.deepEqual(racing.filter(Boolean).length, 1, 'one racing move wins');
      assert.equal(await store.approvals.transitionApproval('org_B', 'apr_1', 'approved', { ...approved, status: 'issued' }), false, 'not through another org');
      assert.equal(await store.approvals.transitionApproval('org_A', 'apr_1', 'approved', { ...approved, status: 'issued' }), true);
      assert.equal((await store.approvals.getApproval('org_A', 'apr_1'))?.status, 'issued');
      assert.deepEqual((await store.approvals.listApprovals('org_A', { status: 'issued' })).map((a) => a.id), ['apr_1']);
      await assert.rejects(store.approvals.createApproval('org_A', approval('org_A', 'apr_3', { request_ref: 'sha256:apr_1' })), 'a request digest is unique');
    });

    test('the expiry sweep finds pending requests past their expiry, across orgs', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.approvals.createApproval('org_A', approval('org_A', 'apr_1', { expires_at: isoAt(10) }));
      await store.approvals.createApproval('org_B', approval('org_B', 'apr_2', { expires_at: isoAt(20) }));
      await store.approvals.createApproval('org_A', approval('org_A', 'apr_3', { expires_at: isoAt(5), status: 'approved' }));
      assert.deepEqual((await store.approvals.expiredPending(isoAt(9), 10)).map((a) => a.id), []);
      assert.deepEqual((await store.approvals.expiredPending(isoAt(30), 10)).map((a) => a.id), ['apr_1', 'apr_2']);
    });

    test('settings are per org and replaced whole', async (t) => {
      const { store } = await freshStore(t, factory);
      const settings = { org_id: 'org_A', allow_admin_api_approval: true, groups: { finance: ['usr_1'] }, agents: {}, webhook_url: 'https://hooks.example/w', updated_at: T0 };
      await store.approvals.putApprovalSettings('org_A', settings);
      assert.deepEqual(await store.approvals.getApprovalSettings('org_A'), settings);
      assert.equal(await store.approvals.getApprovalSettings('org_B'), undefined);
      const { webhook_url: _gone, ...without } = settings;
      await store.approvals.putApprovalSettings('org_A', { ...without, updated_at: isoAt(1) });
      assert.equal((await store.approvals.getApprovalSettings('org_A'))?.webhook_url, undefined);
    });

    test('deliveries: enqueued once per id, due by time, claimed by one worker, closed when delivered', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.approvals.enqueueDelivery('org_A', delivery('org_A', 'whk_1'));
      await store.approvals.enqueueDelivery('org_A', delivery('org_A', 'whk_1', { body: '{"again":true}' }));
      await store.approvals.enqueueDelivery('org_B', delivery('org_B', 'whk_2', { next_attempt_at: isoAt(60) }));
      assert.deepEqual((await store.approvals.dueDeliveries(isoAt(1), 10)).map((d) => [d.id, d.body]), [['whk_1', '{}']]);
      const claims = await Promise.all([1, 2].map(() => store.approvals.claimDelivery('org_A', 'whk_1', T0, isoAt(60))));
      assert.deepEqual(claims.filter(Boolean).length, 1, 'one worker attempts it');
      assert.deepEqual(await store.approvals.dueDeliveries(isoAt(1), 10), []);
      await store.approvals.updateDelivery('org_A', delivery('org_A', 'whk_1', { attempts: 1, delivered_at: isoAt(2), next_attempt_at: isoAt(60) }));
      assert.deepEqual((await store.approvals.dueDeliveries(isoAt(100), 10)).map((d) => d.id), ['whk_2'], 'a delivered one is never due again');
      assert.equal((await store.approvals.listDeliveries('org_A', 'apr_1'))[0]?.delivered_at, isoAt(2));
      assert.deepEqual(await store.approvals.listDeliveries('org_B', 'apr_9'), []);
    });
  });
};
