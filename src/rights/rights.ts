// The shape of delegated authority, shared by grants, policy, capabilities and the executor.
// RFC 9396 `authorization_details` of Writ's type `tool_access`.

export const TOOL_ACCESS = 'tool_access';

/** A constraint on one top-level tool input, enforced by every verifier. */
export interface ArgumentConstraint {
  eq?: string | number | boolean;
  one_of?: Array<string | number>;
  starts_with?: string;
  ends_with?: string;
  /** Numeric bounds, inclusive. */
  max?: number;
  min?: number;
}

export interface ToolAccessDetail {
  type: typeof TOOL_ACCESS;
  /** Tool names like `gmail.messages.send`. */
  tools: string[];
  /** Resource patterns like `notion:page:8a1f` or `github:repo:acme/*`; absent means unrestricted. */
  resources?: string[];
  /** ISO 8601; the grant's own end of life, if the user chose one. */
  expires_at?: string;
  /** Argument constraints keyed by input field name; all must hold. */
  constraints?: Record<string, ArgumentConstraint>;
}

/** Tool names: dotted lowercase segments, `connector.tool[.verb]`. */
export const TOOL_NAME = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/;

/** Glob match with `*` as "any run of characters" — the only wildcard Writ patterns use. */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const parts = pattern.split('*');
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (!value.startsWith(first) || value.length < first.length + last.length) return false;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const found = value.indexOf(part, at);
    if (found < 0) return false;
    at = found + part.length;
  }
  return value.endsWith(last) && value.length - last.length >= at;
}

/** Is every value `inner` can match also matched by `outer`? Conservative: false when unsure. */
export function patternWithin(inner: string, outer: string): boolean {
  if (outer === '*') return true;
  if (!inner.includes('*')) return globMatch(outer, inner);
  // A wildcard inner pattern is within outer only if outer is a prefix glob covering inner's prefix.
  if (outer.endsWith('*') && !outer.slice(0, -1).includes('*')) {
    const prefix = outer.slice(0, -1);
    return inner.startsWith(prefix);
  }
  return inner === outer;
}

/** Does a constraint hold for an input value? */
export function constraintHolds(c: ArgumentConstraint, value: unknown): boolean {
  if (c.eq !== undefined && value !== c.eq) return false;
  if (c.one_of !== undefined && !c.one_of.some((v) => v === value)) return false;
  if (c.starts_with !== undefined && !(typeof value === 'string' && value.startsWith(c.starts_with))) return false;
  if (c.ends_with !== undefined && !(typeof value === 'string' && value.endsWith(c.ends_with))) return false;
  if (c.max !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value <= c.max)) return false;
  if (c.min !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= c.min)) return false;
  return true;
}

/** Every value a constraint conjunction can take, when that set is finite and small; else undefined. */
function finiteValues(cs: readonly ArgumentConstraint[]): Array<string | number | boolean> | undefined {
  const holdsAll = (v: string | number | boolean) => cs.every((c) => constraintHolds(c, v));
  for (const c of cs) {
    if (c.eq !== undefined) return [c.eq].filter(holdsAll);
    if (c.one_of !== undefined) return c.one_of.filter(holdsAll);
  }
  // Verifiers see only safe integers as numbers, so a closed numeric range is a finite set.
  const max = Math.min(...cs.flatMap((c) => (c.max === undefined ? [] : [c.max])));
  const min = Math.max(...cs.flatMap((c) => (c.min === undefined ? [] : [c.min])));
  if (Number.isFinite(max) && Number.isFinite(min) && max - min <= 1024) {
    const out: number[] = [];
    for (let v = Math.ceil(min); v <= max; v++) if (holdsAll(v)) out.push(v);
    return out;
  }
  return undefined;
}

/**
 * Does the conjunction `cs` (all on one input field) imply `c`? Exact for finite sets and for
 * bounds, prefixes and suffixes; false when unsure, so an unsure answer refuses, never widens.
 * An empty `cs` allows the field to be absent, which no constraint allows (decideAccess).
 */
function implies(cs: readonly ArgumentConstraint[], c: ArgumentConstraint): boolean {
  if (cs.length === 0) return false;
  const values = finiteValues(cs);
  if (values) return values.every((v) => constraintHolds(c, v));
  const numeric = cs.some((x) => x.max !== undefined || x.min !== undefined);
  const textual = cs.some((x) => x.starts_with !== undefined || x.ends_with !== undefined);
  if (numeric && textual) return true; // no value is both a number and a string: nothing to imply
  if (c.eq !== undefined || c.one_of !== undefined) return false;
  if (c.max !== undefined && !cs.some((x) => x.max !== undefined && x.max <= c.max!)) return false;
  if (c.min !== undefined && !cs.some((x) => x.min !== undefined && x.min >= c.min!)) return false;
  if (c.starts_with !== undefined && !cs.some((x) => x.starts_with?.startsWith(c.starts_with!))) return false;
  if (c.ends_with !== undefined && !cs.some((x) => x.ends_with?.endsWith(c.ends_with!))) return false;
  return true;
}

const live = (details: readonly ToolAccessDetail[], nowMs: number) =>
  details.filter((d) => d.expires_at === undefined || Date.parse(d.expires_at) > nowMs);

