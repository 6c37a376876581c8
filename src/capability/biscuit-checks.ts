import type { ArgumentConstraint, ToolAccessDetail } from '../rights/rights.ts';
import { datalog, join, type Datalog } from './datalog.ts';

// The checks Writ writes into Biscuits, and how a failing one is recognised again. A refusal's
// code follows the identity of the check that failed, never a search of its text: the authority
// block is Writ's own (its signature says so), so its checks are known by position and compared
// with the exact text Writ wrote; a check in an appended block counts as Writ's only when its
// printed form is exactly one of the shapes `attenuationBlock` writes.

/** What a failing check means. */
export type CheckKind = 'expiry' | 'audience' | 'dpop' | 'constraint';

/**
 * A resource pattern with one `*` split into the literal text before and after it. Biscuit's
 * regular expressions are not used: in biscuit-wasm 0.6.0 each `.matches()` evaluation costs over a
 * millisecond and leaks wasm memory. Patterns with more than one `*` have no exact prefix/suffix
 * form: the verifier matches those itself (see `verifierCode`).
 */
export function globParts(pattern: string): { prefix: string; suffix: string } {
  const star = pattern.indexOf('*');
  if (star < 0 || pattern.indexOf('*', star + 1) >= 0) {
    throw new TypeError('a Biscuit resource pattern in an attenuation has exactly one "*" (or is "*" alone)');
  }
  return { prefix: pattern.slice(0, star), suffix: pattern.slice(star + 1) };
}

/** Conditions on `$r` that hold exactly when it matches a one-star pattern. */
export function globConditions(pattern: string): Datalog {
  const { prefix, suffix } = globParts(pattern);
  // The length bound stops prefix and suffix from overlapping ("ab*ba" must not match "aba").
  return datalog`$r.starts_with(${prefix}), $r.ends_with(${suffix}), $r.length() >= ${prefix.length + suffix.length}`;
}

export function sameTypeSet(values: ReadonlyArray<string | number>): ReadonlySet<string> | ReadonlySet<number> {
  if (values.every((v) => typeof v === 'string')) return new Set(values as string[]);
  if (values.every((v) => typeof v === 'number' && Number.isSafeInteger(v))) return new Set(values as number[]);
  throw new TypeError('a Biscuit one_of constraint lists only strings or only integers');
}

export function integerBound(value: number): number {
  if (!Number.isSafeInteger(value)) throw new TypeError('Biscuit numeric constraints take integer bounds');
  return value;
}

function typeGuard(value: string | number | boolean): Datalog {
  const type = typeof value === 'string' ? 'string' : typeof value === 'number' ? 'integer' : 'bool';
  return datalog`$v.type() == ${type}`;
}

/** The conditions on `$v` (an `input` value) that one argument constraint imposes. */
export function constraintConditions(c: ArgumentConstraint): Datalog[] {
  const conditions: Datalog[] = [];
  if (c.eq !== undefined) {
    const eq = typeof c.eq === 'number' ? integerBound(c.eq) : c.eq;
    conditions.push(typeGuard(eq), datalog`$v == ${eq}`);
  }
  if (c.one_of !== undefined) {
    const set = sameTypeSet(c.one_of);
    const sample = [...set][0] ?? '';
    conditions.push(typeGuard(sample), datalog`${set}.contains($v)`);
  }
  if (c.starts_with !== undefined) conditions.push(datalog`$v.type() == "string"`, datalog`$v.starts_with(${c.starts_with})`);
  if (c.ends_with !== undefined) conditions.push(datalog`$v.type() == "string"`, datalog`$v.ends_with(${c.ends_with})`);
  if (c.max !== undefined) conditions.push(datalog`$v.type() == "integer"`, datalog`$v <= ${integerBound(c.max)}`);
  if (c.min !== undefined) conditions.push(datalog`$v.type() == "integer"`, datalog`$v >= ${integerBound(c.min)}`);
  return conditions;
}

/** `input(key, $v)` followed by the constraint's conditions: a body that holds when the input complies. */
export function constraintBody(key: string, c: ArgumentConstraint): Datalog {
  return join([datalog`input(${key}, $v)`, ...constraintConditions(c)], 'and');
}

/** A date as biscuit-wasm prints it: RFC 3339, whole seconds, UTC. */
const printedDate = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface WritCheck {
  kind: CheckKind;
  code: Datalog;
  /** The check as biscuit-wasm prints it when it fails. */
  printed: string;
}

