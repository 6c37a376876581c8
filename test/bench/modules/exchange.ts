// Writ's token endpoint under RFC 8693 exchange load, one capability format at a time.
import { runLoad, type LoadResult, type LoadSpec } from '../load/index.ts';
import { exchangeRequest, type CapabilityFormat, type ExchangeTarget } from '../fixtures.ts';
import { requireClean, round, sampleRss, type BenchModule, type Figures } from '../harness.ts';

/** One autocannon burst of exchanges against `target` (which may be an in-process Writ). */
export async function exchangeBurst(
  target: ExchangeTarget, format: CapabilityFormat, load: Pick<LoadSpec, 'amount' | 'durationSec' | 'connections'>,
): Promise<LoadResult> {
  return requireClean(`exchange ${format}`, await runLoad({ ...exchangeRequest(target, format), ...load }));
}

export const exchange: BenchModule = {
  id: 'exchange',
  name: 'token exchange (JWT, Biscuit)',
  async run(ctx): Promise<Figures> {
    const { server, target } = await ctx.mainWrit();
    // A short warm-up: JIT, prepared statements and key caches, as a running server has them.
    await exchangeBurst(target, 'jwt', { amount: 300 });
    await exchangeBurst(target, 'biscuit', { amount: 100 });

    const jwtRss = sampleRss(() => server.rssMb());
    const jwt = await exchangeBurst(target, 'jwt', { durationSec: ctx.sizes.loadSec });
    const jwtMem = jwtRss.stop();

    const biscuitRss = sampleRss(() => server.rssMb());
    const biscuit = await exchangeBurst(target, 'biscuit', { durationSec: ctx.sizes.loadSec });
    const biscuitMem = biscuitRss.stop();

    return {
      writ: {
        exchange_jwt_rps: round(jwt.rps),
        exchange_jwt_p50_ms: jwt.latency.p50 ?? null,
        exchange_jwt_p99_ms: jwt.latency.p99 ?? null,
        exchange_biscuit_rps: round(biscuit.rps),
        exchange_biscuit_p50_ms: biscuit.latency.p50 ?? null,
        exchange_biscuit_p99_ms: biscuit.latency.p99 ?? null,
        rss_mb: round(Math.max(jwtMem.max, biscuitMem.max)),
        rss_mb_jwt_load: round(jwtMem.max),
        rss_mb_biscuit_load: round(biscuitMem.max),
        // Server-side: what a Biscuit burst leaves behind (minting, not authorising).
        rss_growth_mb_biscuit_burst: round(biscuitMem.last - biscuitMem.first),
        exchanges_per_burst: { jwt: jwt.ok, biscuit: biscuit.ok },
      },
      latency: { 'writ exchange → JWT': jwt.latency, 'writ exchange → Biscuit': biscuit.latency },
    };
  },
};
