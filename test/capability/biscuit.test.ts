import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Biscuit, BiscuitBuilder, BlockBuilder, PrivateKey, PublicKey, SignatureAlgorithm } from '@biscuit-auth/biscuit-wasm';
import { fixedClock } from '../../src/core/clock.ts';
import {
  attenuateBiscuit,
  authorizeBiscuit,
  authorizeOpenedBiscuit,
  openBiscuit,
  globParts,
  mintBiscuitCapability,
  type BiscuitAuthorizeOptions,
} from '../../src/capability/index.ts';
import { CapabilityError } from '../../src/capability/errors.ts';
import { generateBiscuitRootKey, parseBiscuitRootKey, serializeBiscuitRootKey } from '../../src/capability/keys.ts';
import { AUDIENCE, NOW, claims } from './fixtures.ts';

const root = generateBiscuitRootKey(7);
const request = (over: Partial<BiscuitAuthorizeOptions> = {}): BiscuitAuthorizeOptions => ({
  rootKey: (kid) => (kid === 7 ? root.publicKey : undefined),
  now: NOW * 1000 + 10_000,
  tool: 'gmail.messages.send',
  resource: 'gmail:mailbox:me',
  audience: AUDIENCE,
  input: { to: 'ann@customer.com' },
  ...over,
});
const codeOf = (token: string, over: Partial<BiscuitAuthorizeOptions> = {}) => {
  try {
    authorizeBiscuit(token, request(over));
    return 'allowed';
  } catch (error) {
    assert.ok(error instanceof CapabilityError, `expected a CapabilityError, got ${String(error)}`);
    return error.code;
  }
};
const { token, revocation_ids } = mintBiscuitCapability(claims(), root);

/** Append an arbitrary block, as a hostile holder could. */
function appendRaw(base: string, code: string): string {
  const biscuit = Biscuit.fromBase64(base, PublicKey.fromBytes(Buffer.from(root.publicKey, 'hex'), SignatureAlgorithm.Ed25519));
  const block = new BlockBuilder();
  block.addCode(code);
  return biscuit.appendBlock(block).toBase64();
}

test('a minted capability authorises and reads back the same claims', () => {
  const facts = authorizeBiscuit(token, request());
  assert.equal(facts.org_id, 'org_01');
  assert.equal(facts.principal, 'user');
  assert.equal(facts.sub, 'usr_01');
  assert.equal(facts.client_id, 'agt_mail');
  assert.deepEqual(facts.actor_chain, ['agt_mail', 'agt_orchestrator']);
  assert.equal(facts.auth_event_id, 'grt_01');
  assert.equal(facts.jti, 'cap_01');
  assert.equal(facts.parent_jti, 'at_01');
  assert.equal(facts.exp, NOW + 300);
  assert.equal(facts.root_key_id, 7);
  assert.deepEqual(facts.revocation_ids, revocation_ids);
  assert.deepEqual(
    facts.rights.map((r) => `${r.tool} ${r.resource}`).sort(),
    ['gmail.messages.send gmail:mailbox:*', 'notion.pages.read *'],
  );
  const gmail = facts.authorization_details.find((d) => d.tools[0] === 'gmail.messages.send');
  assert.deepEqual(gmail?.constraints, { to: { ends_with: '@customer.com' } });
});

test('org-level capabilities name the org as principal', () => {
  const org = mintBiscuitCapability(claims({ principal: 'org', sub: 'org_01', act: undefined }), root).token;
  const facts = authorizeBiscuit(org, request());
  assert.equal(facts.principal, 'org');
  assert.equal(facts.sub, 'org_01');
  assert.deepEqual(facts.actor_chain, ['agt_mail']);
});

