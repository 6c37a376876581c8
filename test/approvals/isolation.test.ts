// An approval belongs to the agent that asked, in its org: another agent of the org, or an agent
// of another org, cannot ask with John's token, poll the request, or spend what it yields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { billingConnector } from '../support/providers/billing.ts';
import { approvalWorld, askApproval, CIBA_GRANT, payment, TOOL } from './support.ts';

test('another agent, of this org or another, gets nothing from John\'s approval', async (t) => {
  const w = await approvalWorld(t);
  assert.equal((await w.writ.admin('PUT', `/orgs/${w.org_id}/approval-settings`, { allow_admin_api_approval: true })).status, 200);
  const sibling = (await w.writ.admin('POST', `/orgs/${w.org_id}/agents`, { name: 'Sibling', tools: [TOOL] })).json as { client_id: string; client_secret: string };
  const other = (await w.writ.admin('POST', '/orgs', { name: 'YCorp' })).json;
  // YCorp registered the same billing connector, so its agent may hold the tool too.
  assert.equal((await w.writ.admin('PUT', `/orgs/${other.id}/connectors/billing`, billingConnector(w.billing.url))).status, 200);
  const stranger = (await w.writ.admin('POST', `/orgs/${other.id}/agents`, { name: 'Stranger', tools: [TOOL] })).json as { client_id: string; client_secret: string };
  const as = (agent: { client_id: string; client_secret: string }, path: string, params: Record<string, string>) => fetch(`${w.writ.issuer}${path}`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(params),
  }).then(async (r) => ({ status: r.status, json: await r.json() as any }));

  for (const agent of [sibling, stranger]) {
    const asked = await as(agent, '/backchannel', { scope: 'openid', login_hint_token: w.johnToken, authorization_details: payment('inv_1042', 4200) });
    assert.equal(asked.status, 400, JSON.stringify(asked.json));
    assert.equal(asked.json.error, 'invalid_grant', 'John\'s token was issued to another agent');
  }
  const strangerByName = await as(stranger, '/backchannel', { scope: 'openid', login_hint: 'john', authorization_details: payment('inv_1042', 4200) });
  assert.equal(strangerByName.json.error, 'unknown_user_id', 'no John in YCorp');
  const siblingByName = await as(sibling, '/backchannel', { scope: 'openid', login_hint: 'john', authorization_details: payment('inv_1042', 4200) });
  assert.equal(siblingByName.json.error, 'invalid_grant', 'John delegated nothing to the sibling');

  const asked = await askApproval(w, { login_hint_token: w.johnToken, authorization_details: payment('inv_1042', 4200) });
  const [pending] = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=pending`)).json.approvals;
  assert.equal((await w.writ.admin('POST', `/orgs/${w.org_id}/approvals/${pending.id}/approve`, { on_behalf_of: w.xcorp.user.id })).status, 200);
  for (const agent of [sibling, stranger]) {
    const polled = await as(agent, '/token', { grant_type: CIBA_GRANT, auth_req_id: asked.json.auth_req_id });
    assert.equal(polled.json.error, 'invalid_grant');
    assert.equal(polled.json.access_token, undefined);
  }
  const mine = await as(w.xcorp.agent, '/token', { grant_type: CIBA_GRANT, auth_req_id: asked.json.auth_req_id });
  assert.equal(mine.status, 200, 'the others\' polls did not use it up');
});
