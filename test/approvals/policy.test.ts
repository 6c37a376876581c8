// Approval rules in policy files: parsed with their defaults, explained by the dry run, and
// never skipped for a capability that could make a call the rule is about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionPossible, conditionHolds } from '../../src/policy/approval.ts';
import { createPolicySet, explain, parsePolicyFile, PolicyFileError } from '../../src/policy/index.ts';
import type { ArgumentConstraint } from '../../src/rights/rights.ts';
import type { ApprovalCondition } from '../../src/policy/types.ts';
import { APPROVAL_POLICY } from './support.ts';

const policies = createPolicySet([parsePolicyFile(APPROVAL_POLICY, 'invoices.yaml')]);
const ask = (args?: Record<string, ArgumentConstraint>) => explain(policies, {
  org_id: 'org_1', agent_id: 'agt_1', principal: { kind: 'user', id: 'usr_1' }, audience: 'https://writ.example/executor',
  tools: ['billing.invoices.pay'], ...(args ? { arguments: { 'billing.invoices.pay': args } } : {}),
});

test('an approval rule parses with its defaults and its durations in seconds', () => {
  const rule = policies.rules.find((r) => r.id === 'large-payments-need-approval')!;
  assert.equal(rule.effect, 'require_approval');
  assert.deepEqual(rule.approval, { when: { amount: { gt: 1000 } }, approvers: 'user', max_wait: 600, fresh_sign_in: 300 });
  const bare = parsePolicyFile('version: 1\nrules:\n  - id: all\n    description: every deletion\n    effect: require_approval\n    match: { tools: ["github.repos.delete"] }\n', 'x.yaml');
  assert.deepEqual(bare.rules[0]!.approval, { approvers: 'user', max_wait: 600, fresh_sign_in: 300 });
});

test('a malformed approval rule is refused with the line it is on', () => {
  for (const bad of ['approvers: everyone', 'when: { amount: {} }', 'when: { amount: { bigger: 1 } }', 'max_wait: 2d', 'approvers: { group: "a b" }']) {
    const text = `version: 1\nrules:\n  - id: r\n    description: d\n    effect: require_approval\n    match: {}\n    ${bad}\n`;
    assert.throws(() => parsePolicyFile(text, 'bad.yaml'), (err: unknown) => err instanceof PolicyFileError && err.issues[0]!.line !== undefined, bad);
  }
});

test('the dry run explains when approval is needed and when the constraints rule it out', () => {
  const open = ask();
  assert.equal(open.decision.effect, 'allow');
  assert.deepEqual(open.decision.approval?.rules, ['large-payments-need-approval']);
  assert.ok(open.decision.reasons.some((r) => /approval required by rule large-payments-need-approval .*amount > 1000 is possible.*from the user the agent acts for/.test(r)), open.decision.reasons.join('\n'));
  const small = ask({ amount: { max: 1000 } });
  assert.equal(small.decision.approval, undefined);
  assert.ok(small.decision.reasons.some((r) => /needs no approval here: the capability's constraints on amount rule the condition out/.test(r)));
  const exact = ask({ amount: { eq: 4200 } });
  assert.deepEqual(exact.decision.approval?.approvers, ['user']);
});

// Every constraint and condition over a small world of values (single tests and pairs): whenever
// some value the constraint allows meets the condition, approval must be asked for.
test('no capability escapes approval while a value it allows meets the condition (exhaustive)', () => {
  const numbers = [-5, 0, 1, 999, 1000, 1000.5, 1001, 4200, 10_000];
  const strings = ['a@xcorp.com', 'b@evil.com', 'xcorp.com', '@xcorp.com', 'ceo@xcorp.com.evil.com', 'inv_1042', ''];
  const values: Array<string | number> = [...numbers, ...strings];
  const prefixes = ['a', 'b@', 'ceo', '@'];
  const suffixes = ['@xcorp.com', '.com', 'evil.com', 'xcorp.com'];
  const single: ArgumentConstraint[] = [
    ...values.map((v) => ({ eq: v })), ...values.flatMap((a) => values.map((b) => ({ one_of: [a, b] }))),
    ...numbers.map((n) => ({ min: n })), ...numbers.map((n) => ({ max: n })),
    ...prefixes.map((p) => ({ starts_with: p })), ...suffixes.map((x) => ({ ends_with: x })),
  ];
  const constraints = [...single, ...numbers.flatMap((a) => numbers.map((b) => ({ min: a, max: b }))), ...prefixes.flatMap((p) => suffixes.map((x) => ({ starts_with: p, ends_with: x })))];
  const tests: ApprovalCondition[] = [
    ...numbers.flatMap((n) => [{ gt: n }, { gte: n }, { lt: n }, { lte: n }]),
    ...values.flatMap((v) => [{ eq: v }, { not_eq: v }, { one_of: [v] }, { not_one_of: [v] }]),
    ...prefixes.flatMap((p) => [{ starts_with: p }, { not_starts_with: p }]), ...suffixes.flatMap((x) => [{ ends_with: x }, { not_ends_with: x }]),
  ];
  const conditions = [...tests, ...numbers.flatMap((a) => numbers.map((b) => ({ gt: a, lt: b }))), ...suffixes.flatMap((x) => prefixes.map((p) => ({ not_ends_with: x, starts_with: p })))];
  const allows = (c: ArgumentConstraint, v: string | number) =>
    (c.eq === undefined || v === c.eq) && (c.one_of === undefined || c.one_of.includes(v))
    && (c.min === undefined || (typeof v === 'number' && v >= c.min)) && (c.max === undefined || (typeof v === 'number' && v <= c.max))
    && (c.starts_with === undefined || (typeof v === 'string' && v.startsWith(c.starts_with)))
    && (c.ends_with === undefined || (typeof v === 'string' && v.endsWith(c.ends_with)));
  let checked = 0;
  for (const constraint of constraints) {
    const allowed = values.filter((v) => allows(constraint, v));
    for (const condition of conditions) {
      const witness = allowed.find((v) => conditionHolds(condition, v));
      if (witness === undefined) continue;
      checked++;
      assert.ok(conditionPossible(condition, constraint), `${JSON.stringify(constraint)} allows ${JSON.stringify(witness)}, which meets ${JSON.stringify(condition)}`);
    }
  }
  assert.ok(checked > 10_000, `checked ${checked} pairs with a witness`);
});
