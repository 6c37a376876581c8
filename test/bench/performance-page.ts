// Puts one benchmark run's figures into docs/performance.md: rewrites what lies between the
// `<!-- bench:run:start -->` / `<!-- bench:run:end -->` and `<!-- bench:targets:start -->` /
// `<!-- bench:targets:end -->` markers, and leaves every other line of the page as written.
//
//   node test/bench/performance-page.ts                       # the newest full run in test/bench/results/
//   node test/bench/performance-page.ts results/<stamp>.json  # a chosen run
//   node test/bench/performance-page.ts --check               # exit 1 if the page is not that run's
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TargetResult } from './targets.ts';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const PAGE = fileURLToPath(new URL('../../docs/performance.md', import.meta.url));

interface Run {
  date: string;
  mode: string;
  machine: { cpus: number; cpu_model: string; memory_gb: number; node: string };
  baselines: Record<string, number | null>;
  writ: Record<string, unknown>;
  targets: TargetResult[];
  errors: Record<string, string>;
}

/** The newest full run (quick runs are indicative only and not kept in the repository). */
export function newestFullRun(dir = RESULTS): string {
  const runs = readdirSync(dir).filter((f) => /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.json$/.test(f)).sort();
  if (runs.length === 0) throw new Error(`no full run in ${dir}: run npm run bench first`);
  return join(dir, runs.at(-1)!);
}

const num = (v: number | null | undefined, digits = 3): string => {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const rounded = Math.round(v * 10 ** digits) / 10 ** digits;
  return rounded.toLocaleString('en-US', { maximumFractionDigits: digits });
};

/** What the ratio column says: a factor for relative targets, a difference in ms for overheads. */
function ratioCell(t: TargetResult): string {
  if (t.ratio === undefined || t.ratio === null) return '';
  return t.target.includes(' + ') ? `+${num(t.ratio, 2)} ms` : `${num(t.ratio)} ×`;
}

function resultCell(t: TargetResult): string {
  const base = t.pass === null ? 'not judged' : t.pass ? 'pass' : '**fail**';
  return t.note ? `${base} (${t.note})` : base;
}

export function targetsTable(run: Run): string {
  const rows = run.targets.map((t) => {
    const baseline = t.baseline ? `${num(t.baseline.value)} (${t.baseline.name})` : '';
    return `| \`${t.id}\` ${t.target} | ${num(t.value)} | ${baseline} | ${ratioCell(t)} | ${resultCell(t)} |`;
  });
  return ['| target | measured | baseline (same run) | ratio | result |', '| --- | ---: | ---: | ---: | --- |', ...rows].join('\n');
}

export function runLine(run: Run, file: string): string {
  const stamp = basename(file, '.json');
  const errors = Object.keys(run.errors ?? {});
  return [
    `[Report](../test/bench/results/${stamp}.md) and [JSON](../test/bench/results/${stamp}.json) of the ${run.mode} run of`,
    `${run.date.slice(0, 16).replace('T', ' ')} UTC on ${run.machine.cpus} × ${run.machine.cpu_model}, ${run.machine.memory_gb} GB, Node ${run.machine.node}.`,
    ...(errors.length ? [`Modules that failed in this run: ${errors.join(', ')} (see the report).`] : []),
    '',
    `![Latency percentiles of the run](../test/bench/results/${stamp}.svg)`,
  ].join('\n');
}

function replaceBetween(page: string, name: string, body: string): string {
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const from = page.indexOf(start);
  const to = page.indexOf(end);
  if (from < 0 || to < from) throw new Error(`docs/performance.md has no ${start} … ${end} markers`);
  return `${page.slice(0, from + start.length)}\n${body}\n${page.slice(to)}`;
}

export function renderPage(page: string, run: Run, file: string): string {
  return replaceBetween(replaceBetween(page, 'run', runLine(run, file)), 'targets', targetsTable(run));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const check = args.includes('--check');
  const chosen = args.find((a) => !a.startsWith('--'));
  const file = chosen ? resolve(chosen) : newestFullRun();
  const run = JSON.parse(readFileSync(file, 'utf8')) as Run;
  const page = readFileSync(PAGE, 'utf8');
  const next = renderPage(page, run, file);
  if (check) {
    if (next !== page) {
      process.stderr.write(`docs/performance.md does not show ${basename(file)}: run node test/bench/performance-page.ts\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(PAGE, next);
    process.stderr.write(`docs/performance.md now shows ${basename(file)}\n`);
  }
}
