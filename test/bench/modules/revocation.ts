// Revoke a grant through the admin API, then time until a feed-following verifier (the public
// library, in this process) refuses a capability derived from it.
import { createVerifier, VerifierError } from '../../../src/verifier/index.ts';
import { delegatedTarget, exchangeOnce, REQUEST } from '../fixtures.ts';
import { percentile, round, type BenchModule, type Figures } from '../harness.ts';

export const revocation: BenchModule = {
  id: 'revocation',
  name: 'revocation propagation to a feed-following verifier',
  async run(ctx): Promise<Figures> {
    const { server } = await ctx.mainWrit();
    const verifier = createVerifier({ issuer: server.issuer, audience: server.executorResource });
    const samples: number[] = [];
    try {
      for (let i = 0; i < ctx.sizes.revocationSamples; i++) {
        const target = await delegatedTarget(server);
        const capability = await exchangeOnce(target, 'jwt');
        await verifier.verify(capability, REQUEST);
        const grants = (await server.admin('GET', `/orgs/${target.org_id}/grants`)).json.grants as Array<{ id: string }>;
        const t0 = performance.now();
        const revoked = await server.admin('DELETE', `/orgs/${target.org_id}/grants/${grants[0]!.id}`);
        if (revoked.status >= 300) throw new Error(`revoke answered ${revoked.status}`);
        for (;;) {
          try {
            await verifier.verify(capability, REQUEST);
          } catch (error) {
            if (error instanceof VerifierError && error.code === 'revoked') break;
            throw error;
          }
          if (performance.now() - t0 > 10_000) throw new Error('not revoked at the verifier after 10 s');
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
        samples.push(performance.now() - t0);
      }
    } finally {
      verifier.close();
    }
    return {
      writ: {
        revocation_propagation_p50_ms: round(percentile(samples, 50)),
        revocation_propagation_p99_ms: round(percentile(samples, 99)),
        revocation_propagation_max_ms: round(Math.max(...samples)),
        revocation_samples: samples.length,
      },
    };
  },
};
