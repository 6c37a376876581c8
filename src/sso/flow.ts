import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { z } from 'zod';

// The state of one sign-in at the org's provider, kept in the browser that started it: an
// HttpOnly cookie, sealed (AES-256-GCM) so the PKCE verifier and nonce stay unreadable and the
// whole cannot be altered. The callback takes the state it checks from this cookie only, so a
// callback URL carried to another browser finds no flow (or another flow's state) and is refused.

export const FLOW_COOKIE = 'writ_sso';
export const FLOW_SECONDS = 600;
const AAD = Buffer.from('writ:sso-flow:v1');

const flowSchema = z.strictObject({
  org_id: z.string().min(1).max(64),
  issuer: z.string().min(1).max(2048),
  state: z.string().min(1).max(128),
  nonce: z.string().min(1).max(128),
  code_verifier: z.string().min(43).max(128),
  next: z.string().max(2048),
  /** The authorization request's interaction this sign-in completes, if any. */
  interaction: z.string().max(128).optional(),
  /** Seconds: max_age sent to the provider and checked on auth_time. */
  max_age: z.int().min(0).optional(),
  exp: z.int(),
});

export type SsoFlow = z.infer<typeof flowSchema>;

export class FlowSealer {
  readonly #key: Buffer;
  constructor(key: Buffer) {
    if (key.length !== 32) throw new TypeError('the flow key is 32 bytes');
    this.#key = key;
  }

  seal(flow: SsoFlow): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(JSON.stringify(flow), 'utf8'), cipher.final()]);
    return [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
  }

  /** The flow, or undefined when the value was not sealed here, was altered, or has expired. */
  open(value: string | undefined, nowMs: number): SsoFlow | undefined {
    if (!value || value.length > 8192) return undefined;
    const [iv, body, tag] = value.split('.').map((p) => Buffer.from(p, 'base64url'));
    if (!iv || !body || !tag || iv.length !== 12 || tag.length !== 16) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv);
      decipher.setAAD(AAD);
      decipher.setAuthTag(tag);
      const text = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
      const flow = flowSchema.parse(JSON.parse(text));
      return flow.exp * 1000 > nowMs ? flow : undefined;
    } catch {
      return undefined;
    }
  }
}
