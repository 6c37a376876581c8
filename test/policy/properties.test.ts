// Properties of the engine over random rule sets and requests: it never throws, deny rules
// always win, every allowed tool has an allow rule, and no limit is looser than any matching
// rule's.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { globMatch } from '../../src/rights/rights.ts';
import { DEFAULT_MAX_TTL_SECONDS, createPolicySet, decide, explain, parsePolicyFile } from '../../src/policy/index.ts';
import type { PolicyInput, PolicyRule, PolicySet } from '../../src/policy/index.ts';

const TOOLS = ['gmail.messages.send', 'gmail.messages.list', 'slack.chat.post', 'github.repos.delete', 'stripe.invoices.create'];
const TOOL_GLOBS = [...TOOLS, 'gmail.*', '*.delete', 'slack.*', '*', 'stripe.invoices.*', '*.messages.*'];
const ORGS = ['org_a', 'org_b', 'org_trial_1'];
const ORG_GLOBS = [...ORGS, 'org_*', 'org_trial_*'];
const AGENTS = ['agt_1', 'agt_2'];
const AGENT_GLOBS = [...AGENTS, 'agt_*'];
const AUDIENCES = ['https://writ.example/executor', 'https://sandbox.example/executor'];
const AUDIENCE_GLOBS = [...AUDIENCES, 'https://writ.example/*'];
const RESOURCES = ['r:a:1', 'r:a:2', 'r:b:1'];
const RESOURCE_GLOBS = [...RESOURCES, 'r:a:*', 'r:*', '*'];

const someOf = <T>(values: T[]) => fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: 3 });

const match = fc.record(
  {
    orgs: someOf(ORG_GLOBS),
    agents: someOf(AGENT_GLOBS),
    tools: someOf(TOOL_GLOBS),
    principal: fc.constantFrom('user', 'org'),
    audiences: someOf(AUDIENCE_GLOBS),
  },
  { requiredKeys: [] },
);

const argumentConstraint = fc.oneof(
  fc.record({ max: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ min: fc.integer({ min: 0, max: 100 }) }),
  fc.record({ ends_with: fc.constantFrom('@a.com', '@b.com', 'x@a.com') }),
  fc.record({ one_of: fc.uniqueArray(fc.constantFrom('eur', 'usd', 'gbp'), { minLength: 1, maxLength: 3 }) }),
  fc.record({ eq: fc.constantFrom('eur', 'usd') }),
);

const constraints = fc.record(
  {
    max_ttl: fc.oneof(fc.integer({ min: 1, max: 86_400 }), fc.constantFrom('90s', '5m', '1h', '24h')),
    single_use: fc.boolean(),
    require_dpop: fc.boolean(),
    resources: someOf(RESOURCE_GLOBS),
    arguments: fc.dictionary(fc.constantFrom(...TOOL_GLOBS), fc.dictionary(fc.constantFrom('amount', 'to', 'currency'), argumentConstraint, { minKeys: 1, maxKeys: 2 }), {
      minKeys: 1,
      maxKeys: 2,
    }),
  },
  { requiredKeys: [] },
);

const rule = fc.oneof(
  fc.record({ effect: fc.constant('allow'), match, constraints: fc.option(constraints, { nil: undefined }) }),
  fc.record({ effect: fc.constant('deny'), match }),
);

const policySet = fc.array(rule, { maxLength: 6 }).map((rules): PolicySet => {
  const named = rules.map((r, i) => ({ id: `r${i}`, description: `rule ${i}`, ...r }));
  return createPolicySet([parsePolicyFile(stringify({ version: 1, rules: JSON.parse(JSON.stringify(named)) }), 'random.yaml')]);
});

const input = fc.record({
  org_id: fc.constantFrom(...ORGS),
  agent_id: fc.constantFrom(...AGENTS),
  principal: fc.record({ kind: fc.constantFrom('user' as const, 'org' as const), id: fc.constantFrom('usr_1', 'org_a') }),
  audience: fc.constantFrom(...AUDIENCES),
  tools: fc.uniqueArray(fc.constantFrom(...TOOLS), { minLength: 1, maxLength: 3 }),
  resources: fc.option(fc.uniqueArray(fc.constantFrom(...RESOURCES), { minLength: 1, maxLength: 2 }), { nil: undefined }),
});

