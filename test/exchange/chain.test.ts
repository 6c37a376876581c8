import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVerifier } from '../../src/verifier/index.ts';
import { decodeJwt } from 'jose';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, JWT, BISCUIT } from '../support/exchange.ts';

const TOOL = 'github.issues.get';

test('a chain of three agents nests act three deep, never outlives its parent, and dies with the first grant', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: [TOOL, 'github.issues.update'] });
  const mk = async (name: string, tools: string[]) => (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name, tools })).json;
  const b = await mk('Triage sub-agent', [TOOL]);
  const c = await mk('Reader sub-sub-agent', [TOOL]);
  const narrow = await mk('Narrow agent', ['github.issues.update']);
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL, 'github.issues.update'], resources: ['github:repo:acme/*'] }] });

  const a1 = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([TOOL], { resources: ['github:repo:acme/*'] }) });
  assert.equal(a1.status, 200, JSON.stringify(a1.json));
  const b1 = await exchange(writ, b, { subject_token: a1.json.access_token, subject_token_type: JWT, authorization_details: details([TOOL], { resources: ['github:repo:acme/api'] }) });
  assert.equal(b1.status, 200, JSON.stringify(b1.json));
  const c1 = await exchange(writ, c, { subject_token: b1.json.access_token, subject_token_type: JWT, requested_token_type: BISCUIT });
  assert.equal(c1.status, 200, JSON.stringify(c1.json));

  const ja = decodeJwt(a1.json.access_token) as any;
  const jb = decodeJwt(b1.json.access_token) as any;
  assert.deepEqual(ja.act, { sub: seeded.agent.client_id });
  assert.deepEqual(jb.act, { sub: b.client_id, act: { sub: seeded.agent.client_id } });
  assert.equal(jb.parent_jti, ja.jti);
  assert.ok(jb.exp <= ja.exp, 'the child never outlives its parent');

  const verifier = createVerifier({ issuer: writ.issuer, audience: writ.executorResource });
  t.after(() => verifier.close());
  const vc = await verifier.verify(c1.json.access_token, { tool: TOOL, resource: 'github:repo:acme/api' });
  assert.deepEqual(vc.actor_chain, [c.client_id, b.client_id, seeded.agent.client_id], 'three deep, acting agent first');
  assert.ok(vc.exp <= jb.exp);
  assert.equal(vc.auth_event_id, ja.auth_event_id);

  await t.test('a sub-agent cannot widen or step outside its ceiling', async () => {
    const wider = await exchange(writ, b, { subject_token: b1.json.access_token, subject_token_type: JWT, authorization_details: details([TOOL], { resources: ['github:repo:acme/*'] }) });
    assert.equal(wider.json.error, 'invalid_authorization_details');
    const otherTool = await exchange(writ, narrow, { subject_token: a1.json.access_token, subject_token_type: JWT, authorization_details: details(['github.issues.update'], { resources: ['github:repo:acme/*'] }) });
    assert.equal(otherTool.json.error, 'invalid_authorization_details', 'the subject capability never held that tool');
    const outsideCeiling = await exchange(writ, narrow, { subject_token: a1.json.access_token, subject_token_type: JWT });
    assert.equal(outsideCeiling.json.error, 'invalid_authorization_details');
    assert.match(outsideCeiling.json.error_description, /ceiling/);
    const attenuated = await verifier.attenuate(c1.json.access_token, { resources: ['github:repo:acme/api'] });
    const viaAttenuated = await exchange(writ, c, { subject_token: attenuated, subject_token_type: BISCUIT });
    assert.equal(viaAttenuated.json.error, 'invalid_grant', 'an attenuated Biscuit is presented, not exchanged');
  });

  // Revoke the first grant: all three die at the server at once and at the verifier via the feed.
  const grantId = ja.auth_event_id;
  const revokedAt = performance.now();
  assert.equal((await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants/${grantId}`)).status, 204);
  for (const [name, token, type, client] of [['A', a1.json.access_token, JWT, b], ['B', b1.json.access_token, JWT, c], ['C', c1.json.access_token, BISCUIT, c]] as const) {
    const res = await exchange(writ, client, { subject_token: token, subject_token_type: type });
    assert.equal(res.json.error, 'invalid_grant', `${name}'s capability is dead at the server`);
  }
  const tokens = [a1.json.access_token, b1.json.access_token, c1.json.access_token];
  const requests = [{ tool: TOOL, resource: 'github:repo:acme/x' }, { tool: TOOL, resource: 'github:repo:acme/api' }, { tool: TOOL, resource: 'github:repo:acme/api' }];
  const pending = new Set([0, 1, 2]);
  // Liveness bound for the loop only; the propagation figure itself is measured in the benchmarks.
  while (pending.size && performance.now() - revokedAt < 10_000) {
    for (const i of [...pending]) {
      try { await verifier.verify(tokens[i]!, requests[i]!); } catch (err: any) { assert.equal(err.code, 'revoked'); pending.delete(i); }
    }
    if (pending.size) await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(pending.size, 0, 'the verifier following the feed rejects all three');
  t.diagnostic(`revocation reached the feed follower in ${Math.round(performance.now() - revokedAt)} ms`);

  const feed = await (await fetch(`${writ.issuer}/v1/revocations?since=0`)).json();
  const ids = new Set(feed.revoked.map((e: any) => e.id));
  assert.ok(ids.has(grantId) && ids.has(ja.jti) && ids.has(jb.jti));
  assert.ok(feed.revoked.some((e: any) => e.type === 'biscuit_revocation_id'));
  const same = await fetch(`${writ.issuer}/v1/revocations?since=0`, { headers: { 'if-none-match': '"x"' } });
  const etag = same.headers.get('etag')!;
  assert.equal((await fetch(`${writ.issuer}/v1/revocations?since=0`, { headers: { 'if-none-match': etag } })).status, 304);
  const after = await (await fetch(`${writ.issuer}/v1/revocations?since=${feed.cursor}`)).json();
  assert.deepEqual(after.revoked, []);
});
