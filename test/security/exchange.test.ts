// RFC 8693 token exchange under attack: other tenants' tokens and actors, repeated and unknown
// parameters, audience games, sub-agent chains that try to outlive or widen their parent,
// revoked grants, and single-use capabilities replayed in parallel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, JWT, BISCUIT, TOKEN_EXCHANGE } from '../support/exchange.ts';
import { assertNothingIssued, capability, decodeJwt, ledger, scene } from './support.ts';

const NOTES = details(['demo.notes.create'], { resources: ['demo:notebook:team'] });

test('cross-tenant, malformed and widening exchanges are refused with their RFC error, and nothing is issued', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const { writ, seeded, subject } = s;
  const other = await seedOrg(writ, { name: 'TechCorp', username: 'alice' });
  const otherRun = await delegate(writ, other, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const otherSubject = otherRun.tokens!.access_token;
  const otherCap = (await exchange(writ, other.agent, { subject_token: otherSubject, subject_token_type: ACCESS_TOKEN })).json.access_token as string;
  const cap = await capability(s, { authorization_details: NOTES });
  await writ.admin('POST', '/resource-servers', { identifier: 'https://billing.example/api', name: 'Billing' });
  const base = { subject_token: subject, subject_token_type: ACCESS_TOKEN };

  const before = await ledger(writ, seeded.org.id);
  const beforeOther = await ledger(writ, other.org.id);
  const cases: Array<[string, Record<string, string | string[]>, { client_id: string; client_secret: string }, number, string]> = [
    ['another org\'s delegated token presented by our agent', { subject_token: otherSubject, subject_token_type: ACCESS_TOKEN }, seeded.agent, 400, 'invalid_grant'],
    ['another org\'s capability presented by our agent', { subject_token: otherCap, subject_token_type: JWT }, seeded.agent, 400, 'invalid_grant'],
    ['our capability presented by another org\'s agent', { subject_token: cap, subject_token_type: JWT }, other.agent, 400, 'invalid_grant'],
    ['an actor token of another org', { ...base, actor_token: otherSubject, actor_token_type: ACCESS_TOKEN }, seeded.agent, 400, 'invalid_grant'],
    ['an actor token that is a forged assertion', { ...base, actor_token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', actor_token_type: JWT }, seeded.agent, 400, 'invalid_grant'],
    ['an actor token without its type', { ...base, actor_token: otherSubject }, seeded.agent, 400, 'invalid_request'],
    ['two subject tokens', { subject_token: [subject, otherSubject], subject_token_type: ACCESS_TOKEN }, seeded.agent, 400, 'invalid_request'],
    ['two subject token types', { subject_token: subject, subject_token_type: [ACCESS_TOKEN, JWT] }, seeded.agent, 400, 'invalid_request'],
    ['two authorization_details', { ...base, authorization_details: [NOTES, details(['notion.pages.create'])] }, seeded.agent, 400, 'invalid_request'],
    ['two requested token types', { ...base, requested_token_type: [JWT, BISCUIT] }, seeded.agent, 400, 'invalid_request'],
    ['an unknown subject token type', { subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' }, seeded.agent, 400, 'invalid_request'],
    ['an unknown requested token type', { ...base, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }, seeded.agent, 400, 'invalid_request'],
    ['an unknown actor token type', { ...base, actor_token: 'x', actor_token_type: 'urn:example:unknown' }, seeded.agent, 400, 'invalid_request'],
    ['the id_token type', { subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token' }, seeded.agent, 400, 'invalid_request'],
    ['a URL prefix of a registered audience', { ...base, audience: 'https://billing.example/ap' }, seeded.agent, 400, 'invalid_target'],
    ['a registered audience with a trailing slash', { ...base, audience: 'https://billing.example/api/' }, seeded.agent, 400, 'invalid_target'],
    ['a registered audience in another case', { ...base, audience: 'https://BILLING.example/api' }, seeded.agent, 400, 'invalid_target'],
    ['the executor with a path appended', { ...base, audience: `${writ.executorResource}/../admin` }, seeded.agent, 400, 'invalid_target'],
    ['audience and resource naming different targets', { ...base, audience: writ.executorResource, resource: 'https://billing.example/api' }, seeded.agent, 400, 'invalid_target'],
    ['a wildcard resource where the grant names some', { ...base, authorization_details: details(['demo.notes.create'], { resources: ['demo:*'] }) }, seeded.agent, 400, 'invalid_authorization_details'],
    ['a tool by scope the grant never had', { ...base, scope: 'tool:gmail.messages.send' }, seeded.agent, 400, 'invalid_scope'],
    ['a scope that is not a tool', { ...base, scope: 'openid admin' }, seeded.agent, 400, 'invalid_scope'],
    ['a wrong client secret', base, { client_id: seeded.agent.client_id, client_secret: 'nope' }, 401, 'invalid_client'],
  ];
  for (const [name, params, client, status, error] of cases) {
    await t.test(name, async () => {
      const res = await exchange(writ, client, params);
      assert.equal(res.json.error, error, JSON.stringify(res.json));
      assert.equal(res.status, status);
      assert.equal(res.json.access_token, undefined);
      assert.equal(typeof res.json.error_description, 'string');
      assert.ok(!res.json.error_description.includes(subject) && !res.json.error_description.includes(cap), 'no token in the error');
    });
  }
  assertNothingIssued(before, await ledger(writ, seeded.org.id));
  assertNothingIssued(beforeOther, await ledger(writ, other.org.id));
});

test('a sub-agent chain can neither outlive nor widen its parent', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const { writ, seeded } = s;
  const sub = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name: 'Sub-agent', tools: ['demo.notes.create', 'gmail.messages.send'] })).json;
  const narrowSub = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name: 'Reader', tools: ['demo.notes.get'] })).json;
  const parent = await capability(s, { authorization_details: NOTES });
  const parentClaims = decodeJwt(parent).payload as { exp: number; jti: string };

  const before = await ledger(writ, seeded.org.id);
  const refusals: Array<[string, Record<string, string>, typeof sub, string]> = [
    ['another tool', { authorization_details: details(['notion.pages.create'], { resources: ['notion:page:8a1f00'] }) }, sub, 'invalid_authorization_details'],
    ['a tool in the sub-agent\'s ceiling but not the parent\'s rights', { authorization_details: details(['gmail.messages.send']) }, sub, 'invalid_authorization_details'],
    ['another resource', { authorization_details: details(['demo.notes.create'], { resources: ['demo:notebook:private'] }) }, sub, 'invalid_authorization_details'],
    ['any resource', { authorization_details: details(['demo.notes.create']) }, sub, 'invalid_authorization_details'],
    ['the parent\'s tool outside the sub-agent\'s ceiling', {}, narrowSub, 'invalid_authorization_details'],
  ];
  for (const [name, params, client, error] of refusals) {
    await t.test(`refused: ${name}`, async () => {
      const res = await exchange(writ, client, { subject_token: parent, subject_token_type: JWT, ...params });
      assert.equal(res.status, 400);
      assert.equal(res.json.error, error, JSON.stringify(res.json));
    });
  }
  assertNothingIssued(before, await ledger(writ, seeded.org.id));

  await t.test('allowed: the same rights, never a second beyond the parent, with the chain recorded', async () => {
    for (const format of [JWT, BISCUIT]) {
      const res = await exchange(writ, sub, { subject_token: parent, subject_token_type: JWT, requested_token_type: format });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.ok(Math.floor(Date.now() / 1000) + res.json.expires_in <= parentClaims.exp + 1, 'the child expires no later than the parent');
      assert.deepEqual(res.json.authorization_details, JSON.parse(NOTES));
    }
    const child = (await exchange(writ, sub, { subject_token: parent, subject_token_type: JWT })).json.access_token;
    const claims = decodeJwt(child).payload as any;
    assert.ok(claims.exp <= parentClaims.exp);
    assert.deepEqual(claims.act, { sub: sub.client_id, act: { sub: seeded.agent.client_id } });
    assert.equal(claims.parent_jti, parentClaims.jti);
    // A grandchild of the chained token is refused beyond it too.
    const grand = await exchange(writ, seeded.agent, { subject_token: child, subject_token_type: JWT, authorization_details: details(['notion.pages.create']) });
    assert.equal(grand.json.error, 'invalid_authorization_details');
  });

  await t.test('a capability presented after its grant was revoked, and its children with it', async () => {
    const child = (await exchange(writ, sub, { subject_token: parent, subject_token_type: JWT })).json.access_token;
    const grant = (await writ.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants[0];
    assert.equal((await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants/${grant.id}`)).status, 204);
    const after = await ledger(writ, seeded.org.id);
    for (const token of [parent, child]) {
      const res = await exchange(writ, sub, { subject_token: token, subject_token_type: JWT });
      assert.equal(res.status, 400);
      assert.equal(res.json.error, 'invalid_grant');
    }
    const fresh = await exchange(writ, seeded.agent, { subject_token: s.subject, subject_token_type: ACCESS_TOKEN });
    assert.equal(fresh.json.error, 'invalid_grant');
    assertNothingIssued(after, await ledger(writ, seeded.org.id));
  });
});

test('a single-use capability replayed for exchange in parallel never yields a token', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-policies-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(import.meta.dirname, '../../policies/default.yaml'), join(dir, 'default.yaml'));
  writeFileSync(join(dir, 'single-use.yaml'), [
    'version: 1', 'rules:', '  - id: notes-single-use', '    description: Notes capabilities are spent once.', '    effect: allow', '    match:', "      tools: ['demo.notes.create']",
    '    constraints:', '      single_use: true', '      max_ttl: 60', '',
  ].join('\n'));
  const s = await scene({ env: { WRIT_POLICIES: dir } });
  t.after(() => s.writ.stop());
  const sub = (await s.writ.admin('POST', `/orgs/${s.seeded.org.id}/agents`, { name: 'Sub-agent', tools: ['demo.notes.create'] })).json;
  for (const format of [JWT, BISCUIT]) {
    const once = await capability(s, { authorization_details: NOTES, requested_token_type: format });
    const before = await ledger(s.writ, s.seeded.org.id);
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => exchange(s.writ, i % 2 ? sub : s.seeded.agent, { subject_token: once, subject_token_type: format })));
    assert.equal(results.filter((r) => r.status === 200).length, 0, 'no replay yields a token');
    for (const r of results) { assert.equal(r.status, 400); assert.equal(r.json.error, 'invalid_grant'); }
    assertNothingIssued(before, await ledger(s.writ, s.seeded.org.id));
  }
});

test('the token endpoint refuses a token-exchange POST with a JSON body or a GET', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const auth = `Basic ${Buffer.from(`${s.seeded.agent.client_id}:${s.seeded.agent.client_secret}`).toString('base64')}`;
  const before = await ledger(s.writ, s.seeded.org.id);
  const json = await fetch(`${s.writ.issuer}/token`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: TOKEN_EXCHANGE, subject_token: s.subject, subject_token_type: ACCESS_TOKEN }) });
  assert.equal(json.status, 400);
  assert.equal(((await json.json()) as any).error, 'invalid_request');
  const get = await fetch(`${s.writ.issuer}/token?${new URLSearchParams({ grant_type: TOKEN_EXCHANGE, subject_token: s.subject, subject_token_type: ACCESS_TOKEN })}`, { headers: { authorization: auth } });
  assert.ok(get.status === 404 || get.status === 405 || get.status === 400, `status ${get.status}`);
  assertNothingIssued(before, await ledger(s.writ, s.seeded.org.id));
});
