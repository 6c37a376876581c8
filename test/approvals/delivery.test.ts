// How an approval reaches people and agents outside Writ's pages: the agent's notification
// endpoint in CIBA ping mode; the org's webhook, signed with a key the org reads from /jwks,
// retried after a failure with the same idempotency key; and approval through the admin API on a
// user's behalf, refused unless the org allows it and the user may approve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { WebhookDispatcher } from '../../src/approvals/webhooks.ts';
import { egressCheckedFetch } from '../../src/as/mcp-clients.ts';
import { fixedClock } from '../../src/core/clock.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { rebindingLookup, rebindingPair, resolvingAgent } from '../support/rebinding.ts';
import { approvalWorld, askApproval, auditOf, claimsOf, httpsReceiver, payment, pollToken, type ApprovalWorld, type Received } from './support.ts';

const settings = (w: ApprovalWorld, body: unknown) => w.writ.admin('PUT', `/orgs/${w.org_id}/approval-settings`, body);
const decide = (w: ApprovalWorld, id: string, decision: 'approve' | 'deny', body: unknown) => w.writ.admin('POST', `/orgs/${w.org_id}/approvals/${id}/${decision}`, body);
const pendingId = async (w: ApprovalWorld) => (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals?status=pending`)).json.approvals[0].id as string;

/** Checks a delivery's signature as an org would: the key named by webhook-key-id, from /jwks. */
async function signatureValid(w: ApprovalWorld, r: Pick<Received, 'headers' | 'body'>): Promise<boolean> {
  const jwks = await (await fetch(`${w.writ.issuer}/jwks`)).json() as { keys: Array<Record<string, unknown>> };
  const jwk = jwks.keys.find((k) => k.kid === r.headers['webhook-key-id']);
  if (!jwk) return false;
  const [version, signature] = String(r.headers['webhook-signature']).split(',');
  if (version !== 'v1a' || !signature) return false;
  const signed = Buffer.from(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`);
  return verify(null, signed, createPublicKey({ key: jwk as never, format: 'jwk' }), Buffer.from(signature, 'base64'));
}

test('ping mode: the decision is posted to the agent\'s notification endpoint with its token, then the poll answers', async (t) => {
  const agentEndpoint = await httpsReceiver(t);
  const w = await approvalWorld(t, { allowHosts: [agentEndpoint.host] });
  const set = await settings(w, {
    allow_admin_api_approval: true,
    agents: { [w.xcorp.agent.client_id]: { delivery_mode: 'ping', notification_endpoint: `${agentEndpoint.url}/ciba/notify` } },
  });
  assert.equal(set.status, 200, set.text);

  const missing = await askApproval(w, { login_hint: 'john', authorization_details: payment('inv_1042', 4200) });
  assert.equal(missing.json.error, 'invalid_request', 'ping mode needs client_notification_token');

  const asked = await askApproval(w, { login_hint: 'john', authorization_details: payment('inv_1042', 4200), client_notification_token: 'agent-side-secret-1' });
  assert.equal(asked.status, 200, asked.text);
  const approved = await decide(w, await pendingId(w), 'approve', { on_behalf_of: w.xcorp.user.id });
  assert.equal(approved.status, 200, approved.text);
  const [ping] = await agentEndpoint.waitFor(1);
  assert.equal(ping!.path, '/ciba/notify');
  assert.equal(ping!.headers.authorization, 'Bearer agent-side-secret-1');
  assert.deepEqual(JSON.parse(ping!.body), { auth_req_id: asked.json.auth_req_id });
  const res = await pollToken(w, asked.json.auth_req_id);
  assert.equal(res.status, 200, res.text);
  assert.equal(claimsOf(res.json.access_token).single_use, true);

  const denied = await askApproval(w, { login_hint: 'john', authorization_details: payment('inv_1043', 9800), client_notification_token: 'agent-side-secret-2' });
  assert.equal((await decide(w, await pendingId(w), 'deny', { on_behalf_of: w.xcorp.user.id, reason: 'duplicate invoice' })).status, 200);
  const pings = await agentEndpoint.waitFor(2);
  assert.equal(pings[1]!.headers.authorization, 'Bearer agent-side-secret-2');
  assert.deepEqual(JSON.parse(pings[1]!.body), { auth_req_id: denied.json.auth_req_id });
  const refused = await pollToken(w, denied.json.auth_req_id);
  assert.equal(refused.json.error, 'access_denied');
  assert.match(refused.json.error_description, /duplicate invoice/);
});

