import { randomBytes } from 'node:crypto';

// Time-ordered, URL-safe identifiers with a type prefix (`org_`, `usr_`, `grt_`, ...).
// 48 bits of milliseconds keep them sortable; 80 random bits keep them unguessable.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function encodeRandom(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

export type IdPrefix =
  | 'org' | 'usr' | 'agt' | 'grt' | 'cap' | 'evt' | 'key' | 'acct' | 'rs' | 'req' | 'conn' | 'grp' | 'apr' | 'whk';

// Random bytes are drawn from the OS in blocks: one syscall serves hundreds of ids.
const POOL_SIZE = 4096;
let pool = randomBytes(POOL_SIZE);
let offset = 0;
function random10(): Buffer {
  if (offset + 10 > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + 10);
  offset += 10;
  return out;
}

export function newId(prefix: IdPrefix, now = Date.now()): string {
  return `${prefix}_${encodeTime(now)}${encodeRandom(random10())}`;
}

/** A random secret, base64url, of `bytes` bytes of entropy. */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
