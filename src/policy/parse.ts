// One policy file: YAML text → validated, compiled rules, with every problem mapped to a line.

import { createHash } from 'node:crypto';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type * as z from 'zod';
import { PolicyFileError, formatPath } from './errors.ts';
import type { PolicyIssue } from './errors.ts';
import { DEFAULT_APPROVAL_MAX_WAIT_SECONDS, DEFAULT_FRESH_SIGN_IN_SECONDS, durationSeconds, PolicyFileSchema } from './schema.ts';
import type { PolicyFileDocument, RuleDocument } from './schema.ts';
import type { ParsedPolicyFile, PolicyRule } from './types.ts';

/** A policy file is a page of rules, not a data set; anything larger is a mistake or an attack. */
export const MAX_POLICY_FILE_BYTES = 1_048_576;
// YAML aliases can expand exponentially ("billion laughs"); policy files have no need for many.
const MAX_ALIAS_COUNT = 100;

interface Position {
  line: number;
  column: number;
}

/**
 * Parse and validate one policy file. `filename` is used for messages and `source` fields only.
 * Throws PolicyFileError (code POLICY_YAML_SYNTAX, POLICY_SCHEMA or POLICY_FILE_TOO_LARGE).
 */
export function parsePolicyFile(text: string, filename: string): ParsedPolicyFile {
  if (Buffer.byteLength(text, 'utf8') > MAX_POLICY_FILE_BYTES) {
    throw new PolicyFileError('POLICY_FILE_TOO_LARGE', filename, [
      { path: '', message: `file is larger than ${MAX_POLICY_FILE_BYTES} bytes` },
    ]);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyFileError(
      'POLICY_YAML_SYNTAX',
      filename,
      doc.errors.map((e) => ({
        path: '',
        ...position(lines, e.pos[0]),
        message: e.code === 'MULTIPLE_DOCS' ? 'a policy file holds one YAML document' : firstLine(e.message),
      })),
    );
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (cause) {
    throw new PolicyFileError('POLICY_YAML_SYNTAX', filename, [{ path: '', message: firstLine(errorMessage(cause)) }], { cause });
  }

  const result = PolicyFileSchema.safeParse(data);
  if (!result.success) {
    throw new PolicyFileError('POLICY_SCHEMA', filename, result.error.issues.map((i) => toPolicyIssue(doc, lines, i, data)));
  }
  return compile(result.data, doc, lines, filename, text);
}

function compile(file: PolicyFileDocument, doc: Document, lines: LineCounter, filename: string, text: string): ParsedPolicyFile {
  const rules = file.rules.map((rule, index) =>
    compileRule(rule, { file: filename, line: locate(doc, lines, ['rules', index])?.line ?? 1 }),
  );
  return {
    file: filename,
    version: file.version,
    sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
    rules,
  };
}

function compileRule(rule: RuleDocument, source: PolicyRule['source']): PolicyRule {
  const compiled: PolicyRule = {
    id: rule.id,
    description: rule.description,
    effect: rule.effect,
    match: { ...rule.match },
    source,
  };
  if (rule.effect === 'allow' && rule.constraints) {
    const { max_ttl, ...rest } = rule.constraints;
    compiled.constraints = max_ttl === undefined ? rest : { ...rest, max_ttl: durationSeconds(max_ttl) };
  }
  if (rule.effect === 'require_approval') {
    compiled.approval = {
      ...(rule.when ? { when: rule.when } : {}),
      approvers: rule.approvers,
      max_wait: rule.max_wait === undefined ? DEFAULT_APPROVAL_MAX_WAIT_SECONDS : durationSeconds(rule.max_wait),
      fresh_sign_in: rule.fresh_sign_in === undefined ? DEFAULT_FRESH_SIGN_IN_SECONDS : durationSeconds(rule.fresh_sign_in),
    };
  }
  return compiled;
}

function toPolicyIssue(doc: Document, lines: LineCounter, issue: z.core.$ZodIssue, data: unknown): PolicyIssue {
  // For an unknown key, point at the key itself rather than at the object that holds it.
  const path = issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined ? [...issue.path, issue.keys[0]] : issue.path;
  const missing = issue.code === 'invalid_type' && valueAt(data, path) === undefined;
  return { path: formatPath(path), ...locate(doc, lines, path), message: missing ? 'required field is missing' : issue.message };
}

function valueAt(data: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value = data;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[segment];
  }
  return value;
}

/**
 * Line and column of the deepest node along `path` that exists in the document: the value when
 * present, else its key, else the nearest ancestor (for a missing required field).
 */
function locate(doc: Document, lines: LineCounter, path: ReadonlyArray<PropertyKey>): Position | undefined {
  let node: unknown = doc.contents;
  let at = rangeStart(node);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(segment));
      if (!pair) break;
      at = rangeStart(pair.key) ?? at;
      node = pair.value;
      at = rangeStart(node) ?? at;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
      if (node === undefined) break;
      at = rangeStart(node) ?? at;
    } else {
      break;
    }
  }
  return at === undefined ? undefined : position(lines, at);
}

function rangeStart(node: unknown): number | undefined {
  return isNode(node) && node.range ? node.range[0] : undefined;
}

function position(lines: LineCounter, offset: number): Position {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

function errorMessage(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
