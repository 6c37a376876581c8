// Biscuit authorisations that must all be allowed, counted for false denials. Each chunk runs in
// its own process because biscuit-wasm 0.6.0 never returns memory an authorisation used: one
// process doing 100,000 would approach wasm32's 4 GiB ceiling.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { round, type BenchModule, type Figures } from '../harness.ts';

const CHILD = fileURLToPath(new URL('./false-denials-child.ts', import.meta.url));
const CHUNK = 10_000;

interface ChunkResult { authorizations: number; denials: number; reasons: Record<string, number>; authorizeMs: number; leakBytesPerAuthorization: number; wasmEndBytes: number }

function chunk(count: number, seed: number): Promise<ChunkResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CHILD, String(count), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => { out += c; });
    child.stderr.setEncoding('utf8').on('data', (c: string) => { err += c; });
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || !line) return reject(new Error(`false-denial chunk exited with ${code}: ${err.slice(0, 300)}`));
      resolve(JSON.parse(line) as ChunkResult);
    });
  });
}

export const falseDenials: BenchModule = {
  id: 'denials',
  name: 'Biscuit false denials',
  async run(ctx): Promise<Figures> {
    const total = ctx.sizes.biscuitAuthorizations;
    const size = Math.min(CHUNK, Math.ceil(total / 2));
    const sizes: number[] = [];
    for (let left = total; left > 0; left -= size) sizes.push(Math.min(size, left));
    const results: ChunkResult[] = [];
    // Two at a time: one per core.
    for (let i = 0; i < sizes.length; i += 2) {
      results.push(...await Promise.all(sizes.slice(i, i + 2).map((n, j) => chunk(n, i + j + 1))));
    }
    const reasons: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
    const authorizations = results.reduce((s, r) => s + r.authorizations, 0);
    const leak = results.reduce((s, r) => s + r.leakBytesPerAuthorization * r.authorizations, 0) / authorizations;
    return {
      writ: {
        biscuit_authorizations: authorizations,
        biscuit_false_denials: results.reduce((s, r) => s + r.denials, 0),
        ...(Object.keys(reasons).length > 0 && { biscuit_false_denial_reasons: reasons }),
        biscuit_open_and_authorize_ms: round(results.reduce((s, r) => s + r.authorizeMs, 0) / authorizations, 3),
        biscuit_wasm_leak_kb_per_authorization: round(leak / 1024),
        biscuit_wasm_mb_after_chunk: round(Math.max(...results.map((r) => r.wasmEndBytes)) / 2 ** 20),
      },
      notes: [`Biscuit false denials: ${authorizations} fresh open+authorise calls in ${sizes.length} processes of ≤ ${CHUNK} (wasm memory leaked per call makes bigger chunks unsafe).`],
    };
  },
};
