// A policy set: every loaded file's rules, frozen, with a version that changes whenever any
// file's bytes or declared version change. Decisions and audit events carry that version.

import { createHash } from 'node:crypto';
import { PolicyFileError } from './errors.ts';
import type { ParsedPolicyFile, PolicySet } from './types.ts';

/** Combine parsed files (in the order given) into one immutable set. Rule ids must be unique. */
export function createPolicySet(files: readonly ParsedPolicyFile[]): PolicySet {
  const owner = new Map<string, string>();
  for (const file of files) {
    for (const rule of file.rules) {
      const first = owner.get(rule.id);
      if (first !== undefined) {
        throw new PolicyFileError('POLICY_DUPLICATE_RULE_ID', file.file, [
          { path: 'id', line: rule.source.line, message: `rule id "${rule.id}" is already used in ${first}` },
        ]);
      }
      owner.set(rule.id, file.file);
    }
  }
  const infos = files.map(({ file, version, sha256 }) => ({ file, version, sha256 }));
  return deepFreeze({
    version: policyVersion(infos),
    files: infos,
    rules: files.flatMap((f) => f.rules),
  });
}

function policyVersion(files: ReadonlyArray<{ file: string; version: string | number; sha256: string }>): string {
  const canonical = JSON.stringify(files.map((f) => [f.file, f.version, f.sha256]));
  return 'sha256:' + createHash('sha256').update(canonical, 'utf8').digest('hex').slice(0, 32);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
