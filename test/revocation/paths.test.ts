// Every path that ends authority ends it everywhere (DESIGN invariant 11; the table is in
// docs/security.md, "Paths that end authority"). Each test takes a real Writ over loopback, derives
// capabilities (an orchestrator's, and a sub-agent's through a second exchange), takes one path,
// and checks the capabilities are refused at the executor, inactive at introspection, refused as a
// subject at the exchange, named on the revocation feed, and that the audit log has the event.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { decodeJwt } from 'jose';
import { parseForm } from '../support/http.ts';
import { createVerifier } from '../../src/verifier/index.ts';
import { startTestWrit, seedOrg, type TestWrit } from '../support/writ.ts';
import { skippingClock } from '../support/clock.ts';
import { agentClient, delegate, type DelegationRun, type Seeded } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, JWT, BISCUIT } from '../support/exchange.ts';

const TOOL = 'github.issues.get';
const OTHER = 'github.issues.update';

// The detail-expiry test skips this server a minute ahead rather than waiting for the end.
const clock = skippingClock();
let writ: TestWrit;
before(async () => { writ = await startTestWrit({ writ: { clock } }); });
after(() => writ.stop());

interface Derived {
  seeded: Seeded;
  run: DelegationRun;
  sub: { client_id: string; client_secret: string };
  grantId: string;
  /** The orchestrator's capability (JWT) and the sub-agent's (Biscuit) derived from it. */
  parent: { token: string; jti: string };
  child: { token: string; jti: string };
}

let orgs = 0;
async function derive(grantDetails: unknown[] = [{ type: 'tool_access', tools: [TOOL] }]): Promise<Derived> {
  const seeded = await seedOrg(writ, { name: `Org ${++orgs}`, tools: [TOOL, OTHER] });
  const sub = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name: 'Sub-agent', tools: [TOOL] })).json;
  const run = await delegate(writ, seeded, { authorization_details: grantDetails });
  assert.ok(run.tokens, 'delegated');
  const a = await exchange(writ, seeded.agent, { subject_token: run.tokens.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([TOOL]) });
  assert.equal(a.status, 200, JSON.stringify(a.json));
  const b = await exchange(writ, sub, { subject_token: a.json.access_token, subject_token_type: JWT, requested_token_type: BISCUIT });
  assert.equal(b.status, 200, JSON.stringify(b.json));
  const claims = decodeJwt(a.json.access_token) as { jti: string; auth_event_id: string };
  const childJti = (await introspect(seeded, b.json.access_token)).jti as string;
  const d = { seeded, run, sub, grantId: claims.auth_event_id, parent: { token: a.json.access_token, jti: claims.jti }, child: { token: b.json.access_token, jti: childJti } };
  await assertLive(d, d.parent.token);
  await assertLive(d, d.child.token);
  return d;
}

async function introspect(seeded: Seeded, token: string): Promise<Record<string, unknown>> {
  return oauth.tokenIntrospection(await agentClient(writ, seeded.agent), token) as Promise<Record<string, unknown>>;
}