test('tools, resource patterns and unrestricted rights', () => {
  assert.equal(codeOf(token, { tool: 'notion.pages.read', resource: 'notion:page:1', input: {} }), 'allowed');
  assert.equal(codeOf(token, { tool: 'notion.pages.read', resource: undefined }), 'allowed');
  assert.equal(codeOf(token, { tool: 'github.repos.delete', resource: 'github:repo:a/b' }), 'insufficient_scope');
  assert.equal(codeOf(token, { resource: 'gmail:mailboxes' }), 'insufficient_scope');
  assert.equal(codeOf(token, { resource: undefined }), 'insufficient_scope');
  const multi = mintBiscuitCapability(
    claims({ authorization_details: [{ type: 'tool_access', tools: ['github.issues.create'], resources: ['github:repo:acme/*-api', 'github:repo:x.y', 'github:repo:*'] }] }),
    root,
  ).token;
  assert.equal(codeOf(multi, { tool: 'github.issues.create', resource: 'github:repo:acme/billing-api' }), 'allowed');
  assert.equal(codeOf(multi, { tool: 'github.issues.create', resource: 'github:repo:acme/billing-web' }), 'allowed');
  assert.equal(codeOf(multi, { tool: 'github.issues.create', resource: 'github:org:acme' }), 'insufficient_scope');
  assert.equal(codeOf(multi, { tool: 'github.issues.create', resource: 'github:repo:x.y' }), 'allowed');
  const exact = mintBiscuitCapability(claims({ authorization_details: [{ type: 'tool_access', tools: ['github.issues.create'], resources: ['github:repo:acme/*-api', 'github:repo:x.y'] }] }), root).token;
  assert.equal(codeOf(exact, { tool: 'github.issues.create', resource: 'github:repo:acme/billing-web' }), 'insufficient_scope');
  assert.equal(codeOf(exact, { tool: 'github.issues.create', resource: 'github:repo:xzy' }), 'insufficient_scope');
  assert.deepEqual(globParts('a.b*(c)'), { prefix: 'a.b', suffix: '(c)' });
  // Many-star patterns are matched by the verifier, exactly as the JWT path's glob does.
  const manyStars = mintBiscuitCapability(claims({ authorization_details: [{ type: 'tool_access', tools: ['a.b'], resources: ['x*y*z'] }] }), root).token;
  for (const resource of ['xyz', 'xayaz', 'xyyz', 'xqyqz']) assert.equal(codeOf(manyStars, { tool: 'a.b', resource, input: {} }), 'allowed', resource);
  for (const resource of ['xzy', 'xaz', 'yxz', 'xyza']) assert.equal(codeOf(manyStars, { tool: 'a.b', resource, input: {} }), 'insufficient_scope', resource);
  assert.equal(codeOf(manyStars, { tool: 'a.b', resource: undefined, input: {} }), 'insufficient_scope');
  assert.throws(() => attenuateBiscuit(token, root.publicKey, { resources: ['x*y*z'] }), TypeError, 'attenuations take one-star patterns');
  const overlap = mintBiscuitCapability(claims({ authorization_details: [{ type: 'tool_access', tools: ['a.b'], resources: ['ab*ba'] }] }), root).token;
  assert.equal(codeOf(overlap, { tool: 'a.b', resource: 'aba' }), 'insufficient_scope');
  assert.equal(codeOf(overlap, { tool: 'a.b', resource: 'abba' }), 'allowed');
});

