// Load generation in a separate process (autocannon), over loopback only.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LoadSpec {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Concurrent connections (default 16). */
  connections?: number;
  /** Stop after this many requests… */
  amount?: number;
  /** …or after this many seconds (default 5). */
  durationSec?: number;
}

export interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  durationSec: number;
  /** Successful requests per second. */
  rps: number;
  /** Milliseconds: mean, max and autocannon's percentiles (`p50`, `p99`, `p99_9`, …). */
  latency: Record<string, number>;
  status: Record<string, number>;
}

const CHILD = fileURLToPath(new URL('./autocannon-child.ts', import.meta.url));

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    throw new Error(`load is only ever sent to loopback, not ${host}`);
  }
}

/** Runs one burst in a child process and returns its summary. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  assertLoopback(spec.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CHILD, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { out += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { err += chunk; });
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').at(-1);
      if (code !== 0 || !line) return reject(new Error(`load generator exited with ${code}: ${err.slice(0, 500)}`));
      resolve(JSON.parse(line) as LoadResult);
    });
  });
}

/** Several bursts at once (one process each), e.g. one per worker process. */
export function runLoads(specs: LoadSpec[]): Promise<LoadResult[]> {
  return Promise.all(specs.map(runLoad));
}
