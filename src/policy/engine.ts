// The policy decision: pure, synchronous, total. Data in, data out; no I/O, no clock, no throw.
//
// Semantics (docs/policies.md has the long form):
// - a rule applies when every match condition it states holds; its tools are matched per tool;
// - every requested tool needs at least one applying allow rule, and any applying deny rule
//   denies the whole request (deny wins);
// - the constraints of every applying allow rule combine to the strictest.

import { globMatch, patternWithin } from '../rights/rights.ts';
import type { ArgumentConstraint } from '../rights/rights.ts';
import { DEFAULT_MAX_TTL_SECONDS } from './schema.ts';
import { approvalApplies, combineApprovals, describeApprovers } from './approval.ts';
import type {
  ApprovalRequirement,
  ArgumentConstraints,
  Decision,
  DecisionConstraints,
  Explanation,
  PolicyInput,
  PolicyRule,
  PolicySet,
  RuleTrace,
} from './types.ts';

/** The decision for one request. */
export function decide(policies: PolicySet, input: PolicyInput): Decision {
  return explain(policies, input).decision;
}

/** The decision plus, for every rule, whether it applied and why (the dry run behind admin tools). */
export function explain(policies: PolicySet, input: PolicyInput): Explanation {
  const malformed = inputProblem(input);
  if (malformed) {
    return {
      decision: denial(policies, [`malformed request: ${malformed}`], []),
      rules: policies.rules.map((rule) => trace(rule, false, [], ['not evaluated: malformed request'])),
    };
  }
  const tools = [...new Set(input.tools)];
  const request = { ...input, tools };
  const traces = policies.rules.map((rule) => evaluateRule(rule, request));
  const applied = traces.flatMap((t, i) => (t.matched ? [{ rule: policies.rules[i] as PolicyRule, tools: t.tools }] : []));
  const allows = applied.filter((a) => a.rule.effect === 'allow');
  const denies = applied.filter((a) => a.rule.effect === 'deny');

  const refusals: string[] = [];
  for (const { rule, tools: hit } of denies) {
    refusals.push(`rule ${rule.id} denies ${listed('tool', hit)}: ${rule.description}`);
  }
  const grants: string[] = [];
  for (const tool of tools) {
    const by = allows.filter((a) => a.tools.includes(tool)).map((a) => a.rule.id);
    if (by.length === 0) refusals.push(`no rule allows tool ${tool}`);
    else grants.push(`tool ${tool} allowed by ${listed('rule', by)}`);
  }

  const combined = combineConstraints(allows.map((a) => a.rule), request);
  refusals.push(...combined.refusals);

  const approvals = approvalsNeeded(applied, request, combined.constraints);
  const matched_rules = applied.map((a) => a.rule.id);
  const decision: Decision =
    refusals.length > 0
      ? { ...denial(policies, refusals, matched_rules), constraints: combined.constraints }
      : {
          effect: 'allow',
          reasons: [...grants, ...combined.notes, ...approvals.notes],
          policy_version: policies.version,
          matched_rules,
          constraints: combined.constraints,
          ...(approvals.requirement ? { approval: approvals.requirement } : {}),
        };
  return { decision, rules: traces };
}

/** Approval rules that apply to the capability these constraints describe (docs/approvals.md). */
function approvalsNeeded(
  applied: Array<{ rule: PolicyRule; tools: string[] }>,
  input: PolicyInput,
  policy: DecisionConstraints,
): { requirement?: ApprovalRequirement; notes: string[] } {
  const notes: string[] = [];
  const requiring: PolicyRule[] = [];
  for (const { rule, tools } of applied) {
    if (rule.effect !== 'require_approval') continue;
    const verdicts = tools.map((tool) => ({ tool, ...approvalApplies(rule, effectiveArguments(input.arguments?.[tool], policy.arguments?.[tool])) }));
    const needing = verdicts.filter((v) => v.applies);
    if (needing.length === 0) {
      notes.push(`rule ${rule.id} needs no approval here: ${verdicts.map((v) => v.why).join('; ')}`);
      continue;
    }
    requiring.push(rule);
    notes.push(`approval required by rule ${rule.id} for ${listed('tool', needing.map((v) => v.tool))} (${needing[0]!.why}), from ${describeApprovers(rule.approval!.approvers)}: ${rule.description}`);
  }
  const requirement = combineApprovals(requiring);
  return requirement ? { requirement, notes } : { notes };
}

