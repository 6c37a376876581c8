import { constraintHolds, globMatch, type ToolAccessDetail } from '../rights/rights.ts';
import { CapabilityError } from './errors.ts';

/** What a caller wants to do with a capability. */
export interface AccessRequest {
  tool: string;
  /** The resource acted on; absent means "no particular resource", which only an unrestricted right covers. */
  resource?: string;
  /** The tool input; argument constraints are checked against its top-level fields. */
  input?: Record<string, unknown>;
}

/** The resource pattern that stands for "any resource". */
export const ANY_RESOURCE = '*';

/** Resource identifiers name one thing: a `*` in a request would be read as a pattern. */
export function requestedResource(resource: string | undefined): string {
  if (resource === undefined) return ANY_RESOURCE;
  if (typeof resource !== 'string' || resource.length === 0 || resource.includes('*')) {
    throw new TypeError('resource must be a non-empty string without "*"');
  }
  return resource;
}

/**
 * The input values both formats can reason about: strings, booleans and safe integers. Biscuit
 * has no floats, so other values are treated as absent everywhere and any constraint on them fails.
 */
export function constrainableInput(input: Record<string, unknown> | undefined): Map<string, string | number | boolean> {
  const out = new Map<string, string | number | boolean>();
  if (!input) return out;
  for (const [key, value] of Object.entries(input)) {
    if (typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isSafeInteger(value))) {
      out.set(key, value);
    }
  }
  return out;
}

function resourceCovered(detail: ToolAccessDetail, resource: string): boolean {
  if (detail.resources === undefined) return true;
  return detail.resources.some((pattern) => globMatch(pattern, resource));
}

/**
 * Decide a request against `authorization_details`. A request is allowed when some detail names the
 * tool and covers the resource, and every constraint of every detail naming the tool holds
 * (constraints are conjunctive, as Biscuit checks are, so both formats decide alike).
 */
export function decideAccess(details: readonly ToolAccessDetail[], request: AccessRequest): void {
  const resource = requestedResource(request.resource);
  const naming = details.filter((d) => d.tools.includes(request.tool));
  if (!naming.some((d) => resourceCovered(d, resource))) {
    throw new CapabilityError('insufficient_scope', 'the capability does not cover this tool and resource');
  }
  const input = constrainableInput(request.input);
  for (const detail of naming) {
    for (const [key, constraint] of Object.entries(detail.constraints ?? {})) {
      if (!input.has(key) || !constraintHolds(constraint, input.get(key))) {
        throw new CapabilityError('constraint_failed', `the input field "${key}" is outside the capability's constraints`);
      }
    }
  }
}
