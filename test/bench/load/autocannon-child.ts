// Runs in its own process: one autocannon burst described by a JSON argument, result as one JSON
// line on stdout. The load generator never shares an event loop (or a core's time slice) with the
// server it measures, nor with the orchestrating benchmark.
import { createRequire } from 'node:module';
import type { LoadSpec } from './index.ts';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

interface Histogram { average: number; mean: number; max: number; [percentile: string]: number }
interface AutocannonResult {
  requests: Histogram; latency: Histogram; throughput: Histogram;
  duration: number; errors: number; timeouts: number; non2xx: number; '2xx': number;
  statusCodeStats?: Record<string, { count: number }>;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const result = await autocannon({
  url: spec.url,
  method: spec.method ?? 'GET',
  headers: spec.headers ?? {},
  ...(spec.body !== undefined && { body: spec.body }),
  connections: spec.connections ?? 16,
  ...(spec.amount !== undefined ? { amount: spec.amount } : { duration: spec.durationSec ?? 5 }),
  timeout: 10,
});
const ok = result['2xx'];
const percentiles: Record<string, number> = {};
for (const [key, value] of Object.entries(result.latency)) if (key.startsWith('p')) percentiles[key] = value;
process.stdout.write(JSON.stringify({
  ok,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  durationSec: result.duration,
  // Only successful answers count towards throughput.
  rps: ok / result.duration,
  latency: { mean: result.latency.mean, max: result.latency.max, ...percentiles },
  status: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count])),
}) + '\n');
