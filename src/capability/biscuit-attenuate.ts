import { systemClock, type Clock } from '../core/clock.ts';
import type { ArgumentConstraint } from '../rights/rights.ts';
import { ANY_RESOURCE } from './access.ts';
import { attenuationConstraintCheck, attenuationExpiryCheck, globConditions } from './biscuit-checks.ts';
import { invalidBiscuit as invalid } from './biscuit-errors.ts';
import { openBiscuit } from './biscuit-open.ts';
import { biscuitWasm, describeWasmError, type RootKeyResolver } from './biscuit-runtime.ts';
import { addTo, datalog, join, type Datalog } from './datalog.ts';
import { DEFAULT_BISCUIT_LIMITS, type BiscuitLimits } from './envelope.ts';
import { CapabilityError } from './errors.ts';

// Attenuation: a holder appends a block that only adds checks, offline.

export interface Attenuation {
  /** Only these tools from now on. */
  tools?: string[];
  /** Only resources matching one of these patterns from now on. */
  resources?: string[];
  /** Expire this many seconds from now (never later than the token already does). */
  expires_in?: number;
  /** Argument constraints on every request made with the attenuated token. */
  constraints?: Record<string, ArgumentConstraint>;
  clock?: Clock;
  /** The token and the attenuated token must both be within them (default DEFAULT_BISCUIT_LIMITS). */
  limits?: BiscuitLimits;
}

/** The block an attenuation appends: checks only, never facts or rules. */
export function attenuationBlock(attenuation: Attenuation): Datalog {
  const checks: Datalog[] = [];
  if (attenuation.tools !== undefined) {
    if (attenuation.tools.length === 0) throw new TypeError('tools must name at least one tool');
    checks.push(datalog`check if tool($t), ${new Set(attenuation.tools)}.contains($t);`);
  }
  if (attenuation.resources !== undefined) {
    if (attenuation.resources.length === 0) throw new TypeError('resources must name at least one pattern');
    const alternatives = attenuation.resources.map((pattern) =>
      pattern === ANY_RESOURCE
        ? datalog`resource($r)`
        : pattern.includes('*')
          ? join([datalog`resource($r)`, globConditions(pattern)], 'and')
          : datalog`resource(${pattern})`,
    );
    checks.push(join([datalog`check if `, join(alternatives, 'or'), datalog`;`], 'none'));
  }
  if (attenuation.expires_in !== undefined) {
    if (!Number.isFinite(attenuation.expires_in) || attenuation.expires_in <= 0) throw new TypeError('expires_in must be positive');
    const until = new Date((attenuation.clock ?? systemClock).now() + attenuation.expires_in * 1000);
    checks.push(attenuationExpiryCheck(until));
  }
  for (const [key, c] of Object.entries(attenuation.constraints ?? {})) {
    checks.push(attenuationConstraintCheck(key, c));
  }
  if (checks.length === 0) throw new TypeError('an attenuation adds at least one restriction');
  return join(checks, 'statement');
}

/** Append a block that only adds checks. The root key proves the token before it is extended. */
export function attenuateBiscuit(token: string, rootPublicKey: string | RootKeyResolver, attenuation: Attenuation): string {
  const resolver: RootKeyResolver = typeof rootPublicKey === 'function' ? rootPublicKey : () => rootPublicKey;
  const code = attenuationBlock(attenuation);
  const limits = attenuation.limits ?? DEFAULT_BISCUIT_LIMITS;
  const opened = openBiscuit(token, resolver, { limits });
  try {
    // A token nobody would accept is refused here, where the holder can still act on it.
    if (opened.facts.revocation_ids.length >= limits.maxBlocks) {
      throw new CapabilityError('invalid_token', `an attenuated token would have more than ${limits.maxBlocks} blocks`);
    }
    const block = new (biscuitWasm().BlockBuilder)();
    addTo(block, code);
    const attenuated = opened.biscuit.appendBlock(block);
    let extended: string;
    try {
      extended = attenuated.toBase64();
    } finally {
      attenuated.free();
    }
    if (extended.length > limits.maxBytes) throw new CapabilityError('invalid_token', `an attenuated token would be larger than ${limits.maxBytes} bytes`);
    return extended;
  } catch (error) {
    if (error instanceof CapabilityError || error instanceof TypeError) throw error;
    throw invalid('token could not be attenuated', describeWasmError(error));
  } finally {
    opened.biscuit.free();
  }
}
