// What every benchmark module shares: the mode and its sizes, a scratch directory, the servers
// that several modules load (started once, stopped at the end), and small measuring helpers.
import type { LoadResult } from './load/index.ts';
import type { ExchangeTarget } from './fixtures.ts';
import type { WritProcess } from './servers/writ.ts';

export type Mode = 'quick' | 'full';

/** How much work each module does; quick mode shrinks everything and says so in the JSON. */
export interface Sizes {
  /** Seconds of autocannon load per throughput figure. */
  loadSec: number;
  /** Milliseconds each in-process loop (crypto, verification) runs for. */
  loopMs: number;
  /** Distinct tokens minted for the fresh-verification loops (JWT; Biscuit minting is slower, and leaks, so fewer). */
  freshTokens: number;
  freshBiscuits: number;
  /** Biscuit authorisations checked for false denials. */
  biscuitAuthorizations: number;
  revocationSamples: number;
  seedGrants: number;
  seedAuditEvents: number;
  soakSec: number;
  /** Start-ups measured (the first on an empty data dir, the rest on the same dir). */
  startups: number;
  /** Seconds of profiled load per format; 0 skips profiling (quick mode). */
  profileSec: number;
}

export const SIZES: Record<Mode, Sizes> = {
  full: {
    loadSec: 10, loopMs: 2000, freshTokens: 20_000, freshBiscuits: 3_000, biscuitAuthorizations: 100_000, revocationSamples: 30,
    seedGrants: 100_000, seedAuditEvents: 1_000_000, soakSec: 60, startups: 5, profileSec: 10,
  },
  quick: {
    loadSec: 2, loopMs: 300, freshTokens: 300, freshBiscuits: 300, biscuitAuthorizations: 1_000, revocationSamples: 5,
    seedGrants: 5_000, seedAuditEvents: 20_000, soakSec: 4, startups: 2, profileSec: 0,
  },
};

export interface BenchContext {
  mode: Mode;
  sizes: Sizes;
  /** Scratch space: data dirs, server logs, profiles. */
  workDir: string;
  log(message: string): void;
  /** Register a clean-up that runs when the suite ends, even after a failure. */
  defer(cleanup: () => Promise<void> | void): void;
  /** One Writ child process with a delegated agent, shared by the modules that only load it. */
  mainWrit(): Promise<{ server: WritProcess; target: ExchangeTarget }>;
}

/** Figures a module reports, merged into the results by name. */
export interface Figures {
  baselines?: Record<string, number | null>;
  writ?: Record<string, number | string | null | Record<string, unknown>>;
  /** Latency percentiles per load scenario, for the plot. */
  latency?: Record<string, Record<string, number>>;
  notes?: string[];
  profile?: unknown;
}

export interface BenchModule {
  /** Short id for `--only=`. */
  id: string;
  name: string;
  run(ctx: BenchContext): Promise<Figures>;
}

/** Calls `fn` in a loop for about `ms` milliseconds; returns calls per second. `i` counts every call, warm-up included. */
export function perSecondSync(fn: (i: number) => void, ms: number): number {
  // A short warm-up so the first, unoptimised calls do not count.
  let i = 0;
  for (; i < 50; i++) fn(i);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let k = 0; k < 32; k++, n++) fn(i++);
    now = performance.now();
  }
  return (n / (now - start)) * 1000;
}

/** Async variant: awaits each call; stops early after `limit` timed calls. */
export async function perSecondAsync(fn: (i: number) => Promise<unknown>, ms: number, limit = Infinity): Promise<number> {
  let i = 0;
  for (; i < 20; i++) await fn(i);
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms && n < limit) {
    await fn(i++);
    n++;
    if ((n & 31) === 0) now = performance.now();
  }
  now = performance.now();
  return (n / (now - start)) * 1000;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/**
 * One request at a time from this process for `durationMs`, timed with performance.now(): latency
 * with microsecond resolution (autocannon's histogram has whole milliseconds, too coarse for an
 * overhead of about one). Both sides of a comparison pay the same client cost.
 */
export async function sequentialLatency(
  spec: { url: string; method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string }, durationMs: number,
): Promise<{ count: number; p50: number; p90: number; p99: number }> {
  const times: number[] = [];
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const t0 = performance.now();
    const res = await fetch(spec.url, { method: spec.method ?? 'GET', ...(spec.headers && { headers: spec.headers }), ...(spec.body !== undefined && { body: spec.body }) });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${spec.url}: ${res.status}`);
    times.push(performance.now() - t0);
  }
  return { count: times.length, p50: round(percentile(times, 50), 3), p90: round(percentile(times, 90), 3), p99: round(percentile(times, 99), 3) };
}

/** Throws when a burst had failures: a figure built on errors would be a lie. */
export function requireClean(name: string, result: LoadResult): LoadResult {
  const bad = result.non2xx + result.errors + result.timeouts;
  if (result.ok === 0 || bad > result.ok * 0.001) {
    throw new Error(`${name}: ${result.ok} ok, ${result.non2xx} non-2xx ${JSON.stringify(result.status)}, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  return result;
}

/** Samples a process's RSS every `everyMs` until stopped. */
export function sampleRss(read: () => number, everyMs = 250) {
  const samples: number[] = [read()];
  const timer = setInterval(() => { try { samples.push(read()); } catch { /* process gone */ } }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      try { samples.push(read()); } catch { /* process gone */ }
      return { samples, max: Math.max(...samples), first: samples[0]!, last: samples.at(-1)! };
    },
  };
}
