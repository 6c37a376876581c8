// Two Writ processes on one data dir (one sqlite file, WAL), each on its own port with the same
// issuer name and secrets, each loaded by its own autocannon process; throughput is the sum.
// Compared with one of them alone, measured just before in the same setup.
import { spawnWrit } from '../servers/writ.ts';
import { round, type BenchModule, type Figures } from '../harness.ts';
import { exchangeBurst } from './exchange.ts';

export const workers: BenchModule = {
  id: 'workers',
  name: 'exchange with two worker processes',
  async run(ctx): Promise<Figures> {
    const { server: first, target: a } = await ctx.mainWrit();
    const second = await spawnWrit({ dataDir: first.dataDir, adminToken: first.adminToken, masterKey: first.masterKey, issuer: first.issuer });
    try {
      const b = { ...a, url: second.url };
      await exchangeBurst(b, 'jwt', { amount: 200 });
      const one = await exchangeBurst(a, 'jwt', { durationSec: ctx.sizes.loadSec });
      const both = await Promise.all([a, b].map((t) => exchangeBurst(t, 'jwt', { durationSec: ctx.sizes.loadSec })));
      return {
        writ: {
          exchange_one_worker_rps: round(one.rps),
          exchange_two_workers_rps: round(both[0]!.rps + both[1]!.rps),
          exchange_two_workers_split_rps: both.map((r) => round(r.rps)).join(' + '),
        },
        notes: [`Two workers: ${ctx.sizes.loadSec} s of load from two autocannon processes (16 connections each) on the same machine as the servers; the load generators compete for the same cores.`],
      };
    } finally {
      await second.stop();
    }
  },
};
