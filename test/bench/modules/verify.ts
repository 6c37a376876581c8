// The verifier library (what a downstream service runs per request), in this process: fresh
// tokens (each seen once) and the same token again, for both formats.
import { BiscuitPool } from '../../../src/capability/biscuit-pool.ts';
import { createVerifier } from '../../../src/verifier/index.ts';
import { startIssuer } from '../../verifier/issuer.ts';
import { perSecondAsync, round, type BenchModule, type Figures } from '../harness.ts';
import { AUDIENCE, VERIFY_REQUEST, benchKeys, mintAttenuatedBiscuits, mintJwts } from '../tokens.ts';
import { wasmMemoryBytes } from '../wasm-memory.ts';

export const verification: BenchModule = {
  id: 'verify',
  name: 'verifier library (JWT, Biscuit; fresh and cached)',
  async run(ctx): Promise<Figures> {
    const keys = benchKeys();
    const issuer = await startIssuer({ jwt: [keys.jwt], biscuit: [keys.biscuit] });
    // Larger than the token count, so "fresh" is a cache miss by construction, not by eviction.
    const verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, feed: { wait: 5 }, cacheSize: ctx.sizes.freshTokens + 100 });
    try {
      const n = ctx.sizes.freshTokens;
      const jwts = mintJwts(issuer.issuer, keys.jwt, n + 20);
      const nb = ctx.sizes.freshBiscuits;
      const biscuits = await mintAttenuatedBiscuits(issuer.issuer, keys.biscuit, nb + 20);
      const check = (token: string) => verifier.verify(token, VERIFY_REQUEST);

      const jwtFresh = await perSecondAsync((i) => check(jwts[i]!), ctx.sizes.loopMs * 4, n);
      const jwtCached = await perSecondAsync(() => check(jwts[0]!), ctx.sizes.loopMs);
      const wasmBefore = wasmMemoryBytes();
      const biscuitFresh = await perSecondAsync((i) => check(biscuits[i]!), ctx.sizes.loopMs * 4, nb);
      const wasmAfter = wasmMemoryBytes();
      const biscuitCached = await perSecondAsync(() => check(biscuits[0]!), ctx.sizes.loopMs);
      // The same fresh tokens through a verifier that opens Biscuits on its worker pool (one call at
      // a time, as above: each pays a message to the worker and back).
      const pool = new BiscuitPool();
      const pooled = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, feed: { wait: 5 }, cacheSize: nb + 100, biscuitWorkers: pool });
      let biscuitWorkers: number;
      try {
        await pooled.verify(biscuits[nb]!, VERIFY_REQUEST);
        biscuitWorkers = await perSecondAsync((i) => pooled.verify(biscuits[i]!, VERIFY_REQUEST), ctx.sizes.loopMs * 4, nb);
      } finally {
        pooled.close();
        await pool.close();
      }
      return {
        writ: {
          verify_jwt_per_s: round(jwtFresh, 0),
          verify_jwt_cached_per_s: round(jwtCached, 0),
          verify_biscuit_per_s: round(biscuitFresh, 0),
          verify_biscuit_cached_per_s: round(biscuitCached, 0),
          verify_biscuit_workers_per_s: round(biscuitWorkers, 0),
          verify_tokens_fresh: { jwt: n, biscuit: nb },
          // The verifier keeps opened Biscuits in its cache (freed on eviction), so this is held, not leaked.
          verify_biscuit_wasm_growth_mb: round((wasmAfter - wasmBefore) / 2 ** 20),
        },
      };
    } finally {
      verifier.close();
      await issuer.close();
    }
  },
};
