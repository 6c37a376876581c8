// The agent SDK's side of approval: exchange refused with approval required, requestApproval for
// the exact call, awaitApproval polling at the interval (backing off on slow_down) until the
// person decides — a capability the SDK then spends once, or the denial as a typed error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenExchangeError, WritClient } from '../../src/client/index.ts';
import { approvalWorld, TOOL } from './support.ts';

test('the SDK asks for approval, waits for the decision and spends the approved call once', async (t) => {
  const w = await approvalWorld(t);
  assert.equal((await w.writ.admin('PUT', `/orgs/${w.org_id}/approval-settings`, { allow_admin_api_approval: true })).status, 200);
  const writ = new WritClient({ issuer: w.writ.issuer, clientId: w.xcorp.agent.client_id, clientSecret: w.xcorp.agent.client_secret, maxRetries: 0 });
  const decideWhenAsked = (decision: 'approve' | 'deny') => {
    const waits: number[] = [];
    let decided = false;
    return {
      waits,
      /** The SDK's wait between polls: the person decides during the first; Writ's clock moves on instead of a timer. */
      wait: async (seconds: number) => {
        waits.push(seconds);
        if (!decided && waits.length === 2) {
          decided = true;
          const [pending] = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=pending`)).json.approvals;
          assert.equal((await w.writ.admin('POST', `/orgs/${w.org_id}/approvals/${pending.id}/${decision}`, { on_behalf_of: w.xcorp.user.id, reason: 'not today' })).status, 200);
        }
        w.advance(seconds * 1000);
      },
    };
  };

  await assert.rejects(writ.exchange({ subjectToken: w.johnToken, tool: TOOL, resource: 'billing:invoice:inv_1042' }),
    (err: unknown) => err instanceof TokenExchangeError && err.code === 'access_denied' && /approval required/.test(err.message));

  const request = await writ.requestApproval({ subjectToken: w.johnToken, tool: TOOL, resource: 'billing:invoice:inv_1042', arguments: { invoice_id: 'inv_1042', amount: 4200 }, bindingMessage: 'INV-1042' });
  assert.equal(request.interval, 5);
  const approving = decideWhenAsked('approve');
  const cap = await writ.awaitApproval(request, { wait: approving.wait });
  assert.deepEqual(approving.waits, [5, 5], 'polled at the interval until the decision');
  assert.deepEqual(await writ.execute(TOOL, { invoice_id: 'inv_1042', amount: 4200 }, cap), { id: 'inv_1042', object: 'invoice', status: 'paid', amount_paid: 4200 });
  await assert.rejects(writ.execute(TOOL, { invoice_id: 'inv_1042', amount: 4200 }, cap), (err: any) => err.code === 'invalid_token');

  const denied = await writ.requestApproval({ user: 'john', tool: TOOL, resource: 'billing:invoice:inv_1043', arguments: { invoice_id: 'inv_1043', amount: 9800 } });
  const denying = decideWhenAsked('deny');
  await assert.rejects(writ.awaitApproval(denied, { wait: denying.wait }),
    (err: unknown) => err instanceof TokenExchangeError && err.code === 'access_denied' && /not today/.test(err.message));

  // Polling faster than the interval: the server says slow_down and the SDK waits longer.
  const fast = await writ.requestApproval({ user: 'john', tool: TOOL, resource: 'billing:invoice:inv_1043', arguments: { invoice_id: 'inv_1043', amount: 1500 } });
  const waits: number[] = [];
  let moved = 0;
  const late = writ.awaitApproval({ ...fast, interval: 1 }, {
    wait: async (seconds) => {
      waits.push(seconds);
      if (waits.length === 3) {
        const [pending] = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=pending`)).json.approvals;
        await w.writ.admin('POST', `/orgs/${w.org_id}/approvals/${pending.id}/approve`, { on_behalf_of: w.xcorp.user.id });
      }
      moved += seconds;
      w.advance(seconds * 1000);
    },
  });
  assert.equal((await late).tokenType, 'Bearer');
  assert.deepEqual(waits, [1, 1, 6], 'slow_down made it wait five seconds longer');
  assert.ok(moved > 0);
});