test('argument constraints: `to` must end with @customer.com', () => {
  assert.equal(codeOf(token, { input: { to: 'eve@evil.com' } }), 'constraint_failed');
  assert.equal(codeOf(token, { input: { to: 'eve@customer.com.evil.com' } }), 'constraint_failed');
  assert.equal(codeOf(token, { input: {} }), 'constraint_failed');
  assert.equal(codeOf(token, { input: { to: 42 } }), 'constraint_failed');
  const numeric = mintBiscuitCapability(
    claims({ authorization_details: [{ type: 'tool_access', tools: ['stripe.refunds.create'], constraints: { amount: { min: 1, max: 500 }, currency: { one_of: ['eur', 'usd'] }, live: { eq: false } } }] }),
    root,
  ).token;
  const ok = { tool: 'stripe.refunds.create', resource: undefined };
  assert.equal(codeOf(numeric, { ...ok, input: { amount: 500, currency: 'eur', live: false } }), 'allowed');
  assert.equal(codeOf(numeric, { ...ok, input: { amount: 501, currency: 'eur', live: false } }), 'constraint_failed');
  assert.equal(codeOf(numeric, { ...ok, input: { amount: 10, currency: 'gbp', live: false } }), 'constraint_failed');
  assert.equal(codeOf(numeric, { ...ok, input: { amount: 10, currency: 'eur', live: true } }), 'constraint_failed');
  assert.equal(codeOf(numeric, { ...ok, input: { amount: 10.5, currency: 'eur', live: false } }), 'constraint_failed');
});

test('expiry, audience, root key', () => {
  assert.equal(codeOf(token, { now: (NOW + 300) * 1000 }), 'expired');
  assert.equal(codeOf(token, { audience: 'https://other.test/rs' }), 'invalid_token');
  assert.equal(codeOf(token, { rootKey: () => undefined }), 'invalid_token');
  assert.equal(codeOf(token, { rootKey: () => generateBiscuitRootKey(7).publicKey }), 'invalid_token');
  assert.equal(codeOf(token.slice(0, -8) + 'AAAAAAAA'), 'invalid_token');
  assert.equal(codeOf('not a biscuit!'), 'invalid_token');
});

test('DPoP-bound capabilities need the bound key thumbprint', () => {
  const bound = mintBiscuitCapability(claims({ cnf: { jkt: 'jkt-1' } }), root).token;
  assert.equal(codeOf(bound), 'dpop_required');
  assert.equal(codeOf(bound, { dpopJkt: 'jkt-2' }), 'invalid_dpop_proof');
  assert.equal(codeOf(bound, { dpopJkt: 'jkt-1' }), 'allowed');
  assert.equal(authorizeBiscuit(bound, request({ dpopJkt: 'jkt-1' })).cnf?.jkt, 'jkt-1');
});

test('attenuation only adds checks', () => {
  const clock = fixedClock(NOW * 1000);
  const narrowed = attenuateBiscuit(token, root.publicKey, { tools: ['gmail.messages.send'], resources: ['gmail:mailbox:me'], expires_in: 60, constraints: { to: { eq: 'ann@customer.com' } }, clock });
  assert.equal(codeOf(narrowed), 'allowed');
  assert.equal(codeOf(narrowed, { tool: 'notion.pages.read', resource: 'notion:page:1' }), 'insufficient_scope');
  assert.equal(codeOf(narrowed, { resource: 'gmail:mailbox:other' }), 'insufficient_scope');
  assert.equal(codeOf(narrowed, { input: { to: 'bob@customer.com' } }), 'constraint_failed');
  assert.equal(codeOf(narrowed, { now: (NOW + 61) * 1000 }), 'expired');
  const facts = authorizeBiscuit(narrowed, request());
  assert.equal(facts.revocation_ids.length, 2);
  assert.equal(facts.revocation_ids[0], revocation_ids[0]);
  // A glob attenuation, then a second holder narrowing further.
  const globbed = attenuateBiscuit(token, root.publicKey, { resources: ['gmail:mailbox:team-*'] });
  assert.equal(codeOf(globbed, { resource: 'gmail:mailbox:team-a' }), 'allowed');
  assert.equal(codeOf(globbed), 'insufficient_scope');
  const twice = attenuateBiscuit(globbed, (kid) => (kid === 7 ? root.publicKey : undefined), { tools: ['notion.pages.read'] });
  assert.equal(codeOf(twice, { resource: 'gmail:mailbox:team-a' }), 'insufficient_scope');
  assert.throws(() => attenuateBiscuit(token, root.publicKey, {}), TypeError);
  assert.throws(() => attenuateBiscuit(token, generateBiscuitRootKey(7).publicKey, { tools: ['x.y'] }), CapabilityError);
});

