import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { constraintHolds } from '../../src/rights/rights.ts';
import type { ArgumentConstraint } from '../../src/rights/rights.ts';
import { intersectPatterns, mayOverlap, mergeConstraint } from '../../src/policy/engine.ts';
import { PolicyFileError, createPolicySet, decide, explain, parsePolicyFile } from '../../src/policy/index.ts';
import type { PolicyInput, PolicySet } from '../../src/policy/index.ts';

const input = (over: Partial<PolicyInput> = {}): PolicyInput => ({
  org_id: 'org_acme',
  agent_id: 'agt_mail',
  principal: { kind: 'user', id: 'usr_1' },
  audience: 'https://writ.example/executor',
  tools: ['gmail.messages.send'],
  ...over,
});

function policies(rules: unknown[], file = 'test.yaml', version: string | number = 1): PolicySet {
  return createPolicySet([parsePolicyFile(stringify({ version, rules }), file)]);
}

const RULES = [
  { id: 'acme-mail', description: 'Acme mail', effect: 'allow', match: { orgs: ['org_acme'], tools: ['gmail.*'] } },
  { id: 'org-only', description: 'Org-level only', effect: 'allow', match: { principal: 'org' } },
  { id: 'no-send-outside', description: 'Other audiences', effect: 'deny', match: { audiences: ['https://other.example/*'] } },
];

test('explain traces every rule with the conditions it checked', () => {
  const { decision, rules } = explain(policies(RULES), input());
  assert.equal(decision.effect, 'allow');
  assert.deepEqual(decision.matched_rules, ['acme-mail']);
  assert.deepEqual(
    rules.map((r) => [r.id, r.matched, r.tools, r.checks]),
    [
      ['acme-mail', true, ['gmail.messages.send'], ['org org_acme matches orgs [org_acme]', 'tool gmail.messages.send within tools [gmail.*]']],
      ['org-only', false, [], ['principal is user, rule wants org']],
      ['no-send-outside', false, [], ['audience https://writ.example/executor is not in audiences [https://other.example/*]']],
    ],
  );
  assert.deepEqual(rules[0]?.source, { file: 'test.yaml', line: 3 });
});

test('explain and decide agree', () => {
  const set = policies(RULES);
  for (const i of [input(), input({ audience: 'https://other.example/x' }), input({ tools: ['slack.chat.post'] })]) {
    assert.deepEqual(explain(set, i).decision, decide(set, i));
  }
});

test('deny reasons list every denying rule and every unallowed tool', () => {
  const set = policies([
    { id: 'allow-gmail', description: 'Gmail', effect: 'allow', match: { tools: ['gmail.*'] } },
    { id: 'deny-a', description: 'A', effect: 'deny', match: { tools: ['gmail.messages.send'] } },
    { id: 'deny-b', description: 'B', effect: 'deny', match: { agents: ['agt_*'] } },
  ]);
  const decision = decide(set, input({ tools: ['gmail.messages.send', 'slack.chat.post'] }));
  assert.equal(decision.effect, 'deny');
  assert.deepEqual(decision.reasons, [
    'rule deny-a denies tool gmail.messages.send: A',
    'rule deny-b denies tools gmail.messages.send, slack.chat.post: B',
    'no rule allows tool slack.chat.post',
  ]);
});

test('a policy set with no rules denies everything', () => {
  const decision = decide(policies([]), input());
  assert.equal(decision.effect, 'deny');
  assert.deepEqual(decision.reasons, ['no rule allows tool gmail.messages.send']);
});

test('duplicate requested tools are considered once', () => {
  const decision = decide(policies(RULES), input({ tools: ['gmail.messages.send', 'gmail.messages.send'] }));
  assert.deepEqual(decision.reasons.filter((r) => r.startsWith('tool ')), ['tool gmail.messages.send allowed by rule acme-mail']);
});

test('malformed inputs are denied, never thrown', () => {
  const set = policies(RULES);
  const bad: unknown[] = [
    null,
    {},
    { ...input(), tools: 'gmail.messages.send' },
    { ...input(), tools: [1] },
    { ...input(), principal: null },
    { ...input(), principal: { kind: 'admin', id: 'x' } },
    { ...input(), org_id: 42 },
    { ...input(), resources: 'x' },
  ];
  for (const b of bad) {
    const { decision, rules } = explain(set, b as PolicyInput);
    assert.equal(decision.effect, 'deny', JSON.stringify(b));
    assert.match(decision.reasons[0] ?? '', /^malformed request: /);
    assert.ok(rules.every((r) => !r.matched));
  }
});

