// The executor's cost: POST /v1/tools/demo.notes.list/execute with a capability, against calling
// the same provider's API directly with a token of its own. Both hit one demo provider instance
// (in this process, idle but for the calls), from the same autocannon, in the same module run.
import { startDemoProvider } from '../../../src/demo/provider/index.ts';
import { runLoad } from '../load/index.ts';
import { requireClean, round, sequentialLatency, type BenchModule, type Figures } from '../harness.ts';
import { spawnWrit } from '../servers/writ.ts';
import { freePort } from '../servers/process.ts';
import { seedOrg, type TestWrit } from '../../support/writ.ts';
import { delegate } from '../../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../../support/exchange.ts';
import { DEMO_CLIENT, openConnectLink } from '../../support/connect.ts';
import { CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, obtainTokens } from '../../demo/provider/flow.ts';

export const executor: BenchModule = {
  id: 'executor',
  name: 'executor overhead over a direct upstream call',
  async run(ctx): Promise<Figures> {
    const port = await freePort();
    const demo = await startDemoProvider({
      clients: [
        { ...DEMO_CLIENT, redirect_uris: [`http://127.0.0.1:${port}/connect/callback`] },
        { client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [REDIRECT_URI] },
      ],
    });
    const profileDir = process.env.WRIT_BENCH_PROFILE_DIR;
    const server = await spawnWrit({
      port,
      ...(profileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] } : {}),
      env: {
        WRIT_DEMO_PROVIDER_URL: demo.url, WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1',
        WRIT_CONNECTOR_CLIENTS: JSON.stringify({ demo: DEMO_CLIENT }), WRIT_LOG_LEVEL: 'warn',
      },
    });
    try {
      // John delegates, connects his notes account through Writ, and the agent takes one capability.
      const writ = server as unknown as TestWrit;
      const seeded = await seedOrg(writ, { tools: ['demo.notes.list'] });
      const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.list'] }] });
      if (!run.tokens) throw new Error('delegation did not complete');
      const link = (await server.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id })).json.authorization_url;
      const connected = await openConnectLink(run.browser, link);
      if (!/is connected/.test(connected.text)) throw new Error(`connect failed: ${connected.status}`);
      const cap = await exchange(writ, seeded.agent, { subject_token: run.tokens.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['demo.notes.list']) });
      if (cap.status !== 200) throw new Error(`exchange failed: ${JSON.stringify(cap.json)}`);

      const direct = await obtainTokens(demo);
      const directSpec = { url: `${demo.url}/api/notes`, headers: { authorization: `Bearer ${direct.access_token}` } };
      const executeSpec = {
        url: `${server.url}/v1/tools/demo.notes.list/execute`, method: 'POST' as const, body: '{"input":{}}',
        headers: { authorization: `Bearer ${cap.json.access_token}`, 'content-type': 'application/json' },
      };
      // Warm both paths (JIT, statement caches, the verifier's token cache), then measure.
      await runLoad({ ...directSpec, amount: 300 });
      await runLoad({ ...executeSpec, amount: 300 });
      // One call at a time (the latency an agent sees), then 16 connections (throughput).
      // Alternating halves, so a burst of noise from elsewhere on the machine falls on both sides.
      const half = (ctx.sizes.loadSec * 1000) / 2;
      const seq = { direct: [] as Array<{ count: number; p50: number; p99: number }>, execute: [] as Array<{ count: number; p50: number; p99: number }> };
      for (let i = 0; i < 2; i++) {
        seq.direct.push(await sequentialLatency(directSpec, half));
        seq.execute.push(await sequentialLatency(executeSpec, half));
      }
      // The better half of each: the machine's quietest moments, for both sides alike.
      const best = (runs: Array<{ p50: number; p99: number }>) => runs.reduce((a, b) => (b.p50 < a.p50 ? b : a));
      const sequentialDirect = best(seq.direct);
      const sequential = best(seq.execute);
      const baseline = requireClean('direct upstream', await runLoad({ ...directSpec, durationSec: ctx.sizes.loadSec }));
      const executed = requireClean('execute', await runLoad({ ...executeSpec, durationSec: ctx.sizes.loadSec }));
      const over = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? round(a - b, 2) : null);
      return {
        baselines: {
          direct_upstream_rps: round(baseline.rps), direct_upstream_p50_ms: baseline.latency.p50 ?? null, direct_upstream_p99_ms: baseline.latency.p99 ?? null,
          direct_upstream_seq_p50_ms: sequentialDirect.p50, direct_upstream_seq_p99_ms: sequentialDirect.p99,
        },
        writ: {
          execute_seq_p50_ms: sequential.p50, execute_seq_p99_ms: sequential.p99,
          execute_seq_overhead_p50_ms: over(sequential.p50, sequentialDirect.p50),
          execute_seq_overhead_p99_ms: over(sequential.p99, sequentialDirect.p99),
          execute_rps: round(executed.rps), execute_p50_ms: executed.latency.p50 ?? null, execute_p99_ms: executed.latency.p99 ?? null,
          execute_overhead_p50_ms: over(executed.latency.p50, baseline.latency.p50),
          execute_overhead_p99_ms: over(executed.latency.p99, baseline.latency.p99),
        },
        latency: { 'upstream direct, same provider (GET /api/notes)': baseline.latency, 'writ execute demo.notes.list': executed.latency },
        notes: ['The executor module measures its own direct baseline against the same provider instance it calls, so the two are compared like for like; it replaces the upstream module\'s baseline in this run.'],
      };
    } finally {
      await server.stop();
      await demo.close();
    }
  },
};