test('an appended block cannot widen: its right and resource_pattern facts are not trusted', () => {
  const widened = appendRaw(token, [
    'right("github.repos.delete", "*");',
    'right("gmail.messages.send", "*");',
    'resource_pattern("gmail:mailbox:*", "(?s)^.*$");',
    'audience("https://other.test/rs");',
    'right($t, $r) <- tool($t), resource($r);',
  ].join('\n'));
  assert.equal(codeOf(widened, { tool: 'github.repos.delete', resource: 'github:repo:a/b' }), 'insufficient_scope');
  assert.equal(codeOf(widened, { resource: 'slack:channel:1' }), 'insufficient_scope');
  assert.equal(codeOf(widened, { audience: 'https://other.test/rs' }), 'invalid_token');
  const facts = authorizeBiscuit(widened, request());
  assert.deepEqual(facts.rights.map((r) => r.tool).sort(), ['gmail.messages.send', 'notion.pages.read']);
});

test('request values are terms, never code or keys', () => {
  for (const hostile of ['ed25519/' + 'ab'.repeat(32), 'ed25519/zz', '"); allow if true; //', '{p0_0}', '\u0000']) {
    assert.equal(codeOf(token, { input: { to: hostile } }), 'constraint_failed');
    assert.equal(codeOf(token, { resource: `gmail:mailbox:${hostile}`, input: { to: 'a@customer.com' } }), 'allowed');
    assert.equal(codeOf(token, { tool: hostile }), 'insufficient_scope');
  }
  // The module still works after all of that.
  assert.equal(codeOf(token), 'allowed');
});

test('a Datalog bomb is refused quickly, not retried forever', () => {
  const builder = new BiscuitBuilder();
  builder.addCode(Array.from({ length: 60 }, (_, i) => `n(${i});`).join('\n') + '\npair($x, $y) <- n($x), n($y);');
  builder.setRootKeyId(7);
  const bomb = builder.build(PrivateKey.fromBytes(Buffer.from(root.privateKey, 'hex'), SignatureAlgorithm.Ed25519)).toBase64();
  assert.equal(codeOf(bomb), 'invalid_token');
  assert.equal(codeOf(token), 'allowed');
});

// 10,000 under `npm run test:long`; a thousand is enough to see the collector run in between.
const BUSY_AUTHORISATIONS = Number(process.env.WRIT_BISCUIT_AUTHORISATIONS ?? 1_000);

test(`${BUSY_AUTHORISATIONS} authorisations of valid tokens in a busy process: zero denials`, () => {
  const resolver = (kid: number | undefined) => (kid === 7 ? root.publicKey : undefined);
  const tokens = [token, attenuateBiscuit(token, root.publicKey, { resources: ['gmail:mailbox:*'] })].map((t) => openBiscuit(t, resolver));
  let denials = 0;
  let garbage: unknown[] = [];
  for (let i = 0; i < BUSY_AUTHORISATIONS; i++) {
    // Allocation churn so the collector runs in between (and sometimes during) evaluations.
    garbage.push(new Array(200).fill(i), { i, s: 'x'.repeat(i % 500) });
    if (garbage.length > 2_000) garbage = [];
    try {
      authorizeOpenedBiscuit(tokens[i % 2]!, request({ now: NOW * 1000 + (i % 200) * 1000 }));
    } catch {
      denials++;
    }
  }
  for (const opened of tokens) opened.biscuit.free();
  assert.equal(denials, 0);
});

test('root keys serialise to strings and back', () => {
  const restored = parseBiscuitRootKey(serializeBiscuitRootKey(root));
  assert.deepEqual({ ...restored }, { ...root });
  assert.equal(codeOf(mintBiscuitCapability(claims(), restored).token), 'allowed');
  assert.throws(() => parseBiscuitRootKey(serializeBiscuitRootKey({ ...root, publicKey: generateBiscuitRootKey(1).publicKey })), TypeError);
});

