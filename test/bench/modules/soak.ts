// Memory over a sustained mixed load: JWT and Biscuit exchanges at once (two autocannon processes,
// 8 connections each), RSS sampled through the soak; growth is the last sample against the first
// sample after the warm-up third.
import { round, sampleRss, type BenchModule, type Figures } from '../harness.ts';
import { exchangeBurst } from './exchange.ts';

export const soak: BenchModule = {
  id: 'soak',
  name: 'RSS soak under mixed exchange load (JWT and Biscuit)',
  async run(ctx): Promise<Figures> {
    const { server, target } = await ctx.mainWrit();
    const sampler = sampleRss(() => server.rssMb(), 500);
    const [jwt, biscuit] = await Promise.all([
      exchangeBurst(target, 'jwt', { durationSec: ctx.sizes.soakSec, connections: 8 }),
      exchangeBurst(target, 'biscuit', { durationSec: ctx.sizes.soakSec, connections: 8 }),
    ]);
    const { samples, max } = sampler.stop();
    const settled = samples[Math.floor(samples.length / 3)]!;
    const last = samples.at(-1)!;
    return {
      writ: {
        soak_seconds: ctx.sizes.soakSec,
        soak_exchanges: { jwt: jwt.ok, biscuit: biscuit.ok },
        soak_rss_start_mb: round(settled),
        soak_rss_end_mb: round(last),
        soak_rss_max_mb: round(max),
        rss_mb_mixed_load: round(max),
        soak_rss_growth_pct: round(((last - settled) / settled) * 100, 2),
        ...(ctx.mode === 'quick' && { soak_note: `quick mode: ${ctx.sizes.soakSec} s soak instead of 60 s` }),
      },
    };
  },
};
