// Runs every table-driven case in policies/cases/*.yaml against the shipped policy files or the
// case's inline rules.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import * as z from 'zod';
import { createPolicySet, decide, loadPolicies, parsePolicyFile } from '../../src/policy/index.ts';
import type { PolicyInput, PolicySet } from '../../src/policy/index.ts';

const POLICIES = fileURLToPath(new URL('../../policies/', import.meta.url));
const CASES = join(POLICIES, 'cases');

const CaseSchema = z.strictObject({
  name: z.string().min(1),
  policies: z.union([
    z.strictObject({ dir: z.string() }),
    z.strictObject({ files: z.array(z.string()).min(1) }),
    z.strictObject({ rules: z.array(z.unknown()).min(1) }),
  ]),
  input: z.record(z.string(), z.unknown()),
  expect: z.strictObject({
    effect: z.enum(['allow', 'deny']),
    matched_rules: z.array(z.string()).optional(),
    // Listed keys must equal; `null` means the key must be absent.
    constraints: z.record(z.string(), z.unknown()).optional(),
    // Each must be a substring of some reason.
    reasons: z.array(z.string()).optional(),
  }),
});

const CaseFileSchema = z.strictObject({
  base_input: z.record(z.string(), z.unknown()).optional(),
  cases: z.array(CaseSchema).min(1),
});

type Case = z.infer<typeof CaseSchema>;

async function policiesFor(c: Case, where: string): Promise<PolicySet> {
  const p = c.policies;
  if ('dir' in p) return loadPolicies(join(POLICIES, p.dir));
  if ('files' in p) return createPolicySet(p.files.map((f) => parsePolicyFile(readFileSync(join(POLICIES, f), 'utf8'), f)));
  return createPolicySet([parsePolicyFile(stringify({ version: 'case', rules: p.rules }), where)]);
}

const files = readdirSync(CASES).filter((f) => f.endsWith('.yaml')).sort();
let total = 0;

for (const file of files) {
  const parsed = CaseFileSchema.parse(parse(readFileSync(join(CASES, file), 'utf8')));
  describe(`policies/cases/${file}`, () => {
    for (const c of parsed.cases) {
      total++;
      test(c.name, async () => {
        const policies = await policiesFor(c, `${file}: ${c.name}`);
        const input = { ...parsed.base_input, ...c.input } as unknown as PolicyInput;
        const decision = decide(policies, input);
        const context = JSON.stringify(decision, null, 2);
        assert.equal(decision.effect, c.expect.effect, context);
        assert.equal(decision.policy_version, policies.version);
        if (c.expect.matched_rules) assert.deepEqual(decision.matched_rules, c.expect.matched_rules, context);
        for (const [key, want] of Object.entries(c.expect.constraints ?? {})) {
          const got = (decision.constraints as unknown as Record<string, unknown>)[key];
          if (want === null) assert.equal(got, undefined, `constraints.${key} should be absent\n${context}`);
          else assert.deepEqual(got, want, `constraints.${key}\n${context}`);
        }
        for (const fragment of c.expect.reasons ?? []) {
          assert.ok(decision.reasons.some((r) => r.includes(fragment)), `no reason contains "${fragment}"\n${context}`);
        }
      });
    }
  });
}

test('the case files hold at least 15 cases and cover the default policy and every example', () => {
  assert.ok(total >= 15, `only ${total} cases`);
  const text = files.map((f) => readFileSync(join(CASES, f), 'utf8')).join('\n');
  const examples = readdirSync(join(POLICIES, 'examples')).filter((f) => f.endsWith('.yaml'));
  for (const example of examples) assert.ok(text.includes(`examples/${example}`), `no case loads examples/${example}`);
  assert.ok(text.includes('dir: .'), 'no case loads the shipped policy directory');
});
