// Generated artefacts of the policy schema: policies/schema.json and the reference section of
// docs/policies.md. Both come from the zod descriptions, so the docs cannot drift from the code.

import * as z from 'zod';
import { PolicyFileSchema } from './schema.ts';

export const REFERENCE_BEGIN = '<!-- BEGIN GENERATED POLICY REFERENCE: edit src/policy/schema.ts, then run npm run docs:generate -->';
export const REFERENCE_END = '<!-- END GENERATED POLICY REFERENCE -->';

type JsonSchema = {
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  description?: string;
  title?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  minLength?: number;
};

/** The JSON Schema (draft 2020-12) of a policy file, for editors and other tools. */
export function policyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(PolicyFileSchema, { target: 'draft-2020-12', io: 'input' });
}

/** policies/schema.json as committed: stable key order, two-space indent, trailing newline. */
export function policyJsonSchemaText(): string {
  return JSON.stringify(policyJsonSchema(), null, 2) + '\n';
}

// Sections in reading order: from the file down to the leaves.
const SECTION_ORDER = ['PolicyFile', 'AllowRule', 'DenyRule', 'Match', 'Constraints', 'ArgumentConstraint', 'Duration'];

/** The reference section of docs/policies.md, markers included. */
export function policyReferenceMarkdown(): string {
  const schema = policyJsonSchema() as JsonSchema;
  const defs = schema.$defs ?? {};
  const names = [...SECTION_ORDER.filter((n) => n in defs), ...Object.keys(defs).filter((n) => !SECTION_ORDER.includes(n))];
  const out: string[] = [REFERENCE_BEGIN, ''];
  for (const name of names) {
    const def = defs[name] as JsonSchema;
    out.push(`### ${name}`, '');
    if (def.description) out.push(def.description, '');
    if (def.properties) {
      out.push('| field | type | required | description |', '| --- | --- | --- | --- |');
      const required = new Set(def.required ?? []);
      for (const [field, prop] of Object.entries(def.properties)) {
        out.push(`| \`${field}\` | ${cell(typeOf(prop))} | ${required.has(field) ? 'yes' : 'no'} | ${cell(describe(prop))} |`);
      }
    } else {
      out.push(`Type: ${typeOf(def)}.`);
      const alternatives = def.anyOf ?? def.oneOf ?? [];
      for (const alt of alternatives) if (alt.description) out.push(`- ${typeOf(alt)}: ${alt.description}`);
    }
    out.push('');
  }
  out.push(REFERENCE_END);
  return out.join('\n');
}

/** Replace the generated section of a markdown document; throws if the markers are missing. */
export function spliceReference(markdown: string, reference: string): string {
  const begin = markdown.indexOf(REFERENCE_BEGIN);
  const end = markdown.indexOf(REFERENCE_END);
  if (begin < 0 || end < begin) throw new Error('generated reference markers not found');
  return markdown.slice(0, begin) + reference + markdown.slice(end + REFERENCE_END.length);
}

function typeOf(s: JsonSchema): string {
  if (s.$ref) {
    const name = s.$ref.split('/').pop() ?? s.$ref;
    return `[${name}](#${name.toLowerCase()})`;
  }
  if (s.const !== undefined) return `\`${JSON.stringify(s.const)}\``;
  if (s.enum) return s.enum.map((v) => `\`${JSON.stringify(v)}\``).join(' or ');
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.map(typeOf).join(' or ');
  if (s.type === 'array' && s.items) return `list of ${typeOf(s.items)}`;
  if (s.type === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') {
    return `map of string → ${typeOf(s.additionalProperties)}`;
  }
  if (Array.isArray(s.type)) return s.type.join(' or ');
  return s.type ?? 'any';
}

// A field's own description, then what its value's parts are, when they say something more.
function describe(s: JsonSchema): string {
  const parts = [s.description ?? ''];
  const item = s.items;
  if (item?.description && item.description !== s.description) parts.push(`Each item: ${item.description}`);
  const value = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
  if (s.propertyNames?.description) parts.push(`Keys: ${s.propertyNames.description}.`);
  if (value?.type === 'object' && value.propertyNames?.description) parts.push(`Inner keys: ${value.propertyNames.description}.`);
  return parts.filter(Boolean).join(' ');
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
