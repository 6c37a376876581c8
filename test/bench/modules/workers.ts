// Two Writ processes on one data dir (one sqlite file, WAL), each on its own port with the same
// issuer name and secrets, each loaded by its own autocannon process; throughput is the sum.
// Compared with one of them alone, measured just before in the same setup. On a machine with fewer
// cores than processes the throughput ratio says more about the machine than about Writ, so the
// target is the CPU time each exchange costs (from /proc, servers only): what running two workers
// side by side adds per exchange — contention on the sqlite file, cache misses — not what the
// load generators take from them.
import { cpuMsOf } from '../servers/process.ts';
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
      const cpu = () => cpuMsOf(first.pid) + cpuMsOf(second.pid);
      let before = cpu();
      const one = await exchangeBurst(a, 'jwt', { durationSec: ctx.sizes.loadSec });
      const oneCpuMs = cpu() - before;
      before = cpu();
      const both = await Promise.all([a, b].map((t) => exchangeBurst(t, 'jwt', { durationSec: ctx.sizes.loadSec })));
      const bothCpuMs = cpu() - before;
      const bothOk = both[0]!.ok + both[1]!.ok;
      return {
        writ: {
          exchange_one_worker_rps: round(one.rps),
          exchange_two_workers_rps: round(both[0]!.rps + both[1]!.rps),
          exchange_two_workers_split_rps: both.map((r) => round(r.rps)).join(' + '),
          exchange_one_worker_cpu_ms: one.ok > 0 ? round(oneCpuMs / one.ok, 3) : null,
          exchange_two_workers_cpu_ms: bothOk > 0 ? round(bothCpuMs / bothOk, 3) : null,
        },
        notes: [`Two workers: ${ctx.sizes.loadSec} s of load from two autocannon processes (16 connections each) on the same machine as the servers; the load generators compete for the same cores.`],
      };
    } finally {
      await second.stop();
    }
  },
};
