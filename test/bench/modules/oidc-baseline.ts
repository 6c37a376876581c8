// Baseline: a bare oidc-provider's client_credentials with opaque tokens, the framework's ceiling.
import { runLoad } from '../load/index.ts';
import { BASELINE_CLIENT, spawnOidcBaseline } from '../servers/baselines.ts';
import { requireClean, round, type BenchModule, type Figures } from '../harness.ts';

export const oidcBaseline: BenchModule = {
  id: 'oidc',
  name: 'bare oidc-provider client_credentials',
  async run(ctx): Promise<Figures> {
    const server = await spawnOidcBaseline(ctx.workDir);
    try {
      const basic = Buffer.from(`${BASELINE_CLIENT.client_id}:${BASELINE_CLIENT.client_secret}`).toString('base64');
      const result = requireClean('oidc client_credentials', await runLoad({
        url: `${server.url}/token`, method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
        durationSec: ctx.sizes.loadSec,
      }));
      return {
        baselines: { oidc_client_credentials_rps: round(result.rps), oidc_client_credentials_p99_ms: result.latency.p99 ?? null },
        latency: { 'oidc-provider client_credentials': result.latency },
      };
    } finally {
      await server.stop();
    }
  },
};
