// Approval rules: when a call needs a person's approval, and who may give it. Pure, like the
// rest of the engine.
//
// At token exchange the arguments are not known yet, only the constraints the capability would
// carry. A rule's `when` then asks: could a call this capability allows meet the condition? The
// answer errs on the side of asking a person: only constraints that rule the condition out (a
// `max` at or below a `gt`, an `ends_with` inside a `not_ends_with`, an `eq` that fails it) skip
// approval. An approved capability pins every argument with `eq`, so there the answer is exact.

import type { ArgumentConstraint } from '../rights/rights.ts';
import type { ApprovalCondition, ApprovalRequirement, PolicyRule } from './types.ts';

type Value = string | number | boolean;

/** Does this concrete value meet every test of the condition? A missing value meets none. */
export function conditionHolds(c: ApprovalCondition, value: unknown): boolean {
  if (value === undefined || value === null) return false;
  const num = typeof value === 'number' ? value : undefined;
  const str = typeof value === 'string' ? value : undefined;
  const tests: boolean[] = [];
  if (c.gt !== undefined) tests.push(num !== undefined && num > c.gt);
  if (c.gte !== undefined) tests.push(num !== undefined && num >= c.gte);
  if (c.lt !== undefined) tests.push(num !== undefined && num < c.lt);
  if (c.lte !== undefined) tests.push(num !== undefined && num <= c.lte);
  if (c.eq !== undefined) tests.push(value === c.eq);
  if (c.not_eq !== undefined) tests.push(value !== c.not_eq);
  if (c.one_of !== undefined) tests.push(c.one_of.some((v) => v === value));
  if (c.not_one_of !== undefined) tests.push(!c.not_one_of.some((v) => v === value));
  if (c.starts_with !== undefined) tests.push(str !== undefined && str.startsWith(c.starts_with));
  if (c.not_starts_with !== undefined) tests.push(!(str !== undefined && str.startsWith(c.not_starts_with)));
  if (c.ends_with !== undefined) tests.push(str !== undefined && str.endsWith(c.ends_with));
  if (c.not_ends_with !== undefined) tests.push(!(str !== undefined && str.endsWith(c.not_ends_with)));
  return tests.every(Boolean);
}

/** Could some input the constraint allows meet the condition? True unless the constraint rules it out. */
export function conditionPossible(c: ApprovalCondition, allowed: ArgumentConstraint | undefined): boolean {
  if (!allowed) return true;
  const values: Value[] | undefined = allowed.eq !== undefined ? [allowed.eq] : allowed.one_of;
  if (values) return values.some((v) => constraintAdmits(allowed, v) && conditionHolds(c, v));
  const { min, max } = allowed;
  if (c.gt !== undefined && max !== undefined && max <= c.gt) return false;
  if (c.gte !== undefined && max !== undefined && max < c.gte) return false;
  if (c.lt !== undefined && min !== undefined && min >= c.lt) return false;
  if (c.lte !== undefined && min !== undefined && min > c.lte) return false;
  if (typeof c.eq === 'number' && ((max !== undefined && c.eq > max) || (min !== undefined && c.eq < min))) return false;
  if (c.eq !== undefined && typeof c.eq !== 'number' && (max !== undefined || min !== undefined)) return false;
  const ends = allowed.ends_with;
  if (ends !== undefined) {
    if (c.not_ends_with !== undefined && ends.endsWith(c.not_ends_with)) return false;
    if (c.ends_with !== undefined && !ends.endsWith(c.ends_with) && !c.ends_with.endsWith(ends)) return false;
  }
  const starts = allowed.starts_with;
  if (starts !== undefined) {
    if (c.not_starts_with !== undefined && starts.startsWith(c.not_starts_with)) return false;
    if (c.starts_with !== undefined && !starts.startsWith(c.starts_with) && !c.starts_with.startsWith(starts)) return false;
  }
  return true;
}

/** Does the constraint itself allow this value? (An `eq` outside its own `max` allows nothing.) */
function constraintAdmits(a: ArgumentConstraint, v: Value): boolean {
  if (a.max !== undefined && !(typeof v === 'number' && v <= a.max)) return false;
  if (a.min !== undefined && !(typeof v === 'number' && v >= a.min)) return false;
  if (a.starts_with !== undefined && !(typeof v === 'string' && v.startsWith(a.starts_with))) return false;
  if (a.ends_with !== undefined && !(typeof v === 'string' && v.endsWith(a.ends_with))) return false;
  if (a.eq !== undefined && v !== a.eq) return false;
  if (a.one_of !== undefined && !a.one_of.some((x) => x === v)) return false;
  return true;
}

/** Whether the rule's `when` may hold for a capability of these constraints, with one line saying why. */
export function approvalApplies(rule: PolicyRule, constraints: Record<string, ArgumentConstraint> | undefined): { applies: boolean; why: string } {
  const when = rule.approval?.when;
  if (!when || Object.keys(when).length === 0) return { applies: true, why: 'every call needs approval' };
  const ruledOut = Object.entries(when).filter(([field, c]) => !conditionPossible(c, constraints?.[field])).map(([f]) => f);
  if (ruledOut.length > 0) return { applies: false, why: `the capability's constraints on ${ruledOut.join(', ')} rule the condition out` };
  return { applies: true, why: `${Object.entries(when).map(([f, c]) => `${f} ${describeCondition(c)}`).join(' and ')} is possible` };
}

/** The requirement of every applying approval rule together. */
export function combineApprovals(rules: PolicyRule[]): ApprovalRequirement | undefined {
  const withApproval = rules.filter((r) => r.approval);
  if (withApproval.length === 0) return undefined;
  return {
    rules: withApproval.map((r) => r.id),
    approvers: withApproval.map((r) => r.approval!.approvers),
    max_wait: Math.min(...withApproval.map((r) => r.approval!.max_wait)),
    fresh_sign_in: Math.min(...withApproval.map((r) => r.approval!.fresh_sign_in)),
  };
}

export function describeApprovers(a: ApprovalRequirement['approvers'][number]): string {
  return a === 'user' ? 'the user the agent acts for' : a === 'org_admin' ? 'an org admin' : `a member of group ${a.group}`;
}

export function describeCondition(c: ApprovalCondition): string {
  const parts: string[] = [];
  if (c.gt !== undefined) parts.push(`> ${c.gt}`);
  if (c.gte !== undefined) parts.push(`>= ${c.gte}`);
  if (c.lt !== undefined) parts.push(`< ${c.lt}`);
  if (c.lte !== undefined) parts.push(`<= ${c.lte}`);
  if (c.eq !== undefined) parts.push(`= ${JSON.stringify(c.eq)}`);
  if (c.not_eq !== undefined) parts.push(`!= ${JSON.stringify(c.not_eq)}`);
  if (c.one_of) parts.push(`in ${JSON.stringify(c.one_of)}`);
  if (c.not_one_of) parts.push(`not in ${JSON.stringify(c.not_one_of)}`);
  if (c.starts_with) parts.push(`starts with ${JSON.stringify(c.starts_with)}`);
  if (c.not_starts_with) parts.push(`does not start with ${JSON.stringify(c.not_starts_with)}`);
  if (c.ends_with) parts.push(`ends with ${JSON.stringify(c.ends_with)}`);
  if (c.not_ends_with) parts.push(`does not end with ${JSON.stringify(c.not_ends_with)}`);
  return parts.join(' and ');
}
