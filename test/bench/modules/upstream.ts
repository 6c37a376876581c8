// Baseline: the local upstream API (the demo provider's notes API) called directly with a token
// obtained through its real authorization-code flow: what an executed tool call costs at best.
import { runLoad } from '../load/index.ts';
import { spawnDemoProvider } from '../servers/baselines.ts';
import { requireClean, round, type BenchModule, type Figures } from '../harness.ts';
import { obtainTokens } from '../../demo/provider/flow.ts';
import type { DemoProvider } from '../../../src/demo/provider/index.ts';

export const directUpstream: BenchModule = {
  id: 'upstream',
  name: 'direct upstream API',
  async run(ctx): Promise<Figures> {
    const server = await spawnDemoProvider(ctx.workDir);
    try {
      const tokens = await obtainTokens({ url: server.url } as DemoProvider);
      const headers = { authorization: `Bearer ${tokens.access_token}` };
      const created = await fetch(`${server.url}/api/notes`, {
        method: 'POST', headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'bench', body: 'a note the list returns' }),
      });
      if (created.status !== 201) throw new Error(`could not create a note: ${created.status}`);
      const result = requireClean('direct upstream', await runLoad({ url: `${server.url}/api/notes`, headers, durationSec: ctx.sizes.loadSec }));
      return {
        baselines: { direct_upstream_rps: round(result.rps), direct_upstream_p50_ms: result.latency.p50 ?? null, direct_upstream_p99_ms: result.latency.p99 ?? null },
        latency: { 'upstream direct (GET /api/notes)': result.latency },
      };
    } finally {
      await server.stop();
    }
  },
};