async function execute(token: string): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(`${writ.issuer}/v1/tools/${TOOL}/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { owner: 'acme', repo: 'api', issue_number: 1 } }),
  });
  return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
}

async function assertLive(d: Derived, token: string): Promise<void> {
  assert.equal((await introspect(d.seeded, token)).active, true, 'active at introspection before the path');
  assert.notEqual((await execute(token)).status, 401, 'the executor accepts it before the path');
}

async function feedIds(): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let cursor = '0'; ;) {
    const page = (await (await fetch(`${writ.issuer}/v1/revocations?since=${cursor}`)).json()) as { revoked: Array<{ id: string }>; cursor: string };
    for (const e of page.revoked) ids.add(e.id);
    if (page.revoked.length === 0) return ids;
    cursor = page.cursor;
  }
}

/** Refused at the executor, inactive at introspection, refused as a subject, on the feed. */
async function assertEnded(d: Derived, token: string, type: string, onFeed: string[]): Promise<void> {
  const executed = await execute(token);
  assert.deepEqual(executed, { status: 401, code: 'invalid_token' }, 'refused at the executor');
  assert.equal((await introspect(d.seeded, token)).active, false, 'inactive at introspection');
  const again = await exchange(writ, d.sub, { subject_token: token, subject_token_type: type });
  assert.equal(again.status, 400, JSON.stringify(again.json));
  assert.equal(again.json.error, 'invalid_grant', 'refused as a subject at the exchange');
  const feed = await feedIds();
  for (const id of onFeed) assert.ok(feed.has(id), `${id} is on the revocation feed`);
}

async function auditHas(org_id: string, type: string, match: Record<string, string>): Promise<void> {
  const events = (await writ.admin('GET', `/orgs/${org_id}/audit?type=${type}&limit=100`)).json.events as Array<{ subject: Record<string, string> }>;
  assert.ok(events.some((e) => Object.entries(match).every(([k, v]) => e.subject[k] === v)), `a ${type} event for ${JSON.stringify(match)}`);
}

async function assertGrantEnded(d: Derived): Promise<void> {
  await assertEnded(d, d.parent.token, JWT, [d.grantId, d.parent.jti]);
  await assertEnded(d, d.child.token, BISCUIT, [d.child.jti]);
  await auditHas(d.seeded.org.id, 'grant.revoked', { grant_id: d.grantId });
}

test('grant revoked through the admin API (and so the CLI, which calls it)', async () => {
  const d = await derive();
  assert.equal((await writ.admin('DELETE', `/orgs/${d.seeded.org.id}/grants/${d.grantId}`)).status, 204);
  await assertGrantEnded(d);
});

test('grants revoked in bulk through the admin API (every grant of a user)', async () => {
  const d = await derive();
  assert.equal((await writ.admin('DELETE', `/orgs/${d.seeded.org.id}/grants?user_id=${d.seeded.user.id}`)).status, 200);
  await assertGrantEnded(d);
});

test('grant revoked by the user on their account page', async () => {
  const d = await derive();
  const page = await d.run.browser.request(`${writ.issuer}/account`);
  const form = parseForm(page.text, /revoke$/);
  assert.equal((await d.run.browser.request(new URL(form.action, page.url), { form: form.hidden })).status, 303);
  await assertGrantEnded(d);
});

test('refresh token revoked at the RFC 7009 endpoint', async () => {
  const d = await derive();
  await oauth.tokenRevocation(d.run.config, d.run.tokens!.refresh_token!);
  await assertGrantEnded(d);
  await auditHas(d.seeded.org.id, 'grant.revoked', { grant_id: d.grantId });
});

test('refresh token reused after rotation', async () => {
  const d = await derive();
  const old = d.run.tokens!.refresh_token!;
  await oauth.refreshTokenGrant(d.run.config, old);
  await assert.rejects(oauth.refreshTokenGrant(d.run.config, old), (err: { error?: string }) => err.error === 'invalid_grant');
  await assertGrantEnded(d);
});

test('sub-agent deleted: what it holds ends, whatever the grant; the orchestrator keeps its own', async () => {
  const d = await derive();
  assert.equal((await writ.admin('DELETE', `/orgs/${d.seeded.org.id}/agents/${d.sub.client_id}`)).status, 204);
  const executed = await execute(d.child.token);
  assert.deepEqual(executed, { status: 401, code: 'invalid_token' }, 'refused at the executor');
  assert.equal((await introspect(d.seeded, d.child.token)).active, false, 'inactive at introspection');
  const again = await exchange(writ, d.seeded.agent, { subject_token: d.child.token, subject_token_type: BISCUIT });
  assert.equal(again.json.error, 'invalid_grant', 'refused as a subject at the exchange');
  assert.ok((await feedIds()).has(d.child.jti), 'on the feed');
  await auditHas(d.seeded.org.id, 'capability.revoked', { capability_id: d.child.jti, agent_id: d.sub.client_id });
  await assertLive(d, d.parent.token);
});

test('orchestrator deleted: its grant and everything delegated through it end', async () => {
  const d = await derive();
  assert.equal((await writ.admin('DELETE', `/orgs/${d.seeded.org.id}/agents/${d.seeded.agent.client_id}`)).status, 204);
  // Introspection needs a live client of the org: the sub-agent asks.
  for (const [token, jti] of [[d.parent.token, d.parent.jti], [d.child.token, d.child.jti]] as const) {
    assert.deepEqual(await execute(token), { status: 401, code: 'invalid_token' });
    assert.equal((await oauth.tokenIntrospection(await agentClient(writ, d.sub), token)).active, false);
    assert.ok((await feedIds()).has(jti));
  }
  assert.equal((await exchange(writ, d.sub, { subject_token: d.parent.token, subject_token_type: JWT })).json.error, 'invalid_grant');
  await auditHas(d.seeded.org.id, 'grant.revoked', { grant_id: d.grantId });
  await auditHas(d.seeded.org.id, 'agent.deleted', { agent_id: d.seeded.agent.client_id });
});

test('org offboarded', async () => {
  const d = await derive();
  const res = await writ.admin('POST', `/orgs/${d.seeded.org.id}/offboard`);
  assert.equal(res.status, 200, res.text);
  // Every agent of the org is gone, so nobody of the org can introspect or exchange: check the rest.
  for (const [token, jti] of [[d.parent.token, d.parent.jti], [d.child.token, d.child.jti]] as const) {
    assert.deepEqual(await execute(token), { status: 401, code: 'invalid_token' });
    assert.ok((await feedIds()).has(jti));
  }
  assert.ok((await feedIds()).has(d.grantId));
  await auditHas(d.seeded.org.id, 'grant.revoked', { grant_id: d.grantId });
  await auditHas(d.seeded.org.id, 'org.offboarded', { org_id: d.seeded.org.id });
});

test('a grant detail expires: capabilities minted before it stop at the executor, introspection and the exchange', async () => {
  const expires_at = new Date(clock.now() + 60_000).toISOString();
  // The other detail has no end, so the grant as a whole does not expire.
  const d = await derive([{ type: 'tool_access', tools: [TOOL], expires_at }, { type: 'tool_access', tools: [OTHER] }]);
  // Nothing goes on the feed when a detail ends, so a remote verifier stops by the token alone:
  // the capability's exp never passes the end of the detail it rests on.
  assert.ok((decodeJwt(d.parent.token).exp ?? Infinity) <= Math.floor(Date.parse(expires_at) / 1000), 'exp is capped at the detail\'s end');
  const remote = createVerifier({ issuer: writ.issuer, audience: writ.executorResource, clock });
  try {
    clock.advance(Date.parse(expires_at) - clock.now() + 1_000);
    for (const [token, type] of [[d.parent.token, JWT], [d.child.token, BISCUIT]] as const) {
      assert.deepEqual(await execute(token), { status: 401, code: 'invalid_token' }, 'refused at the executor');
      assert.equal((await introspect(d.seeded, token)).active, false, 'inactive at introspection');
      assert.equal((await exchange(writ, d.sub, { subject_token: token, subject_token_type: type })).json.error !== undefined, true, 'refused at the exchange');
      await assert.rejects(remote.verify(token, { tool: TOOL, resource: 'github:repo:acme/api' }), (err: { code?: string }) => err.code === 'expired', 'refused by a verifier that sees only the token');
    }
  } finally {
    remote.close();
  }
});
