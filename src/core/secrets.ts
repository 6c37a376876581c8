import { createHash, timingSafeEqual } from 'node:crypto';

/** Constant-time string comparison; unequal lengths compare against a digest to avoid a length oracle. */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

/** SHA-256 hex of a high-entropy secret (client secrets, admin tokens): not for passwords. */
export function digestSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