/**
 * The checks every authority block opens with, in this order; its argument-constraint checks
 * (`authorityConstraintChecks`) follow them and nothing else does.
 */
export function leadingAuthorityChecks(claims: { exp: number; aud: string; cnf?: { jkt: string } | undefined }): WritCheck[] {
  const checks: WritCheck[] = [
    // Expiry and audience are checked against the verifier's ambient time and audience.
    { kind: 'expiry', code: datalog`check if time($t), $t < ${new Date(claims.exp * 1000)};`, printed: `check if time($t), $t < ${printedDate(claims.exp)}` },
    { kind: 'audience', code: datalog`check if audience(${claims.aud});`, printed: `check if audience("${claims.aud}")` },
  ];
  // RFC 9449 §6: a sender-constrained capability needs a proof from the bound key.
  if (claims.cnf) checks.push({ kind: 'dpop', code: datalog`check if dpop_jkt(${claims.cnf.jkt});`, printed: `check if dpop_jkt("${claims.cnf.jkt}")` });
  return checks;
}

/** Argument constraints: a request for one of the detail's tools must bring a complying input. */
export function authorityConstraintChecks(details: readonly ToolAccessDetail[]): Datalog[] {
  const checks: Datalog[] = [];
  for (const detail of details) {
    const tools = new Set(detail.tools);
    for (const [key, c] of Object.entries(detail.constraints ?? {})) {
      checks.push(join([datalog`check if tool($t), !${tools}.contains($t) or `, constraintBody(key, c), datalog`;`], 'none'));
    }
  }
  return checks;
}

/** The expiry check an attenuation appends. */
export function attenuationExpiryCheck(until: Date): Datalog {
  return datalog`check if time($t), $t < ${until};`;
}

/** An argument-constraint check an attenuation appends. */
export function attenuationConstraintCheck(key: string, c: ArgumentConstraint): Datalog {
  return join([datalog`check if `, constraintBody(key, c), datalog`;`], 'none');
}

// The printed shapes of the attenuation checks above. biscuit-wasm prints strings without
// escaping, so a quoted string is recognised only when it holds no quote: then every quote in the
// text delimits a whole string, and a hostile check cannot pass for one of these.
const STR = '"[^"]*"';
const INT = '-?\\d+';
const DATE = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z';
const TERM = `(?:${STR}|${INT}|true|false)`;
const CONDITION = [
  `\\$v\\.type\\(\\) == "(?:string|integer|bool)"`,
  `\\$v == ${TERM}`,
  `\\{(?:${STR}(?:, ${STR})*|${INT}(?:, ${INT})*)\\}\\.contains\\(\\$v\\)`,
  `\\$v\\.starts_with\\(${STR}\\)`,
  `\\$v\\.ends_with\\(${STR}\\)`,
  `\\$v <= ${INT}`,
  `\\$v >= ${INT}`,
].join('|');
const APPENDED_SHAPES: ReadonlyArray<[CheckKind, RegExp]> = [
  ['expiry', new RegExp(`^check if time\\(\\$t\\), \\$t < ${DATE}$`)],
  ['constraint', new RegExp(`^check if input\\(${STR}, \\$v\\)(?:, (?:${CONDITION}))*$`)],
];

/** A failing check as biscuit-wasm reports it. */
export interface FailedCheck {
  /** Undefined for a check of the authorizer itself. */
  block: number | undefined;
  check: number | undefined;
  rule: string;
}

/**
 * Which of Writ's checks failed, or undefined for a check Writ did not write. `authority` is what
 * the verified authority block says (its expiry, audience and DPoP binding).
 */
export function writCheckKind(failed: FailedCheck, authority: Parameters<typeof leadingAuthorityChecks>[0] | undefined): CheckKind | undefined {
  if (failed.block === 0) {
    if (authority === undefined || failed.check === undefined) return undefined;
    const leading = leadingAuthorityChecks(authority);
    const known = leading[failed.check];
    if (known !== undefined) return known.printed === failed.rule ? known.kind : undefined;
    return 'constraint';
  }
  if (failed.block === undefined) return undefined;
  return APPENDED_SHAPES.find(([, shape]) => shape.test(failed.rule))?.[0];
}
