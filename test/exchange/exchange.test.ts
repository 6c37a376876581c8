import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVerifier } from '../../src/verifier/index.ts';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, JWT, BISCUIT } from '../support/exchange.ts';

const GRANTED = [{ type: 'tool_access', tools: ['notion.pages.create', 'demo.notes.create'], resources: ['notion:page:8a1f*', 'demo:notebook:team'] }];

async function setup() {
  const writ = await startTestWrit();
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: GRANTED });
  assert.ok(run.tokens, 'delegation completed');
  return { writ, seeded, subject: run.tokens.access_token };
}

async function capabilityCount(writ: Awaited<ReturnType<typeof setup>>['writ'], org: string) {
  return (await writ.admin('GET', `/orgs/${org}/audit?type=token.exchanged`)).json.events.length;
}

test('an agent exchanges its delegation for JWT and Biscuit capabilities that a downstream verifier accepts with the published keys', async (t) => {
  const { writ, seeded, subject } = await setup();
  t.after(() => writ.stop());
  const verifier = createVerifier({ issuer: writ.issuer, audience: writ.executorResource });
  t.after(() => verifier.close());

  for (const format of [JWT, BISCUIT]) {
    await t.test(format, async () => {
      const res = await exchange(writ, seeded.agent, {
        subject_token: subject, subject_token_type: ACCESS_TOKEN, requested_token_type: format,
        authorization_details: details(['notion.pages.create'], { resources: ['notion:page:8a1f00'] }),
      });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.issued_token_type, format);
      assert.equal(res.json.token_type, 'Bearer');
      assert.ok(res.json.expires_in > 0 && res.json.expires_in <= 300, 'at most the default 5 minutes');
      assert.deepEqual(res.json.authorization_details, [{ type: 'tool_access', tools: ['notion.pages.create'], resources: ['notion:page:8a1f00'] }]);
      assert.equal(res.json.scope, 'tool:notion.pages.create');

      const verified = await verifier.verify(res.json.access_token, { tool: 'notion.pages.create', resource: 'notion:page:8a1f00' });
      assert.equal(verified.org_id, seeded.org.id);
      assert.equal(verified.sub, seeded.user.id);
      assert.equal(verified.principal, 'user');
      assert.deepEqual(verified.actor_chain, [seeded.agent.client_id]);
      assert.match(verified.auth_event_id, /^grt_/);
      await assert.rejects(verifier.verify(res.json.access_token, { tool: 'demo.notes.create', resource: 'demo:notebook:team' }), (e: any) => e.code === 'insufficient_scope');
      await assert.rejects(verifier.verify(res.json.access_token, { tool: 'notion.pages.create', resource: 'notion:page:other' }), (e: any) => e.code === 'insufficient_scope');
    });
  }

  const discovery = await (await fetch(`${writ.issuer}/.well-known/oauth-authorization-server`)).json();
  assert.ok(discovery.grant_types_supported.includes('urn:ietf:params:oauth:grant-type:token-exchange'));
  assert.deepEqual(discovery.authorization_details_types_supported, ['tool_access']);
  assert.equal(discovery.biscuit_public_keys[0].algorithm, 'ed25519');
  const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=token.exchanged`)).json.events;
  assert.equal(events.length, 2);
  assert.deepEqual(events[0].actor.chain, [seeded.agent.client_id]);
  assert.match(events[0].details.policy_version, /^sha256:/);
  assert.match(events[0].subject.capability_id, /^cap_/);
});

test('no request can widen what was granted: each is refused with its RFC error, audited, and nothing is issued', async (t) => {
  const { writ, seeded, subject } = await setup();
  t.after(() => writ.stop());
  const other = await seedOrg(writ, { name: 'TechCorp', username: 'alice' });
  await writ.admin('POST', '/resource-servers', { identifier: 'https://billing.example/api', name: 'Billing' });
  const base = { subject_token: subject, subject_token_type: ACCESS_TOKEN };

  const cases: Array<[string, Record<string, string | string[]>, typeof seeded.agent, string]> = [
    ['a tool that was not granted', { ...base, authorization_details: details(['gmail.messages.send']) }, seeded.agent, 'invalid_authorization_details'],
    ['more tools by scope', { ...base, scope: 'tool:notion.pages.create tool:gmail.messages.send' }, seeded.agent, 'invalid_scope'],
    ['a resource outside the grant', { ...base, authorization_details: details(['notion.pages.create'], { resources: ['notion:page:ffff'] }) }, seeded.agent, 'invalid_authorization_details'],
    ['any resource where the grant names some', { ...base, authorization_details: details(['notion.pages.create']) }, seeded.agent, 'invalid_authorization_details'],
    ['a foreign audience', { ...base, audience: 'https://evil.example/' }, seeded.agent, 'invalid_target'],
    ['a URL prefix of a registered audience', { ...base, audience: 'https://billing.example/ap' }, seeded.agent, 'invalid_target'],
    ['a longer URL under a registered audience', { ...base, audience: 'https://billing.example/api/admin' }, seeded.agent, 'invalid_target'],
    ['two audiences', { ...base, audience: [writ.executorResource, 'https://billing.example/api'] }, seeded.agent, 'invalid_target'],
    ['an agent of another org presenting the token', base, other.agent, 'invalid_grant'],
    ['garbage', { subject_token: 'not-a-token', subject_token_type: ACCESS_TOKEN }, seeded.agent, 'invalid_grant'],
    ['a JWT that is not ours', { subject_token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', subject_token_type: JWT }, seeded.agent, 'invalid_grant'],
    ['an unknown token type', { subject_token: subject, subject_token_type: 'urn:example:saml' }, seeded.agent, 'invalid_request'],
    ['a missing subject token', { subject_token_type: ACCESS_TOKEN }, seeded.agent, 'invalid_request'],
    ['malformed authorization_details', { ...base, authorization_details: '[{"type":"tool_access"}]' }, seeded.agent, 'invalid_authorization_details'],
  ];
  for (const [name, params, client, error] of cases) {
    await t.test(name, async () => {
      const res = await exchange(writ, client, params);
      assert.equal(res.json.error, error, JSON.stringify(res.json));
      assert.ok(res.status >= 400 && res.status < 500);
      assert.equal(res.json.access_token, undefined);
    });
  }
  assert.equal(await capabilityCount(writ, seeded.org.id), 0, 'nothing was issued');
  const denied = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=token.exchange_denied&limit=100`)).json.events;
  assert.equal(denied.length, 8, `refusals for XCorp's token are on XCorp's record: ${denied.map((e: any) => e.details.reason).join(' | ')}`);
  assert.ok(denied.every((e: any) => typeof e.details.reason === 'string'));
  assert.equal((await writ.admin('GET', `/orgs/${other.org.id}/audit?type=token.exchange_denied`)).json.events.length, 0, 'XCorp\'s token never shows up in TechCorp\'s log');

  await t.test('the same request after the grant is revoked', async () => {
    const ok = await exchange(writ, seeded.agent, { ...base, authorization_details: details(['demo.notes.create'], { resources: ['demo:notebook:team'] }) });
    assert.equal(ok.status, 200);
    const grant = (await writ.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants[0];
    await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants/${grant.id}`);
    const res = await exchange(writ, seeded.agent, { ...base, authorization_details: details(['demo.notes.create'], { resources: ['demo:notebook:team'] }) });
    assert.equal(res.json.error, 'invalid_grant');
    // The capability issued before the revocation cannot be exchanged onwards either.
    const onwards = await exchange(writ, seeded.agent, { subject_token: ok.json.access_token, subject_token_type: JWT });
    assert.equal(onwards.json.error, 'invalid_grant');
  });
});