function effectiveArguments(
  requested: Record<string, ArgumentConstraint> | undefined,
  policy: Record<string, ArgumentConstraint> | undefined,
): Record<string, ArgumentConstraint> | undefined {
  if (!requested) return policy;
  if (!policy) return requested;
  const out: Record<string, ArgumentConstraint> = { ...requested };
  for (const [field, c] of Object.entries(policy)) {
    const merged = out[field] ? mergeConstraint(out[field], c) : c;
    // Conflicting constraints allow nothing; the exchange refuses them on its own.
    if (typeof merged !== 'string') out[field] = merged;
  }
  return out;
}

function denial(policies: PolicySet, reasons: string[], matched_rules: string[]): Decision {
  return {
    effect: 'deny',
    reasons,
    policy_version: policies.version,
    matched_rules,
    constraints: { max_ttl: DEFAULT_MAX_TTL_SECONDS, single_use: false, require_dpop: false },
  };
}

// The caller is typed, but the engine promises never to throw, so it checks the shape it relies on.
function inputProblem(input: PolicyInput): string | undefined {
  if (!input || typeof input !== 'object') return 'input is not an object';
  for (const field of ['org_id', 'agent_id', 'audience'] as const) {
    if (typeof input[field] !== 'string') return `${field} is not a string`;
  }
  const principal = input.principal as Partial<PolicyInput['principal']> | undefined;
  if (!principal || (principal.kind !== 'user' && principal.kind !== 'org') || typeof principal.id !== 'string') {
    return 'principal must be { kind: user | org, id }';
  }
  if (!Array.isArray(input.tools) || !input.tools.every((t) => typeof t === 'string')) return 'tools is not a list of strings';
  if (input.tools.length === 0) return 'no tools requested';
  if (input.resources !== undefined) {
    if (!Array.isArray(input.resources) || !input.resources.every((r) => typeof r === 'string')) {
      return 'resources is not a list of strings';
    }
  }
  return undefined;
}

// ---- matching ---------------------------------------------------------------------------------

function evaluateRule(rule: PolicyRule, input: PolicyInput): RuleTrace {
  const checks: string[] = [];
  let holds = true;
  const check = (ok: boolean, yes: string, no: string) => {
    checks.push(ok ? yes : no);
    holds &&= ok;
  };
  const { match } = rule;
  if (match.orgs) {
    const ok = match.orgs.some((p) => globMatch(p, input.org_id));
    check(ok, `org ${input.org_id} matches orgs ${shown(match.orgs)}`, `org ${input.org_id} is not in orgs ${shown(match.orgs)}`);
  }
  if (match.agents) {
    const ok = match.agents.some((p) => globMatch(p, input.agent_id));
    check(ok, `agent ${input.agent_id} matches agents ${shown(match.agents)}`, `agent ${input.agent_id} is not in agents ${shown(match.agents)}`);
  }
  if (match.principal) {
    const ok = match.principal === input.principal.kind;
    check(ok, `principal is ${match.principal}`, `principal is ${input.principal.kind}, rule wants ${match.principal}`);
  }
  if (match.audiences) {
    const ok = match.audiences.some((p) => globMatch(p, input.audience));
    check(ok, `audience ${input.audience} matches audiences ${shown(match.audiences)}`, `audience ${input.audience} is not in audiences ${shown(match.audiences)}`);
  }
  let tools: string[] = [];
  if (holds) {
    tools = input.tools.filter((tool) => toolApplies(rule, tool));
    const scope = match.tools ? `tools ${shown(match.tools)}` : 'every tool';
    check(tools.length > 0, `${listed('tool', tools)} within ${scope}`, `no requested tool within ${scope}`);
  }
  return trace(rule, holds, holds ? tools : [], checks.length > 0 ? checks : ['rule matches every request']);
}

/**
 * A requested tool may itself be a pattern. An allow rule must cover every name it could stand
 * for; a deny rule applies if it could share even one name. Both fall back to the safe side.
 */