test('argument constraints in a decision are enforceable with the shared constraintHolds', () => {
  const set = policies([
    { id: 'mail', description: 'Mail', effect: 'allow', match: {}, constraints: { arguments: { 'gmail.*': { to: { ends_with: '@customer.com' } } } } },
    { id: 'cap', description: 'Cap', effect: 'allow', match: {}, constraints: { arguments: { '*': { amount: { max: 50 } } } } },
  ]);
  const decision = decide(set, input());
  const fields = decision.constraints.arguments?.['gmail.messages.send'];
  assert.ok(fields?.to && fields.amount);
  assert.equal(constraintHolds(fields.to, 'bob@customer.com'), true);
  assert.equal(constraintHolds(fields.to, 'bob@evil.com'), false);
  assert.equal(constraintHolds(fields.amount, 50), true);
  assert.equal(constraintHolds(fields.amount, 51), false);
});

test('mergeConstraint keeps the strictest of two constraints or reports the conflict', () => {
  assert.deepEqual(mergeConstraint({ max: 100, min: 0 }, { max: 50, min: 10 }), { max: 50, min: 10 });
  assert.deepEqual(mergeConstraint({ starts_with: 'ab' }, { starts_with: 'abc' }), { starts_with: 'abc' });
  assert.deepEqual(mergeConstraint({ starts_with: 'abc' }, { starts_with: 'ab' }), { starts_with: 'abc' });
  assert.deepEqual(mergeConstraint({ ends_with: '@x.com' }, { ends_with: 'bob@x.com' }), { ends_with: 'bob@x.com' });
  assert.deepEqual(mergeConstraint({ one_of: ['a', 'b', 1] }, { one_of: [1, 'b', 'c'] }), { one_of: ['b', 1] });
  assert.deepEqual(mergeConstraint({ eq: 'a' }, { eq: 'a' }), { eq: 'a' });
  assert.deepEqual(mergeConstraint({ eq: 'a' }, { one_of: ['a', 'b'] }), { eq: 'a', one_of: ['a', 'b'] });
  const conflicts: Array<[ArgumentConstraint, ArgumentConstraint]> = [
    [{ eq: 'a' }, { eq: 'b' }],
    [{ eq: 'c' }, { one_of: ['a', 'b'] }],
    [{ one_of: ['a'] }, { one_of: ['b'] }],
    [{ starts_with: 'ab' }, { starts_with: 'ac' }],
    [{ ends_with: '@a.com' }, { ends_with: '@b.com' }],
    [{ min: 10 }, { max: 5 }],
  ];
  for (const [a, b] of conflicts) {
    assert.equal(typeof mergeConstraint(a, b), 'string', JSON.stringify([a, b]));
  }
});

test('intersectPatterns keeps what both lists allow and never more', () => {
  assert.deepEqual(intersectPatterns(['github:repo:acme/*'], ['github:repo:acme/web-*', 'github:repo:x/*']), ['github:repo:acme/web-*']);
  assert.deepEqual(intersectPatterns(['*'], ['a', 'b:*']), ['a', 'b:*']);
  assert.deepEqual(intersectPatterns(['a:*'], ['b:*']), []);
  assert.deepEqual(intersectPatterns(['a:1'], ['a:*']), ['a:1']);
});

test('mayOverlap is exact for names and errs towards overlap for two patterns', () => {
  assert.equal(mayOverlap('gmail.*', 'gmail.messages.send'), true);
  assert.equal(mayOverlap('gmail.messages.send', 'gmail.*'), true);
  assert.equal(mayOverlap('gmail.*', 'slack.chat.post'), false);
  assert.equal(mayOverlap('gmail.*.delete', 'gmail.messages.*'), true);
  assert.equal(mayOverlap('gmail.*', 'slack.*'), false);
  assert.equal(mayOverlap('*.delete', '*.create'), false);
  assert.equal(mayOverlap('a', 'a'), true);
  assert.equal(mayOverlap('a', 'b'), false);
});

test('policy_version changes with file bytes, file name and declared version, and only then', () => {
  const rules = [RULES[0]];
  const base = policies(rules).version;
  assert.match(base, /^sha256:[0-9a-f]{32}$/);
  assert.equal(policies(rules).version, base);
  assert.notEqual(policies(rules, 'other.yaml').version, base);
  assert.notEqual(policies(rules, 'test.yaml', 2).version, base);
  assert.notEqual(policies([{ ...RULES[0], description: 'Acme mail!' }]).version, base);
  assert.equal(decide(policies(rules), input()).policy_version, base);
});

test('a policy set is immutable', () => {
  const set = policies(RULES);
  assert.throws(() => (set.rules as unknown[]).push({}), TypeError);
  assert.throws(() => {
    (set.rules[0]?.match.orgs as string[]).push('org_evil');
  }, TypeError);
});

test('rule ids must be unique across files', () => {
  const a = parsePolicyFile(stringify({ version: 1, rules: [RULES[0]] }), 'a.yaml');
  const b = parsePolicyFile(stringify({ version: 1, rules: [RULES[2], RULES[0]] }), 'b.yaml');
  assert.throws(
    () => createPolicySet([a, b]),
    (e: unknown) =>
      e instanceof PolicyFileError && e.reason === 'POLICY_DUPLICATE_RULE_ID' && e.file === 'b.yaml' && /already used in a\.yaml/.test(e.message),
  );
});
