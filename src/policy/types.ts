// The data the policy engine takes and gives. Plain values only: the engine is pure.

import type { ArgumentConstraint } from '../rights/rights.ts';

export type PrincipalKind = 'user' | 'org';

/** What the token exchange asks: rights already intersected with the grant and the agent's ceiling. */
export interface PolicyInput {
  org_id: string;
  agent_id: string;
  principal: { kind: PrincipalKind; id: string };
  /** The audience (or resource indicator) the capability is for, e.g. the executor's URL. */
  audience: string;
  tools: string[];
  resources?: string[];
  /** tool → the argument constraints the capability would carry (the request's own); decides approval rules' `when`. */
  arguments?: ArgumentConstraints;
}

/** tool → input field → constraint. */
export type ArgumentConstraints = Record<string, Record<string, ArgumentConstraint>>;

export interface DecisionConstraints {
  /** Seconds. */
  max_ttl: number;
  single_use: boolean;
  require_dpop: boolean;
  /** Absent: the policy does not restrict resources. */
  resources?: string[];
  arguments?: ArgumentConstraints;
}

export interface Decision {
  effect: 'allow' | 'deny';
  /** Human-readable, naming rule ids; safe to show to an admin and to record in audit. */
  reasons: string[];
  /** Content hash of every loaded file and its version. */
  policy_version: string;
  matched_rules: string[];
  /** The combined limits of every matching allow rule. Meaningful only when `effect` is `allow`. */
  constraints: DecisionConstraints;
  /** Approval rules that apply: the capability is issued only after a person approves (OpenID CIBA). */
  approval?: ApprovalRequirement;
}

export type Approvers = 'user' | 'org_admin' | { group: string };

/** A condition of an approval rule on one input field; every test given must hold. */
export interface ApprovalCondition {
  gt?: number; gte?: number; lt?: number; lte?: number;
  eq?: string | number | boolean; not_eq?: string | number | boolean;
  one_of?: Array<string | number>; not_one_of?: Array<string | number>;
  starts_with?: string; not_starts_with?: string; ends_with?: string; not_ends_with?: string;
}

export interface RuleApproval {
  when?: Record<string, ApprovalCondition>;
  approvers: Approvers;
  /** Seconds. */
  max_wait: number;
  /** Seconds. */
  fresh_sign_in: number;
}

/** What every applying approval rule asks, combined: an approver must qualify for each rule. */
export interface ApprovalRequirement {
  rules: string[];
  /** One entry per applying rule; an approver must satisfy every one. */
  approvers: Approvers[];
  /** Seconds: the shortest of the rules'. */
  max_wait: number;
  /** Seconds: the shortest of the rules'. */
  fresh_sign_in: number;
}

export interface RuleMatch {
  orgs?: string[];
  agents?: string[];
  tools?: string[];
  principal?: PrincipalKind;
  audiences?: string[];
}

export interface RuleConstraints {
  /** Seconds. */
  max_ttl?: number;
  single_use?: boolean;
  require_dpop?: boolean;
  resources?: string[];
  arguments?: ArgumentConstraints;
}

/** A validated rule, with where it came from. */
export interface PolicyRule {
  id: string;
  description: string;
  effect: 'allow' | 'deny' | 'require_approval';
  match: RuleMatch;
  /** Only on allow rules. */
  constraints?: RuleConstraints;
  /** Only on approval rules. */
  approval?: RuleApproval;
  source: { file: string; line: number };
}

export interface PolicyFileInfo {
  /** Base name, e.g. `default.yaml`. */
  file: string;
  version: string | number;
  /** Hex SHA-256 of the file's bytes. */
  sha256: string;
}

export interface ParsedPolicyFile extends PolicyFileInfo {
  rules: PolicyRule[];
}

/** Every loaded rule, immutable; swapped whole on reload. */
export interface PolicySet {
  version: string;
  files: readonly PolicyFileInfo[];
  rules: readonly PolicyRule[];
}

/** Why one rule did or did not apply to a request. */
export interface RuleTrace {
  id: string;
  effect: 'allow' | 'deny' | 'require_approval';
  description: string;
  source: { file: string; line: number };
  matched: boolean;
  /** Requested tools the rule applies to (empty when it did not match). */
  tools: string[];
  /** One line per condition checked, in order, e.g. `org org_1 matches orgs [org_*]`. */
  checks: string[];
}

export interface Explanation {
  decision: Decision;
  rules: RuleTrace[];
}