// An oracle written apart from the engine: does the rule apply to this request and tool?
function applies(r: PolicyRule, i: PolicyInput, tool: string): boolean {
  const m = r.match;
  return (
    (!m.orgs || m.orgs.some((p) => globMatch(p, i.org_id))) &&
    (!m.agents || m.agents.some((p) => globMatch(p, i.agent_id))) &&
    (!m.principal || m.principal === i.principal.kind) &&
    (!m.audiences || m.audiences.some((p) => globMatch(p, i.audience))) &&
    (!m.tools || m.tools.some((p) => globMatch(p, tool)))
  );
}

const RUNS = { numRuns: 400 };

test('the engine never throws, even on arbitrary values as input', () => {
  fc.assert(
    fc.property(policySet, fc.oneof(input as fc.Arbitrary<unknown>, fc.anything()), (set, i) => {
      const { decision } = explain(set, i as PolicyInput);
      assert.ok(decision.effect === 'allow' || decision.effect === 'deny');
      assert.equal(decision.policy_version, set.version);
      assert.ok(decision.reasons.length > 0);
    }),
    RUNS,
  );
});

test('a deny rule that applies to any requested tool always denies', () => {
  fc.assert(
    fc.property(policySet, input, (set, i) => {
      const denying = set.rules.filter((r) => r.effect === 'deny' && i.tools.some((t) => applies(r, i, t)));
      const decision = decide(set, i);
      if (denying.length > 0) {
        assert.equal(decision.effect, 'deny');
        for (const r of denying) assert.ok(decision.reasons.some((reason) => reason.startsWith(`rule ${r.id} denies`)));
      }
    }),
    RUNS,
  );
});

test('an allowed request has an allow rule for every tool and no applying deny rule', () => {
  fc.assert(
    fc.property(policySet, input, (set, i) => {
      const decision = decide(set, i);
      if (decision.effect !== 'allow') return;
      for (const tool of i.tools) {
        assert.ok(set.rules.some((r) => r.effect === 'allow' && applies(r, i, tool)), tool);
        assert.ok(!set.rules.some((r) => r.effect === 'deny' && applies(r, i, tool)), tool);
      }
    }),
    RUNS,
  );
});

test('the combined limits are never looser than any matching allow rule', () => {
  fc.assert(
    fc.property(policySet, input, (set, i) => {
      const { constraints, matched_rules } = decide(set, i);
      const matching = set.rules.filter((r) => r.effect === 'allow' && i.tools.some((t) => applies(r, i, t)));
      assert.deepEqual(
        matching.map((r) => r.id),
        matched_rules.filter((id) => set.rules.find((r) => r.id === id)?.effect === 'allow'),
      );
      const ttls = matching.flatMap((r) => (r.constraints?.max_ttl === undefined ? [] : [r.constraints.max_ttl]));
      for (const ttl of ttls) assert.ok(constraints.max_ttl <= ttl, `${constraints.max_ttl} > ${ttl}`);
      if (ttls.length === 0) assert.equal(constraints.max_ttl, DEFAULT_MAX_TTL_SECONDS);
      if (matching.some((r) => r.constraints?.single_use)) assert.equal(constraints.single_use, true);
      if (matching.some((r) => r.constraints?.require_dpop)) assert.equal(constraints.require_dpop, true);
    }),
    RUNS,
  );
});

test('adding a deny rule never turns a denial into an allow', () => {
  fc.assert(
    fc.property(fc.array(rule, { maxLength: 5 }), match, input, (rules, denyMatch, i) => {
      const build = (extra: unknown[]) =>
        createPolicySet([
          parsePolicyFile(
            stringify({ version: 1, rules: JSON.parse(JSON.stringify([...rules.map((r, n) => ({ id: `r${n}`, description: 'd', ...r })), ...extra])) }),
            'random.yaml',
          ),
        ]);
      const before = decide(build([]), i);
      const after = decide(build([{ id: 'extra-deny', description: 'd', effect: 'deny', match: denyMatch }]), i);
      if (before.effect === 'deny') assert.equal(after.effect, 'deny');
    }),
    RUNS,
  );
});