function toolApplies(rule: PolicyRule, tool: string): boolean {
  const patterns = rule.match.tools;
  if (!patterns) return true;
  return rule.effect === 'allow'
    ? patterns.some((p) => patternWithin(tool, p))
    : patterns.some((p) => mayOverlap(p, tool));
}

/** Could some name match both patterns? Exact for plain names; never false when they can share one. */
export function mayOverlap(a: string, b: string): boolean {
  if (!a.includes('*')) return globMatch(b, a);
  if (!b.includes('*')) return globMatch(a, b);
  const prefixA = a.slice(0, a.indexOf('*'));
  const prefixB = b.slice(0, b.indexOf('*'));
  const suffixA = a.slice(a.lastIndexOf('*') + 1);
  const suffixB = b.slice(b.lastIndexOf('*') + 1);
  return (prefixA.startsWith(prefixB) || prefixB.startsWith(prefixA)) && (suffixA.endsWith(suffixB) || suffixB.endsWith(suffixA));
}

function trace(rule: PolicyRule, matched: boolean, tools: string[], checks: string[]): RuleTrace {
  return { id: rule.id, effect: rule.effect, description: rule.description, source: rule.source, matched, tools, checks };
}

// ---- combining constraints --------------------------------------------------------------------

interface Combined {
  constraints: DecisionConstraints;
  /** Why each limit is what it is (for an allow decision). */
  notes: string[];
  /** Problems that turn the decision into a denial. */
  refusals: string[];
}

function combineConstraints(rules: PolicyRule[], input: PolicyInput): Combined {
  const notes: string[] = [];
  const refusals: string[] = [];

  let max_ttl = DEFAULT_MAX_TTL_SECONDS;
  let ttlFrom: string | undefined;
  for (const rule of rules) {
    const ttl = rule.constraints?.max_ttl;
    if (ttl !== undefined && (ttlFrom === undefined || ttl < max_ttl)) {
      max_ttl = ttl;
      ttlFrom = rule.id;
    }
  }
  notes.push(ttlFrom ? `max_ttl ${max_ttl}s from rule ${ttlFrom}` : `max_ttl ${max_ttl}s (default)`);

  const singleUse = rules.filter((r) => r.constraints?.single_use).map((r) => r.id);
  if (singleUse.length > 0) notes.push(`single use required by ${listed('rule', singleUse)}`);
  const dpop = rules.filter((r) => r.constraints?.require_dpop).map((r) => r.id);
  if (dpop.length > 0) notes.push(`DPoP required by ${listed('rule', dpop)}`);

  const constraints: DecisionConstraints = { max_ttl, single_use: singleUse.length > 0, require_dpop: dpop.length > 0 };

  const resources = combineResources(rules, input);
  notes.push(...resources.notes);
  refusals.push(...resources.refusals);
  if (resources.allowed) constraints.resources = resources.allowed;

  const args = combineArguments(rules, input.tools);
  refusals.push(...args.refusals);
  if (Object.keys(args.constraints).length > 0) {
    constraints.arguments = args.constraints;
    for (const [tool, fields] of Object.entries(args.constraints)) {
      notes.push(`tool ${tool} input constrained on ${listed('field', Object.keys(fields))}`);
    }
  }
  return { constraints, notes, refusals };
}

function combineResources(
  rules: PolicyRule[],
  input: PolicyInput,
): { allowed?: string[]; notes: string[]; refusals: string[] } {
  const restricting = rules.filter((r) => r.constraints?.resources);
  if (restricting.length === 0) return { notes: [], refusals: [] };
  const from = listed('rule', restricting.map((r) => r.id));

  if (input.resources !== undefined && input.resources.length > 0) {
    const refusals: string[] = [];
    for (const resource of new Set(input.resources)) {
      for (const rule of restricting) {
        const allowed = rule.constraints?.resources ?? [];
        if (!allowed.some((p) => patternWithin(resource, p))) {
          refusals.push(`resource ${resource} is outside the resources allowed by rule ${rule.id} ${shown(allowed)}`);
        }
      }
    }
    // The requested resources passed every rule's list, so they are the narrowest exact answer.
    return { allowed: [...new Set(input.resources)], notes: [`resources limited by ${from}`], refusals };
  }

  let allowed = restricting[0]?.constraints?.resources ?? [];
  for (const rule of restricting.slice(1)) allowed = intersectPatterns(allowed, rule.constraints?.resources ?? []);
  if (allowed.length === 0) {
    return { allowed, notes: [], refusals: [`${from} have no resource pattern in common`] };
  }
  return { allowed, notes: [`resources limited to ${shown(allowed)} by ${from}`], refusals: [] };
}