test('the org\'s webhook: signed, retried after a failure with the same id, delivered once it is answered', async (t) => {
  // The org's receiver fails the first delivery, then accepts, and processes each webhook-id once.
  const hooks = await httpsReceiver(t, (_r, index) => (index === 0 ? 503 : 204));
  const w = await approvalWorld(t, { allowHosts: [hooks.host] });
  const refusedUrl = await settings(w, { webhook_url: 'https://169.254.169.254/latest' });
  assert.equal(refusedUrl.status, 400, 'no webhook to a metadata address');
  assert.equal((await settings(w, { webhook_url: `${hooks.url}/writ-approvals` })).status, 200);
  const [configured] = await auditOf(w, 'approval.settings_changed');
  assert.equal(configured.details.webhook_url, `${hooks.url}/writ-approvals`);

  const asked = await askApproval(w, { login_hint_token: w.johnToken, authorization_details: payment('inv_1042', 4200), binding_message: 'INV-1042' });
  assert.equal(asked.status, 200, asked.text);
  const [first] = await hooks.waitFor(1);
  assert.ok(await signatureValid(w, first!), 'the delivery verifies with the key /jwks publishes');
  const event = JSON.parse(first!.body);
  assert.equal(event.type, 'approval.requested');
  assert.deepEqual(event.approval.arguments, { invoice_id: 'inv_1042', amount: 4200 });
  assert.equal(event.approval.binding_message, 'INV-1042');
  assert.ok(!first!.body.includes(asked.json.auth_req_id), 'the webhook never carries the auth_req_id');

  // The first attempt failed (503): the retry comes after the backoff, on Writ's clock.
  w.advance(11_000);
  const [, second] = await hooks.waitFor(2);
  assert.equal(second!.headers['webhook-id'], first!.headers['webhook-id'], 'the same idempotency key on every attempt');
  assert.equal(second!.body, first!.body);
  assert.ok(await signatureValid(w, second!));
  const id = await pendingId(w);
  const record = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals/${id}`)).json;
  const delivery = record.webhook_deliveries.find((d: any) => d.event === 'approval.requested');
  assert.equal(delivery.attempts, 2);
  assert.ok(delivery.delivered_at);

  // A receiver that dedupes by webhook-id processed the request once, though it arrived twice.
  const processed = new Set(hooks.received.map((r) => r.headers['webhook-id']));
  assert.equal(processed.size, 1);

  await t.test('a forged or tampered delivery does not verify', async () => {
    const tampered = { headers: second!.headers, body: second!.body.replace('4200', '42000') };
    assert.equal(await signatureValid(w, tampered), false);
    const forged = { headers: { ...second!.headers, 'webhook-signature': `v1a,${Buffer.alloc(64, 7).toString('base64')}` }, body: second!.body };
    assert.equal(await signatureValid(w, forged), false);
  });

  await t.test('approval through the admin API is refused unless the org allows it, and only for an approver', async () => {
    const off = await decide(w, id, 'approve', { on_behalf_of: w.xcorp.user.id });
    assert.equal(off.status, 403, off.text);
    assert.match(off.json.error_description, /allow_admin_api_approval/);
    const noToken = await fetch(`${w.writ.issuer}/admin/v1/orgs/${w.org_id}/approvals/${id}/approve`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer forged' }, body: JSON.stringify({ on_behalf_of: w.xcorp.user.id }),
    });
    assert.equal(noToken.status, 401);
    assert.equal((await settings(w, { allow_admin_api_approval: true })).status, 200);
    const bob = (await w.writ.admin('POST', `/orgs/${w.org_id}/users`, { username: 'bob', password: 'another horse battery' })).json;
    const notTheApprover = await decide(w, id, 'approve', { on_behalf_of: bob.id });
    assert.equal(notTheApprover.status, 403, 'bob is not the user the agent acts for');
    const unknown = await decide(w, 'apr_01J0000000000000000000000', 'approve', { on_behalf_of: w.xcorp.user.id });
    assert.equal(unknown.status, 404);
    const other = (await w.writ.admin('POST', '/orgs', { name: 'YCorp' })).json;
    const crossOrg = await w.writ.admin('POST', `/orgs/${other.id}/approvals/${id}/approve`, { on_behalf_of: w.xcorp.user.id });
    assert.equal(crossOrg.status, 404, 'another org\'s id finds nothing');
    assert.equal((await auditOf(w, 'approval.approved')).length, 0, 'none of that approved anything');

    const approved = await decide(w, id, 'approve', { on_behalf_of: w.xcorp.user.id });
    assert.equal(approved.status, 200, approved.text);
    const [event] = await auditOf(w, 'approval.approved');
    assert.equal(event.details.via, 'admin_api');
    assert.equal(event.details.approver, w.xcorp.user.id);
    const again = await decide(w, id, 'deny', { on_behalf_of: w.xcorp.user.id });
    assert.equal(again.status, 409, 'a decided request stays decided');
    const [, , third] = await hooks.waitFor(3);
    assert.equal(JSON.parse(third!.body).type, 'approval.approved');
    assert.notEqual(third!.headers['webhook-id'], first!.headers['webhook-id']);
  });
});

// DNS rebinding: the name of a webhook or a notification endpoint answers one address when its
// egress is checked and another when the socket opens. Deliveries go to the address the check
// approved; the name is not looked up a second time.

test('a webhook delivery connects to the address its egress check approved, not to a later DNS answer', async (t) => {
  const pair = await rebindingPair(t);
  if ('skip' in pair) { t.skip(pair.skip); return; }
  // The operator's allow-list lets a loopback receiver be called over http at all; its addresses are still pinned.
  const host = `hooks.test:${pair.approved.port}`;
  const lookup = rebindingLookup('127.0.0.1', '127.0.0.2');
  const store = openSqliteStore(':memory:');
  t.after(() => store.close());
  const clock = fixedClock(Date.parse('2026-12-02T09:00:00Z'));
  const { privateKey } = generateKeyPairSync('ed25519');
  const webhooks = new WebhookDispatcher({ store: store.approvals, clock, signer: () => ({ kid: 'k1', privateKey }), allowPrivateHosts: [host], lookup });
  await store.approvals.putApprovalSettings('org_1', {
    org_id: 'org_1', webhook_url: `http://${host}/writ-approvals`, allow_admin_api_approval: false, groups: {}, agents: {}, updated_at: new Date(clock.now()).toISOString(),
  });
  await webhooks.enqueue('org_1', 'apr_1', 'approval.requested', { type: 'approval.requested' });
  await webhooks.close();
  const [delivery] = await store.approvals.listDeliveries('org_1', 'apr_1');
  assert.ok(delivery?.delivered_at, JSON.stringify(delivery));
  assert.equal(pair.approved.requests(), 1);
  assert.equal(pair.rebound.requests(), 0, 'nothing reached the address the name answered later');
  assert.equal(lookup.calls, 1, 'the name is resolved once, by the egress check');
});

test('a CIBA ping (oidc-provider\'s outbound fetch) connects to the address its egress check approved, not to a later DNS answer', async (t) => {
  const pair = await rebindingPair(t);
  if ('skip' in pair) { t.skip(pair.skip); return; }
  const host = `agent.test:${pair.approved.port}`;
  const lookup = rebindingLookup('127.0.0.1', '127.0.0.2');
  const outbound = egressCheckedFetch({ egress: { allowPrivateHosts: [host], lookup } });
  // oidc-provider hands its fetch a dispatcher of its own, which resolves the name when it connects.
  const resolvingAgain = resolvingAgent(lookup);
  t.after(() => resolvingAgain.close());
  const res = await outbound(`http://${host}/ciba/notify`, {
    method: 'POST', redirect: 'manual', headers: { authorization: 'Bearer agent-side-secret', 'content-type': 'application/json' },
    body: JSON.stringify({ auth_req_id: 'req_1' }), dispatcher: resolvingAgain,
  } as RequestInit);
  assert.deepEqual(await res.json(), { served_by: 'approved' });
  assert.equal(pair.rebound.requests(), 0, 'nothing reached the address the name answered later');
  assert.equal(lookup.calls, 1, 'the name is resolved once, by the egress check');
});
