// Biscuits of a chosen size or block count, made from a genuine token the way a holder could:
// appending blocks needs no key.
import { Biscuit, BlockBuilder, PublicKey, SignatureAlgorithm } from '@biscuit-auth/biscuit-wasm';
import { attenuateBiscuit } from '../../src/capability/index.ts';

const UNLIMITED = { maxBytes: 1 << 20, maxBlocks: 1000 };

/** Append any block: a hostile holder is not held to `attenuateBiscuit`'s checks. */
export function appendRaw(token: string, rootPublicKeyHex: string, code: string): string {
  const biscuit = Biscuit.fromBase64(token, PublicKey.fromBytes(Buffer.from(rootPublicKeyHex, 'hex'), SignatureAlgorithm.Ed25519));
  const block = new BlockBuilder();
  block.addCode(code);
  const appended = biscuit.appendBlock(block);
  try { return appended.toBase64(); } finally { appended.free(); biscuit.free(); }
}

/** `token` attenuated until it has `blocks` blocks (the authority block included); each new block only shortens the expiry. */
export function withBlocks(token: string, rootPublicKeyHex: string, blocks: number, expiresIn = 3600): string {
  let current = token;
  for (let n = 1; n < blocks; n++) current = attenuateBiscuit(current, rootPublicKeyHex, { expires_in: expiresIn + n, limits: UNLIMITED });
  return current;
}

/** `token` with one block appended that pads it to exactly `length` characters (or as close below as base64 allows). */
export function withLength(token: string, rootPublicKeyHex: string, length: number): string {
  const padded = (n: number) => appendRaw(token, rootPublicKeyHex, `padding("${'p'.repeat(n)}");`);
  let low = 0;
  let high = length;
  let best = padded(0);
  if (best.length > length) throw new Error(`even an empty block makes the token ${best.length} long`);
  while (low <= high) {
    const mid = (low + high) >> 1;
    const candidate = padded(mid);
    if (candidate.length <= length) {
      best = candidate;
      if (candidate.length === length) return candidate;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return best;
}