/**
 * Patterns matched by both lists. Where neither of two patterns contains the other the pair is
 * dropped: that may lose a sliver of what both allow, never add to it.
 */
export function intersectPatterns(a: readonly string[], b: readonly string[]): string[] {
  const out = new Set<string>();
  for (const x of a) {
    for (const y of b) {
      if (patternWithin(x, y)) out.add(x);
      else if (patternWithin(y, x)) out.add(y);
    }
  }
  return [...out];
}

function combineArguments(rules: PolicyRule[], tools: string[]): { constraints: ArgumentConstraints; refusals: string[] } {
  const constraints: ArgumentConstraints = {};
  const refusals: string[] = [];
  for (const tool of tools) {
    const fields: Record<string, ArgumentConstraint> = {};
    for (const rule of rules) {
      for (const [pattern, byField] of Object.entries(rule.constraints?.arguments ?? {})) {
        if (!mayOverlap(pattern, tool)) continue;
        for (const [field, constraint] of Object.entries(byField)) {
          const current = fields[field];
          if (!current) {
            fields[field] = { ...constraint };
            continue;
          }
          const merged = mergeConstraint(current, constraint);
          if (typeof merged === 'string') refusals.push(`rule ${rule.id} conflicts with another rule on ${tool} input ${field}: ${merged}`);
          else fields[field] = merged;
        }
      }
    }
    if (Object.keys(fields).length > 0) constraints[tool] = fields;
  }
  return { constraints, refusals };
}

/** Both constraints at once, or a description of why no value could satisfy both. */
export function mergeConstraint(a: ArgumentConstraint, b: ArgumentConstraint): ArgumentConstraint | string {
  const out: ArgumentConstraint = { ...a };
  if (b.eq !== undefined) {
    if (out.eq !== undefined && out.eq !== b.eq) return `eq ${JSON.stringify(out.eq)} and eq ${JSON.stringify(b.eq)}`;
    out.eq = b.eq;
  }
  if (b.one_of !== undefined) {
    const both = out.one_of === undefined ? [...b.one_of] : out.one_of.filter((v) => b.one_of?.includes(v));
    if (both.length === 0) return 'one_of lists share no value';
    out.one_of = both;
  }
  if (out.eq !== undefined && out.one_of !== undefined && !out.one_of.some((v) => v === out.eq)) {
    return `eq ${JSON.stringify(out.eq)} is not in one_of`;
  }
  if (b.starts_with !== undefined) {
    const x = out.starts_with;
    if (x === undefined || b.starts_with.startsWith(x)) out.starts_with = b.starts_with;
    else if (!x.startsWith(b.starts_with)) return `starts_with ${JSON.stringify(x)} and ${JSON.stringify(b.starts_with)}`;
  }
  if (b.ends_with !== undefined) {
    const x = out.ends_with;
    if (x === undefined || b.ends_with.endsWith(x)) out.ends_with = b.ends_with;
    else if (!x.endsWith(b.ends_with)) return `ends_with ${JSON.stringify(x)} and ${JSON.stringify(b.ends_with)}`;
  }
  if (b.max !== undefined) out.max = out.max === undefined ? b.max : Math.min(out.max, b.max);
  if (b.min !== undefined) out.min = out.min === undefined ? b.min : Math.max(out.min, b.min);
  if (out.min !== undefined && out.max !== undefined && out.min > out.max) return `min ${out.min} exceeds max ${out.max}`;
  return out;
}

// ---- wording ----------------------------------------------------------------------------------

function listed(noun: string, items: readonly string[]): string {
  return items.length === 1 ? `${noun} ${items[0]}` : `${noun}s ${items.join(', ')}`;
}

function shown(patterns: readonly string[]): string {
  return `[${patterns.join(', ')}]`;
}
