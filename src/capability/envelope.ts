import { CapabilityError } from './errors.ts';

// What a Biscuit's outer protobuf says before any signature is checked: how many blocks it has,
// its root key id, and the authority block's signature. Reading it is a walk over a few
// length-prefixed fields in JavaScript, so a token over the limits is refused before biscuit-wasm
// parses it (each parse grows wasm memory, which is never given back).
//
//   message Biscuit     { optional uint32 rootKeyId = 1; SignedBlock authority = 2; repeated SignedBlock blocks = 3; Proof proof = 4; }
//   message SignedBlock { bytes block = 1; PublicKey nextKey = 2; bytes signature = 3; … }
//
// Nothing read here is trusted: the numbers only decide whether the token is worth parsing, and
// the signature is used as a cache key only after biscuit-wasm has verified the whole chain.

/** How large a Biscuit Writ will look at. Every entry applies them: exchange, executor, introspection, verifier. */
export interface BiscuitLimits {
  /** Characters of the base64url token. */
  maxBytes: number;
  /** Blocks, the authority block included. */
  maxBlocks: number;
  /**
   * Distinct attenuated tokens accepted per capability (per authority block). Appending a block
   * offline is free for a holder, and biscuit-wasm keeps memory for every new token it authorises,
   * so the variants of one capability are bounded; the ones already accepted stay accepted.
   */
  maxVariants?: number;
}

/**
 * Room for a capability with dozens of rights and a chain of seven offline attenuations (a typical
 * capability is 1.4 KB and each attenuation adds about 0.2 KB), and small enough to travel in an
 * `Authorization` header under Node's 16 KiB header limit.
 */
export const DEFAULT_BISCUIT_LIMITS: Readonly<BiscuitLimits> = Object.freeze({ maxBytes: 8 * 1024, maxBlocks: 8, maxVariants: 64 });

export interface BiscuitEnvelope {
  /** Blocks, the authority block included. */
  blocks: number;
  rootKeyId: number | undefined;
  /** Hex; equal to the authority block's revocation id once the token is verified. */
  authoritySignature: string;
}

const BASE64URL = /^[A-Za-z0-9_-]+=*$/;

const malformed = () => new CapabilityError('invalid_token', 'malformed token');

/** A reader over protobuf's wire format: varints and length-delimited fields only. */
class Wire {
  #at: number;
  readonly #end: number;
  readonly #bytes: Uint8Array;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.#bytes = bytes;
    this.#at = start;
    this.#end = end;
  }

  get done(): boolean {
    return this.#at >= this.#end;
  }

  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.#at >= this.#end) throw malformed();
      const byte = this.#bytes[this.#at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw malformed();
  }

  /** The next field: its number, and where a length-delimited value lies. */
  field(): { number: number; start: number; end: number; value: number } {
    const key = this.varint();
    const number = Math.floor(key / 8);
    switch (key & 7) {
      case 0: return { number, start: 0, end: 0, value: this.varint() };
      case 2: {
        const length = this.varint();
        const start = this.#at;
        if (start + length > this.#end) throw malformed();
        this.#at = start + length;
        return { number, start, end: this.#at, value: length };
      }
      case 1: this.#skip(8); return { number, start: 0, end: 0, value: 0 };
      case 5: this.#skip(4); return { number, start: 0, end: 0, value: 0 };
      default: throw malformed();
    }
  }

  #skip(n: number): void {
    if (this.#at + n > this.#end) throw malformed();
    this.#at += n;
  }
}

function signatureOf(bytes: Uint8Array, start: number, end: number): string {
  const wire = new Wire(bytes, start, end);
  while (!wire.done) {
    const f = wire.field();
    if (f.number === 3 && f.end > f.start) return Buffer.from(bytes.subarray(f.start, f.end)).toString('hex');
  }
  throw malformed();
}

/**
 * Check a token against the limits and read its envelope, before any wasm work. Too large or too
 * many blocks is `invalid_token` with a description that says which.
 */
export function readBiscuitEnvelope(token: string, limits: BiscuitLimits = DEFAULT_BISCUIT_LIMITS): BiscuitEnvelope {
  if (typeof token !== 'string' || token.length === 0) throw malformed();
  if (token.length > limits.maxBytes) {
    throw new CapabilityError('invalid_token', `the token is larger than ${limits.maxBytes} bytes`);
  }
  if (!BASE64URL.test(token)) throw malformed();
  const bytes = Buffer.from(token, 'base64url');
  const wire = new Wire(bytes);
  let blocks = 0;
  let rootKeyId: number | undefined;
  let authoritySignature: string | undefined;
  while (!wire.done) {
    const f = wire.field();
    if (f.number === 1 && f.end === 0) rootKeyId = f.value;
    else if (f.number === 2 && f.end > 0) {
      if (authoritySignature !== undefined) throw malformed();
      authoritySignature = signatureOf(bytes, f.start, f.end);
      blocks++;
    } else if (f.number === 3 && f.end > 0) blocks++;
    if (blocks > limits.maxBlocks) {
      throw new CapabilityError('invalid_token', `the token has more than ${limits.maxBlocks} blocks`);
    }
  }
  if (authoritySignature === undefined) throw malformed();
  return { blocks, rootKeyId, authoritySignature };
}
