// Capabilities minted locally from fixed-shape claims, for the verification benchmarks: the
// verifier sees exactly what Writ issues, without an exchange per token.
import { randomUUID } from 'node:crypto';
import type { CapabilityClaims } from '../../src/capability/claims.ts';
import { mintJwtCapability } from '../../src/capability/jwt.ts';
import { BiscuitPool } from '../../src/capability/biscuit-pool.ts';
import { generateBiscuitRootKey, generateJwtKey } from '../../src/capability/keys.ts';

export const AUDIENCE = 'https://notes.example/api';
export const VERIFY_REQUEST = { tool: 'demo.notes.create', resource: 'demo:notebook:team', input: { title: 'weekly summary' } };

export function benchKeys() {
  return { jwt: generateJwtKey('bench-1'), biscuit: generateBiscuitRootKey(1) };
}

export function benchClaims(issuer: string, i: number): CapabilityClaims {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: issuer, aud: AUDIENCE, sub: `usr_${i % 1000}`, principal: 'user', org_id: 'org_bench', client_id: 'agt_bench',
    act: { sub: 'agt_bench', act: { sub: 'agt_orchestrator' } },
    authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'], resources: ['demo:notebook:*'], constraints: { title: { starts_with: 'weekly' } } }],
    scope: 'tool:demo.notes.create', auth_event_id: `grt_${i % 97}`, jti: `cap_${randomUUID()}`, iat: now, exp: now + 600,
  };
}

export function mintJwts(issuer: string, key: ReturnType<typeof benchKeys>['jwt'], count: number): string[] {
  return Array.from({ length: count }, (_, i) => mintJwtCapability(benchClaims(issuer, i), key));
}

/**
 * Biscuits with one attenuation block each (as a sub-agent would hold them), minted and attenuated
 * in worker threads: the process that measures verification keeps a biscuit-wasm instance that has
 * done nothing else, as a downstream service's has (minting thousands of tokens in it first would
 * leave hundreds of MB of leaked wasm memory behind, and a slower instance).
 */
export async function mintAttenuatedBiscuits(issuer: string, key: ReturnType<typeof benchKeys>['biscuit'], count: number): Promise<string[]> {
  const pool = new BiscuitPool();
  try {
    return await Promise.all(Array.from({ length: count }, async (_, i) => pool.attenuate(
      (await pool.mint(benchClaims(issuer, i), key)).token, key.publicKey,
      { tools: ['demo.notes.create'], resources: ['demo:notebook:team'] },
    )));
  } finally {
    await pool.close();
  }
}
