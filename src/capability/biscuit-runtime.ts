import type * as BiscuitWasm from '@biscuit-auth/biscuit-wasm';
import type { PublicKey } from '@biscuit-auth/biscuit-wasm';

// What every call into biscuit-wasm shares: the module itself, loaded on first need, run limits,
// the retry of its spurious timeout, and root public keys. Nothing here runs when the module is
// imported.

// biscuit-wasm costs tens of megabytes of memory once loaded, so it is loaded by the first Biscuit,
// never by an import: a service that only ever sees JWTs never loads it. Every Biscuit entry point
// (opening, minting, attenuating, a pool worker, the warm-up) awaits loadBiscuit() first; the code
// beneath them reaches the module through biscuitWasm(), synchronously.
let loaded: typeof BiscuitWasm | undefined;
let loading: Promise<typeof BiscuitWasm> | undefined;

// The line biscuit-wasm prints with console.log as its module starts: a library's load is no
// business of the service's standard output.
const LOADING_LINE = 'biscuit-wasm loading';

/** Load biscuit-wasm once (later calls share the first); resolves to the module. */
export function loadBiscuit(): Promise<typeof BiscuitWasm> {
  if (loaded !== undefined) return Promise.resolve(loaded);
  loading ??= (async () => {
    const consoleLog = console.log;
    const quiet = (...args: unknown[]): void => {
      if (args.length === 1 && args[0] === LOADING_LINE) return;
      consoleLog(...args);
    };
    console.log = quiet;
    try {
      loaded = await import('@biscuit-auth/biscuit-wasm');
      return loaded;
    } catch (error) {
      loading = undefined;
      throw error;
    } finally {
      // Put back only what was put here: someone else's replacement since stays.
      if (console.log === quiet) console.log = consoleLog;
    }
  })();
  return loading;
}

/** biscuit-wasm, once loadBiscuit() has resolved; throws before. */
export function biscuitWasm(): typeof BiscuitWasm {
  if (loaded === undefined) throw new Error('biscuit-wasm is not loaded: await loadBiscuit() before any Biscuit work');
  return loaded;
}

// biscuit-wasm 0.6.0 ignores the limits given to authorizeWithLimits and always applies its
// defaults (1 ms, 1,000 facts, 100 iterations). A GC pause or a cold call can push a valid token past
// 1 ms, so a timeout is retried a bounded number of times; too many facts or iterations is never
// retried, and a genuine Datalog bomb still fails within a few milliseconds.
export const RUN_LIMITS = { max_facts: 1000, max_iterations: 100, max_time_micro: 1000 };
const TIMEOUT_RETRIES = 3;

export function isRunLimitTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { RunLimit?: unknown }).RunLimit === 'Timeout';
}

export function isRunLimitError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'RunLimit' in error;
}

/** Run a wasm evaluation, retrying only the spurious 1 ms timeout. */
export function withTimeoutRetry<T>(run: () => T): T {
  for (let attempt = 0; ; attempt++) {
    try {
      return run();
    } catch (error) {
      if (!isRunLimitTimeout(error) || attempt >= TIMEOUT_RETRIES) throw error;
    }
  }
}

/** Anything biscuit-wasm throws is a plain object (or a RuntimeError after a panic); describe it for logs. */
export function describeWasmError(error: unknown): unknown {
  if (error instanceof Error) return new Error(`${error.name}: ${error.message}`);
  return error;
}

export const HEX_KEY = /^[0-9a-f]{64}$/;

/**
 * A Biscuit public key object from 64 hex characters. biscuit-wasm takes ownership of a key handed
 * to it by a key provider, so a fresh object is made for every use.
 */
export function publicKeyFromHex(hex: string): PublicKey {
  if (!HEX_KEY.test(hex)) throw new TypeError('a Biscuit public key is 32 bytes of lowercase hex');
  const { PublicKey, SignatureAlgorithm } = biscuitWasm();
  return PublicKey.fromBytes(Buffer.from(hex, 'hex'), SignatureAlgorithm.Ed25519);
}

let unknownRootKey: string | undefined;

/**
 * A key nobody holds the private half of, made on first need. biscuit-wasm panics (and is left
 * unusable) when a key provider returns nothing or throws, so an unknown root key id is answered
 * with this one and fails the signature check instead.
 */
export function unknownRootKeyHex(): string {
  if (unknownRootKey === undefined) {
    const { KeyPair, SignatureAlgorithm } = biscuitWasm();
    const pair = new KeyPair(SignatureAlgorithm.Ed25519);
    const key = pair.getPublicKey();
    const bytes = new Uint8Array(32);
    key.toBytes(bytes);
    key.free();
    pair.free();
    unknownRootKey = Buffer.from(bytes).toString('hex');
  }
  return unknownRootKey;
}

/**
 * Resolve a token's root key id (undefined when the token names none) to the trusted root public
 * key, as 64 hex characters; undefined when the id is unknown.
 */
export type RootKeyResolver = (kid: number | undefined) => string | undefined;
