import { WritError } from '../errors/index.ts';

// An agent's ceiling names tools an org can run: a shipped connector's, or one of the org's own
// connectors'. A name nothing defines (a typo, a tool of a connector the org has not registered yet)
// is refused where it is written, with the closest real name, rather than accepted and then
// answered `unknown_tool` at the first call.

/** Levenshtein distance, for the "did you mean" of a mistyped name. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_v, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

/** The known name closest to `name`, when it is close enough to be a typo. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = distance(name, candidate);
    if (d < bestDistance) { best = candidate; bestDistance = d; }
  }
  return bestDistance <= Math.max(3, Math.floor(name.length / 3)) ? best : undefined;
}

/** Why a tool name is unknown, in words an operator can act on. */
function unknownToolReason(name: string, known: readonly string[]): string {
  const suggestion = closestName(name, known);
  if (suggestion) return `${name} (did you mean ${suggestion}?)`;
  const connector = name.slice(0, name.indexOf('.'));
  const same = known.filter((k) => k.startsWith(`${connector}.`));
  return same.length ? `${name} (${connector} has ${same.join(', ')})` : `${name} (no connector is named ${connector})`;
}

/**
 * Refuses tool names no connector of the org defines: `invalid_request` naming each unknown tool
 * and the closest known one.
 */
export function refuseUnknownTools(names: readonly string[], known: readonly string[]): void {
  const knownSet = new Set(known);
  const unknown = [...new Set(names)].filter((n) => !knownSet.has(n));
  if (!unknown.length) return;
  throw new WritError('invalid_request', `unknown tool${unknown.length > 1 ? 's' : ''}: ${unknown.map((n) => unknownToolReason(n, known)).join('; ')}. GET /v1/tools lists the tools of the catalog; an org's own connectors add theirs`);
}
