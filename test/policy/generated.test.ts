// policies/schema.json and the reference part of docs/policies.md are generated from the zod
// schema; these tests fail when either is stale or a field lacks a description.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  REFERENCE_BEGIN,
  REFERENCE_END,
  policyJsonSchema,
  policyJsonSchemaText,
  policyReferenceMarkdown,
  spliceReference,
} from '../../src/policy/reference.ts';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const REGENERATE = 'regenerate with: npm run docs:generate';

test('policies/schema.json is up to date', () => {
  assert.equal(readFileSync(root('policies/schema.json'), 'utf8'), policyJsonSchemaText(), `policies/schema.json is stale; ${REGENERATE}`);
});

test('the reference section of docs/policies.md is up to date', () => {
  const doc = readFileSync(root('docs/policies.md'), 'utf8');
  assert.ok(doc.includes(REFERENCE_BEGIN) && doc.includes(REFERENCE_END), 'docs/policies.md lost its generated-reference markers');
  assert.equal(doc, spliceReference(doc, policyReferenceMarkdown()), `docs/policies.md is stale; ${REGENERATE}`);
});

test('every field of the policy schema has a description', () => {
  type Node = { properties?: Record<string, Node>; description?: string; $defs?: Record<string, Node> };
  const defs = (policyJsonSchema() as Node).$defs ?? {};
  const missing: string[] = [];
  for (const [name, def] of Object.entries(defs)) {
    if (!def.description) missing.push(name);
    for (const [field, prop] of Object.entries(def.properties ?? {})) if (!prop.description) missing.push(`${name}.${field}`);
  }
  assert.deepEqual(missing, []);
  for (const name of ['PolicyFile', 'AllowRule', 'DenyRule', 'Match', 'Constraints', 'ArgumentConstraint', 'Duration']) {
    assert.ok(name in defs, `${name} missing from the JSON Schema`);
  }
});

test('spliceReference replaces only the generated section', () => {
  const doc = `intro\n${REFERENCE_BEGIN}\nold\n${REFERENCE_END}\noutro\n`;
  assert.equal(spliceReference(doc, `${REFERENCE_BEGIN}\nnew\n${REFERENCE_END}`), `intro\n${REFERENCE_BEGIN}\nnew\n${REFERENCE_END}\noutro\n`);
  assert.throws(() => spliceReference('no markers', 'x'));
});
