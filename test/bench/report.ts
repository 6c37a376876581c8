// The human-readable side of a run: a markdown report (targets, figures, profile) and an SVG
// latency-percentile plot drawn here, without a plotting package.
import type { TargetResult } from './targets.ts';

const PERCENTILES: Array<[string, number]> = [['p50', 50], ['p75', 75], ['p90', 90], ['p97_5', 97.5], ['p99', 99], ['p99_9', 99.9]];
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Latency (ms, log scale) against percentile (spaced by −log10(1 − p)), one line per scenario. */
export function latencySvg(latency: Record<string, Record<string, number>>, title: string): string {
  const W = 760; const H = 420; const L = 60; const R = 250; const T = 40; const B = 50;
  const series = Object.entries(latency);
  const values = series.flatMap(([, l]) => PERCENTILES.map(([k]) => l[k] ?? 0)).filter((v) => v > 0);
  const maxY = Math.max(10, ...values);
  const top = 10 ** Math.ceil(Math.log10(maxY));
  const y = (ms: number) => T + (H - T - B) * (1 - Math.log10(Math.max(ms, 1)) / Math.log10(top));
  const xs = PERCENTILES.map(([, p]) => -Math.log10(1 - p / 100));
  const x = (i: number) => L + ((W - L - R) * (xs[i]! - xs[0]!)) / (xs.at(-1)! - xs[0]!);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${L}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let d = 1; d <= top; d *= 10) {
    out.push(`<line x1="${L}" x2="${W - R}" y1="${y(d)}" y2="${y(d)}" stroke="#ddd"/>`);
    out.push(`<text x="${L - 6}" y="${y(d) + 4}" text-anchor="end">${d} ms</text>`);
  }
  PERCENTILES.forEach(([k], i) => {
    out.push(`<line x1="${x(i)}" x2="${x(i)}" y1="${T}" y2="${H - B}" stroke="#eee"/>`);
    out.push(`<text x="${x(i)}" y="${H - B + 16}" text-anchor="middle">${k.replace('_', '.')}</text>`);
  });
  out.push(`<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">percentile (autocannon, 16 connections)</text>`);
  series.forEach(([name, l], s) => {
    const colour = COLOURS[s % COLOURS.length]!;
    const points = PERCENTILES.map(([k], i) => `${x(i).toFixed(1)},${y(l[k] ?? 0).toFixed(1)}`);
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.join(' ')}"/>`);
    for (const p of points) { const [px, py] = p.split(','); out.push(`<circle cx="${px}" cy="${py}" r="3" fill="${colour}"/>`); }
    out.push(`<rect x="${W - R + 16}" y="${T + s * 22}" width="14" height="4" fill="${colour}"/>`);
    out.push(`<text x="${W - R + 36}" y="${T + s * 22 + 6}">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

interface ReportInput {
  date: string;
  mode: string;
  machine: Record<string, unknown>;
  baselines: Record<string, number | null>;
  writ: Record<string, unknown>;
  targets: TargetResult[];
  notes: string[];
  errors: Record<string, string>;
  profile?: unknown;
  method: Record<string, unknown>;
}

const fmt = (v: unknown): string => (v === null || v === undefined ? '—' : typeof v === 'number' ? String(v) : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function markdownReport(results: ReportInput, svgFile: string): string {
  const lines: string[] = [];
  lines.push(`# Benchmark run ${results.date} (${results.mode})`, '');
  const m = results.machine;
  lines.push(`Machine: ${m.cpus} × ${m.cpu_model}, ${m.memory_gb} GB, Node ${m.node}. ${fmt(results.method.load_generator)}; ${fmt(results.method.servers)}.`, '');
  if (results.method.quick) lines.push(`**Quick mode**: ${fmt(results.method.quick)}.`, '');
  lines.push('## Targets', '', '| figure | value | target | baseline | ratio | result |', '| --- | ---: | --- | ---: | ---: | --- |');
  for (const t of results.targets) {
    const result = t.pass === null ? (t.note ?? 'not measured') : t.pass ? 'pass' : 'FAIL';
    lines.push(`| ${t.id} | ${fmt(t.value)} | ${t.target} | ${t.baseline ? `${fmt(t.baseline.value)} (${t.baseline.name})` : ''} | ${fmt(t.ratio)} | ${result}${t.note && t.pass !== null ? ` (${t.note})` : ''} |`);
  }
  lines.push('', '## Baselines (same run)', '', '| baseline | value |', '| --- | ---: |');
  for (const [k, v] of Object.entries(results.baselines)) lines.push(`| ${k} | ${fmt(v)} |`);
  lines.push('', '## Writ figures', '', '| figure | value |', '| --- | ---: |');
  for (const [k, v] of Object.entries(results.writ)) lines.push(`| ${k} | ${fmt(v)} |`);
  lines.push('', '## Latency', '', `![latency percentiles](${svgFile})`, '');
  const profile = results.profile as Record<string, { rps_while_profiled: number; busy_ms: number; by_area: Array<{ name: string; pct: number }>; by_function: Array<{ name: string; pct: number }> }> | undefined;
  if (profile && typeof profile === 'object') {
    lines.push('## CPU profile (self time, % of busy time)', '');
    for (const format of ['jwt', 'biscuit']) {
      const p = profile[format];
      if (!p) continue;
      lines.push(`### Exchange → ${format} (${p.rps_while_profiled} rps while profiled, ${p.busy_ms} ms busy)`, '', '| area | % | | function | % |', '| --- | ---: | --- | --- | ---: |');
      for (let i = 0; i < 12; i++) {
        const a = p.by_area[i]; const f = p.by_function[i];
        lines.push(`| ${a ? esc(a.name) : ''} | ${a?.pct ?? ''} | | ${f ? `\`${f.name}\`` : ''} | ${f?.pct ?? ''} |`);
      }
      lines.push('');
    }
  }
  if (results.notes.length) lines.push('## Notes', '', ...results.notes.map((n) => `- ${n}`), '');
  if (Object.keys(results.errors).length) lines.push('## Modules that failed', '', ...Object.entries(results.errors).map(([k, v]) => `- ${k}: ${v}`), '');
  return lines.join('\n');
}