/**
 * Is `requested` within `held`? Both are read as capabilities are decided (capability/access.ts):
 * a tool is allowed on a resource some detail naming it covers, under the constraints of every
 * detail naming it. So for each requested tool, every requested resource pattern must lie within
 * a held one, and the request's constraints must imply every held constraint on that tool.
 * Tools match literally: a `*` in a tool name is not a wildcard. Expired held details hold nothing.
 * Returns the first reason it is not within, or undefined when it is.
 */
export function whyNotWithin(requested: readonly ToolAccessDetail[], held: readonly ToolAccessDetail[], nowMs = Date.now()): string | undefined {
  const standing = live(held, nowMs);
  for (const tool of toolsOf(requested)) {
    const asked = requested.filter((d) => d.tools.includes(tool));
    const holding = standing.filter((d) => d.tools.includes(tool));
    if (!holding.length) return `tool ${tool} is not granted`;
    // `*` alone is "any resource" to verifiers, a request naming none included (capability/access.ts).
    const anywhere = holding.some((d) => d.resources === undefined || d.resources.includes('*'));
    const covered = anywhere || asked.every((d) => d.resources !== undefined
      && d.resources.every((r) => holding.some((h) => h.resources!.some((p) => patternWithin(r, p)))));
    if (!covered) return `tool ${tool} is granted only on narrower resources`;
    for (const h of holding) {
      for (const [field, c] of Object.entries(h.constraints ?? {})) {
        const kept = asked.flatMap((d) => (d.constraints?.[field] ? [d.constraints[field]] : []));
        if (!implies(kept, c)) return `tool ${tool} is granted only with constraints on ${field} that the request does not keep`;
      }
    }
  }
  return undefined;
}

/** One agent's ceiling: the tools it may ever hold. */
export interface Ceiling { agent: string; tools: readonly string[] }

export interface RightsQuestion {
  /** What the client asked for; undefined asks for everything held that the ceilings allow. */
  requested: readonly ToolAccessDetail[] | undefined;
  /** What the grant or subject token holds; undefined at consent, before any grant exists. */
  held: readonly ToolAccessDetail[] | undefined;
  /** The presenting client's ceiling and every other agent's that acts (actor, delegation chain). */
  ceilings: readonly Ceiling[];
  nowMs: number;
}

export type RightsAnswer =
  | { ok: true; rights: ToolAccessDetail[] }
  | { ok: false; why: 'malformed' | 'not_held' | 'ceiling'; reason: string };

/**
 * The one place rights are computed, on every path that issues or records them (consent,
 * authorization code, refresh, client credentials, token exchange with or without an actor):
 * request ∩ held ∩ every ceiling. Policy narrows further at the exchange, after this.
 *
 * - A named request is issued as asked or refused, never trimmed (RFC 6749 §3.3, RFC 9396 §5).
 * - No request asks for everything held, trimmed to the ceilings; nothing left is a refusal.
 * - Wildcards come only from what is held (resource patterns): a requested tool must be a tool
 *   name, so `*` or `tool:*` is refused as malformed, never matched as "every tool".
 */
export function grantableRights(q: RightsQuestion): RightsAnswer {
  const inCeilings = (tool: string) => q.ceilings.every((c) => c.tools.includes(tool));
  if (q.requested === undefined) {
    if (q.held === undefined) return { ok: false, why: 'malformed', reason: 'no rights were requested' };
    const rights = live(q.held, q.nowMs)
      .map((d) => ({ ...d, tools: d.tools.filter((t) => TOOL_NAME.test(t) && inCeilings(t)) }))
      .filter((d) => d.tools.length > 0);
    if (!rights.length) return { ok: false, why: 'ceiling', reason: `nothing held lies within the ceilings of ${q.ceilings.map((c) => c.agent).join(', ')}` };
    return { ok: true, rights };
  }
  if (!q.requested.length) return { ok: false, why: 'malformed', reason: 'no rights were requested' };
  const malformed = toolsOf(q.requested).find((t) => !TOOL_NAME.test(t));
  if (malformed !== undefined) return { ok: false, why: 'malformed', reason: `${JSON.stringify(malformed.slice(0, 64))} is not a tool name (wildcards are not requested)` };
  for (const c of q.ceilings) {
    const outside = toolsOf(q.requested).filter((t) => !c.tools.includes(t));
    if (outside.length) return { ok: false, why: 'ceiling', reason: `tools outside the ceiling of ${c.agent}: ${outside.join(', ')}` };
  }
  if (q.held !== undefined) {
    const why = whyNotWithin(q.requested, q.held, q.nowMs);
    if (why) return { ok: false, why: 'not_held', reason: why };
  }
  return { ok: true, rights: q.requested.map((d) => ({ ...d, tools: [...d.tools] })) };
}

/** `tool:<name>` scopes as tool_access details (for clients without RFC 9396). */
export function detailsFromScope(scope: string | undefined, prefix = 'tool:'): ToolAccessDetail[] {
  const tools = [...new Set((scope ?? '').split(' ').filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length)))];
  return tools.length ? [{ type: TOOL_ACCESS, tools }] : [];
}

/** Every tool named across details. */
export function toolsOf(details: readonly ToolAccessDetail[]): string[] {
  return [...new Set(details.flatMap((d) => d.tools))];
}