// A refusal's code follows the identity of the check that failed: each check Writ writes maps to
// its code, and a check that merely mentions the same predicates is not taken for Writ's.

test('each check of the authority block maps to its code', () => {
  const token = mintBiscuitCapability(claims({ cnf: { jkt: 'jkt-bound' } }), root).token;
  const bound = { dpopJkt: 'jkt-bound' };
  assert.equal(codeOf(token, bound), 'allowed');
  assert.equal(codeOf(token, { ...bound, now: (NOW + 301) * 1000 }), 'expired');
  assert.equal(codeOf(token, { ...bound, audience: 'https://elsewhere.test' }), 'invalid_token');
  assert.equal(codeOf(token), 'dpop_required');
  assert.equal(codeOf(token, { dpopJkt: 'another-key' }), 'invalid_dpop_proof');
  assert.equal(codeOf(token, { ...bound, input: { to: 'eve@attacker.test' } }), 'constraint_failed');
  assert.equal(codeOf(token, { ...bound, tool: 'notion.pages.write' }), 'insufficient_scope');
});

test('an audience with quotes and backslashes is still recognised exactly', () => {
  const aud = 'https://odd.test/a"b\\c';
  const token = mintBiscuitCapability(claims({ aud }), root).token;
  assert.equal(codeOf(token, { audience: aud }), 'allowed');
  assert.equal(codeOf(token, { audience: 'https://odd.test/' }), 'invalid_token');
});

test('each check an attenuation writes maps to its code', () => {
  const clock = fixedClock(NOW * 1000);
  const attenuated = attenuateBiscuit(token, root.publicKey, {
    tools: ['gmail.messages.send'], resources: ['gmail:mailbox:me'], expires_in: 60,
    constraints: { subject: { starts_with: 'Re: ' }, count: { max: 3, min: 1 }, mode: { one_of: ['a', 'b'] } }, clock,
  });
  const input = { to: 'ann@customer.com', subject: 'Re: hi', count: 2, mode: 'a' };
  assert.equal(codeOf(attenuated, { input }), 'allowed');
  assert.equal(codeOf(attenuated, { input, now: (NOW + 61) * 1000 }), 'expired');
  assert.equal(codeOf(attenuated, { input, resource: 'gmail:mailbox:other' }), 'insufficient_scope');
  assert.equal(codeOf(attenuated, { input: { ...input, subject: 'Fwd: hi' } }), 'constraint_failed');
  assert.equal(codeOf(attenuated, { input: { ...input, count: 9 } }), 'constraint_failed');
  assert.equal(codeOf(attenuated, { input: { ...input, mode: 'c' } }), 'constraint_failed');
});

test('a hostile check that only mentions time( is not taken for expiry', () => {
  const hostile = [
    'check if time($t), $t < 2000-01-01T00:00:00Z or tool("none");',
    'check if resource("time(x)");',
    'check if tool($t), $t == "time($t), $t < 2000-01-01T00:00:00Z";',
  ];
  for (const code of hostile) assert.equal(codeOf(appendRaw(token, code)), 'insufficient_scope', code);
  // The exact shape of an expiry check in an appended block is an expiry, whoever wrote it.
  assert.equal(codeOf(appendRaw(token, 'check if time($t), $t < 2000-01-01T00:00:00Z;')), 'expired');
});

test('hostile checks that mention audience(, dpop_jkt( or input( are not taken for Writ\'s', () => {
  const hostile = [
    'check if audience("https://elsewhere.test");',
    'check if dpop_jkt("someone");',
    'check if input("to", $v), $v == "x" or tool("none");',
    // A string holding a quote can make the printed rule look like a constraint check.
    'check if input("to\\", $v), $v == \\"x", $v);',
  ];
  for (const code of hostile) assert.equal(codeOf(appendRaw(token, code)), 'insufficient_scope', code);
});
