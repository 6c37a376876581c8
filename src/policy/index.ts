// The policy engine's public surface. Decisions are pure (`decide`, `explain`); file loading and
// watching are the only I/O, kept in files.ts.

export { decide, explain, mergeConstraint } from './engine.ts';
export { conditionHolds, describeApprovers } from './approval.ts';
export { loadPolicies, watchPolicies } from './files.ts';
export type { PolicyWatcher, ReloadOutcome, WatchOptions } from './files.ts';
export { parsePolicyFile, MAX_POLICY_FILE_BYTES } from './parse.ts';
export { createPolicySet } from './policy-set.ts';
export { PolicyFileError } from './errors.ts';
export type { PolicyErrorCode, PolicyIssue } from './errors.ts';
export { DEFAULT_MAX_TTL_SECONDS, MAX_TTL_CEILING_SECONDS, PolicyFileSchema } from './schema.ts';
export type {
  ApprovalRequirement,
  Approvers,
  ArgumentConstraints,
  Decision,
  DecisionConstraints,
  Explanation,
  ParsedPolicyFile,
  PolicyFileInfo,
  PolicyInput,
  PolicyRule,
  PolicySet,
  PrincipalKind,
  RuleConstraints,
  RuleMatch,
  RuleTrace,
} from './types.ts';
