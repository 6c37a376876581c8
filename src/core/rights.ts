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
