// Shared by the two Biscuit variant tests, which run in separate processes: each leaves
// biscuit-wasm's never-returned memory behind, and the long form of one (20,000 tokens) would
// otherwise start the other past 1 GiB of it, where biscuit-wasm itself slows down.
import type { TestContext } from 'node:test';
import { randomUUID } from 'node:crypto';
import { generateBiscuitRootKey } from '../../src/capability/keys.ts';
import { mintBiscuitCapability } from '../../src/capability/index.ts';
import { DEFAULT_BISCUIT_LIMITS } from '../../src/capability/envelope.ts';
import { createVerifier } from '../../src/verifier/index.ts';
import { withBlocks } from '../capability/biscuit-limits-support.ts';
import { startIssuer } from './issuer.ts';

export const VARIANTS = Number(process.env.WRIT_BISCUIT_VARIANTS ?? 2400);
export const AUDIENCE = 'https://mail.example/api';
export const MiB = 1024 * 1024;

/** The median, so a garbage-collection pause or a busy neighbour does not decide a quarter. */
export const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export function mintFor(issuer: string, rootKey: ReturnType<typeof generateBiscuitRootKey>): string {
  const now = Math.floor(Date.now() / 1000);
  const token = mintBiscuitCapability({
    iss: issuer, aud: AUDIENCE, sub: 'usr_ann', principal: 'user', org_id: 'org_x', client_id: 'agt_mailer',
    authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send'], resources: ['gmail:mailbox:*'] }],
    scope: 'tool:gmail.messages.send', auth_event_id: `grt_${randomUUID()}`, jti: `cap_${randomUUID()}`, iat: now, exp: now + 3600,
  }, rootKey).token;
  // Every variant has the most blocks allowed: the common chain, then one block of its own.
  return withBlocks(token, rootKey.publicKey, DEFAULT_BISCUIT_LIMITS.maxBlocks - 1);
}

/** A key issuer and a verifier with a small cache budget, so the plateau is reached early in a run. */
export async function issuerAndVerifier(t: TestContext, kid: number) {
  const rootKey = generateBiscuitRootKey(kid);
  const issuer = await startIssuer({ jwt: [], biscuit: [rootKey] });
  const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, feed: { wait: 5 }, cacheBytes: 8 * MiB });
  t.after(async () => {
    verifier.close();
    await issuer.close();
  });
  return { rootKey, issuer, verifier };
}

export const request = { tool: 'gmail.messages.send', resource: 'gmail:mailbox:ann' };

