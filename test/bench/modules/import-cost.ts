// Import cost of @writ/verifier as a downstream service meets it: the package built as it is
// published (ESM JavaScript in src/verifier/dist, reached through its `exports`), imported by a
// fresh Node process that then verifies one token. Time to import, time to the first verified
// JWT or Biscuit, and the process's RSS after each step, beside a bare Node process's RSS. Keys
// and revocations are passed in, so no network time is counted.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { generateBiscuitRootKey, generateJwtKey, mintBiscuitCapability, mintJwtCapability, type CapabilityClaims } from '../../../src/capability/index.ts';
import { npm, ROOT } from '../../packages/install.ts';
import { percentile, round, type BenchModule, type Figures } from '../harness.ts';

const run = promisify(execFile);

const CHILD = `
const started = performance.now();
const { createVerifier } = await import('@writ/verifier');
const imported = performance.now();
const rssImported = process.memoryUsage().rss;
const { createPublicKey } = await import('node:crypto');
const input = JSON.parse(process.env.BENCH_INPUT);
const jwtKey = createPublicKey({ key: input.jwk, format: 'jwk' });
const verifier = createVerifier({
  issuer: input.issuer, audience: input.audience,
  keys: { jwtKey: () => jwtKey, biscuitRootKey: () => input.biscuitPublicKey },
  revocations: { isRevoked: () => false },
});
await verifier.verify(input.token, { tool: input.tool });
const verified = performance.now();
verifier.close();
process.stdout.write(JSON.stringify({
  import_ms: imported - started, verify_ms: verified - imported, rss_imported: rssImported, rss_verified: process.memoryUsage().rss,
}));`;

interface Sample { import_ms: number; verify_ms: number; rss_imported: number; rss_verified: number }

async function fresh(input: Record<string, unknown>): Promise<Sample> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '--disable-warning=ExperimentalWarning', '-e', CHILD], {
    cwd: ROOT, env: { ...process.env, BENCH_INPUT: JSON.stringify(input) },
  });
  // biscuit-wasm prints a line of its own when it starts.
  return JSON.parse(stdout.slice(stdout.indexOf('{'))) as Sample;
}

export const importCost: BenchModule = {
  id: 'import-cost',
  name: '@writ/verifier: import and first verification in a fresh process',
  async run(ctx): Promise<Figures> {
    await npm(process.execPath, ROOT, ['run', 'build', '-w', '@writ/verifier']);
    const jwtKey = generateJwtKey('k1');
    const rootKey = generateBiscuitRootKey(1);
    const now = Math.floor(Date.now() / 1000);
    const claims: CapabilityClaims = {
      iss: 'https://writ.example', aud: 'https://service.example', sub: 'usr_1', principal: 'user', org_id: 'org_1', client_id: 'agt_1',
      authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }], scope: 'tool:demo.notes.create',
      auth_event_id: 'grt_1', jti: `cap_${randomUUID()}`, iat: now, exp: now + 3600,
    };
    const base = { issuer: claims.iss, audience: claims.aud, tool: 'demo.notes.create', jwk: jwtKey.publicJwk, biscuitPublicKey: rootKey.publicKey };
    const tokens = { jwt: mintJwtCapability(claims, jwtKey), biscuit: mintBiscuitCapability(claims, rootKey).token };

    const runs = Math.max(3, ctx.sizes.startups * 2);
    const bare: number[] = [];
    const samples: Record<'jwt' | 'biscuit', Sample[]> = { jwt: [], biscuit: [] };
    for (let i = 0; i < runs; i++) {
      bare.push(Number((await run(process.execPath, ['-e', 'process.stdout.write(String(process.memoryUsage().rss))'])).stdout));
      for (const format of ['jwt', 'biscuit'] as const) samples[format].push(await fresh({ ...base, token: tokens[format] }));
    }
    const median = (values: number[]) => percentile(values, 50);
    const mb = (bytes: number) => round(bytes / 1024 / 1024);
    const all = [...samples.jwt, ...samples.biscuit];
    ctx.log(`import-cost: ${runs} fresh processes per format`);
    return {
      writ: {
        verifier_import_ms: round(median(all.map((s) => s.import_ms))),
        verifier_first_jwt_verify_ms: round(median(samples.jwt.map((s) => s.verify_ms))),
        verifier_first_biscuit_verify_ms: round(median(samples.biscuit.map((s) => s.verify_ms))),
        verifier_rss_bare_node_mb: mb(median(bare)),
        verifier_rss_imported_mb: mb(median(all.map((s) => s.rss_imported))),
        verifier_rss_jwt_verified_mb: mb(median(samples.jwt.map((s) => s.rss_verified))),
        verifier_rss_biscuit_verified_mb: mb(median(samples.biscuit.map((s) => s.rss_verified))),
      },
    };
  },
};
