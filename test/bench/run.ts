// `npm run bench [-- --quick] [-- --only=name,name]`: runs the benchmark suite against servers it
// starts on 127.0.0.1 and stops, writes test/bench/results/<date>.json and <date>.md (with an SVG
// latency plot), and prints the JSON object as its last line. Every figure that has a target is
// compared with a baseline measured in this same run, on this machine, with the same load generator.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIZES, type BenchContext, type BenchModule, type Figures, type Mode } from './harness.ts';
import { MODULES } from './modules/index.ts';
import { spawnWrit } from './servers/writ.ts';
import { delegatedTarget } from './fixtures.ts';
import { evaluateTargets } from './targets.ts';
import { latencySvg, markdownReport } from './report.ts';

const args = process.argv.slice(2);
const mode: Mode = args.includes('--quick') ? 'quick' : 'full';
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const keep = args.includes('--keep');
const started = Date.now();
const log = (message: string) => process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);

const workDir = mkdtempSync(join(tmpdir(), 'writ-bench-run-'));
const cleanups: Array<() => Promise<void> | void> = [];
let main: ReturnType<BenchContext['mainWrit']> | undefined;
const ctx: BenchContext = {
  mode,
  sizes: SIZES[mode],
  workDir,
  log,
  defer: (cleanup) => { cleanups.push(cleanup); },
  mainWrit() {
    main ??= (async () => {
      const server = await spawnWrit({ dataDir: mkdtempSync(join(workDir, 'main-')) });
      cleanups.push(() => server.stop());
      return { server, target: await delegatedTarget(server) };
    })();
    return main;
  },
};

const results = {
  schema: 1,
  date: new Date().toISOString(),
  mode,
  machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gb: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
  method: {
    load_generator: 'autocannon in a child process, over loopback, 16 connections unless stated',
    servers: 'each server in its own child process on 127.0.0.1, started and stopped by the benchmark',
    sizes: SIZES[mode],
    ...(mode === 'quick' && { quick: 'reduced sizes: shorter bursts and soak, smaller seeded store and fewer Biscuit authorisations than the full run; figures are indicative' }),
  },
  baselines: {} as Record<string, number | null>,
  writ: {} as Record<string, unknown>,
  latency: {} as Record<string, Record<string, number>>,
  notes: [] as string[],
  errors: {} as Record<string, string>,
  profile: undefined as unknown,
  targets: [] as ReturnType<typeof evaluateTargets>,
};

function merge(figures: Figures): void {
  Object.assign(results.baselines, figures.baselines);
  Object.assign(results.writ, figures.writ);
  Object.assign(results.latency, figures.latency);
  if (figures.notes) results.notes.push(...figures.notes);
  if (figures.profile !== undefined) results.profile = figures.profile;
}

async function runModule(module: BenchModule): Promise<void> {
  const t0 = Date.now();
  log(`${module.name}…`);
  try {
    merge(await module.run(ctx));
    log(`${module.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    results.errors[module.name] = message;
    log(`${module.name}: FAILED: ${message}`);
  }
}

try {
  for (const module of MODULES) {
    if (only && !only.some((name) => module.id === name)) continue;
    await runModule(module);
  }
} finally {
  for (const cleanup of cleanups.reverse()) {
    try { await cleanup(); } catch (error) { log(`clean-up failed: ${String(error)}`); }
  }
  if (!keep) rmSync(workDir, { recursive: true, force: true });
}

results.targets = evaluateTargets(results.baselines, results.writ);
const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const stamp = results.date.slice(0, 19).replace(/:/g, '-');
const name = `${stamp}${mode === 'quick' ? '-quick' : ''}`;
writeFileSync(join(dir, `${name}.json`), JSON.stringify(results, null, 2) + '\n');
writeFileSync(join(dir, `${name}.svg`), latencySvg(results.latency, `Latency percentiles (${mode} run, ${results.date.slice(0, 10)})`));
writeFileSync(join(dir, `${name}.md`), markdownReport(results, `${name}.svg`));
log(`wrote test/bench/results/${name}.json, .md and .svg in ${((Date.now() - started) / 1000).toFixed(1)} s`);
process.stdout.write(JSON.stringify(results) + '\n');
