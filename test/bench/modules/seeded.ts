// Exchange on a store that has lived: many grants and a long audit log in the same org. The same
// Writ process (the shared one) is measured just before and just after bulk seeding, so the ratio
// compares like with like.
import { round, type BenchModule, type Figures } from '../harness.ts';
import { seedStore } from '../seed.ts';
import { exchangeBurst } from './exchange.ts';

export const seeded: BenchModule = {
  id: 'seeded',
  name: 'exchange with a seeded store',
  async run(ctx): Promise<Figures> {
    const { server, target } = await ctx.mainWrit();
    {
      await exchangeBurst(target, 'jwt', { amount: 200 });
      const empty = await exchangeBurst(target, 'jwt', { durationSec: ctx.sizes.loadSec });
      const counts = { grants: ctx.sizes.seedGrants, auditEvents: ctx.sizes.seedAuditEvents };
      const seeding = seedStore(server.dataDir, target.org_id, target.client.client_id, counts);
      ctx.log(`seeded ${counts.grants} grants and ${counts.auditEvents} audit events in ${(seeding.ms / 1000).toFixed(1)} s`);
      await exchangeBurst(target, 'jwt', { amount: 200 });
      const full = await exchangeBurst(target, 'jwt', { durationSec: ctx.sizes.loadSec });
      return {
        writ: {
          exchange_empty_rps: round(empty.rps),
          exchange_seeded_rps: round(full.rps),
          exchange_seeded_p99_ms: full.latency.p99 ?? null,
          seeded_store: { grants: counts.grants, audit_events: counts.auditEvents, seed_seconds: round(seeding.ms / 1000), ...(ctx.mode === 'quick' && { note: 'quick mode: smaller store than the 100,000 grants and 1,000,000 events of the full run' }) },
        },
      };
    }
  },
};
