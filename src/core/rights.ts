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

function constraintsIncluded(required: ToolAccessDetail['constraints'], offered: ToolAccessDetail['constraints']): boolean {
  // The narrower detail must carry every constraint of the wider one, unchanged or stricter.
  for (const [field, c] of Object.entries(required ?? {})) {
    const o = offered?.[field];
    if (!o) return false;
    if (JSON.stringify(o) !== JSON.stringify(c) && !constraintStricter(o, c)) return false;
  }
  return true;
}

function constraintStricter(o: ArgumentConstraint, c: ArgumentConstraint): boolean {
  if (c.eq !== undefined && o.eq !== c.eq) return false;
  if (c.one_of !== undefined && !(o.eq !== undefined && c.one_of.some((v) => v === o.eq)) && !(o.one_of?.every((v) => c.one_of!.includes(v)))) return false;
  if (c.starts_with !== undefined && !(o.starts_with?.startsWith(c.starts_with))) return false;
  if (c.ends_with !== undefined && !(o.ends_with?.endsWith(c.ends_with))) return false;
  if (c.max !== undefined && !(o.max !== undefined && o.max <= c.max)) return false;
  if (c.min !== undefined && !(o.min !== undefined && o.min >= c.min)) return false;
  return true;
}

/**
 * Is `requested` within `granted`? Every requested tool must be covered by one granted detail
 * whose resources cover all requested resources and whose constraints the request keeps.
 * Returns the first reason it is not, or undefined when it is.
 */
export function whyNotWithin(requested: ToolAccessDetail[], granted: ToolAccessDetail[], nowMs = Date.now()): string | undefined {
  for (const req of requested) {
    for (const tool of req.tools) {
      const cover = granted.find((g) =>
        (g.expires_at === undefined || Date.parse(g.expires_at) > nowMs)
        && g.tools.some((t) => globMatch(t, tool))
        && (g.resources === undefined || (req.resources !== undefined && req.resources.every((r) => g.resources!.some((gr) => patternWithin(r, gr)))))
        && constraintsIncluded(g.constraints, req.constraints));
      if (!cover) {
        const byTool = granted.some((g) => g.tools.some((t) => globMatch(t, tool)));
        return byTool ? `tool ${tool} is granted only on narrower resources or with constraints` : `tool ${tool} is not granted`;
      }
    }
  }
  return undefined;
}

/** `tool:<name>` scopes as tool_access details (for clients without RFC 9396). */
export function detailsFromScope(scope: string | undefined, prefix = 'tool:'): ToolAccessDetail[] {
  const tools = (scope ?? '').split(' ').filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
  return tools.length ? [{ type: TOOL_ACCESS, tools }] : [];
}

/** Every tool named across details. */
export function toolsOf(details: ToolAccessDetail[]): string[] {
  return [...new Set(details.flatMap((d) => d.tools))];
}
