// Prometheus metrics in the text exposition format (version 0.0.4), written by hand: a handful
// of counters and one histogram family need no client library. Every series is prefixed `writ_`.
import { readdirSync } from 'node:fs';
// Label values come from bounded sets (tool names, outcome codes, route classes, policy
// versions); never put an id, a token or a user-supplied string in a label.

type Labels = Record<string, string>;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

/** Prometheus floats: integers plainly, `+Inf` for the last bucket. */
const num = (n: number) => (n === Infinity ? '+Inf' : String(n));

/** A cap on distinct label sets per family, so a bug upstream cannot exhaust memory. */
const MAX_SERIES = 2000;

class Counter {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  readonly name: string;
  readonly help: string;

  constructor(name: string, help: string) {
    this.name = name;
    this.help = help;
  }

  inc(labels: Labels, by = 1): void {
    const key = labelText(labels);
    const found = this.#values.get(key);
    if (found) found.value += by;
    else if (this.#values.size < MAX_SERIES) this.#values.set(key, { labels, value: by });
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.#values.values()) lines.push(`${this.name}${labelText(labels)} ${num(value)}`);
    return lines;
  }
}

class Histogram {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];

  constructor(name: string, help: string, buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.buckets = buckets;
  }

  observe(labels: Labels, value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    const key = labelText(labels);
    let s = this.#series.get(key);
    if (!s) {
      if (this.#series.size >= MAX_SERIES) return;
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    this.buckets.forEach((le, i) => { if (value <= le) s.counts[i]!++; });
    s.sum += value;
    s.count++;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} histogram`];
    for (const s of this.#series.values()) {
      // Bucket counts are cumulative by construction: each observation lands in every `le` above it.
      this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: num(le) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

/** Seconds: from a cached local call to a slow provider round trip. */
export const EXECUTION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** What the rest of Writ reports. One instance per running Writ. */
export interface Metrics {
  /** A token exchange: `outcome` is `issued` or the refusal's error code. */
  observeExchange(outcome: string, policyVersion: string | undefined): void;
  /** An executor call: `outcome` is `ok` or the executor's error code; `seconds` wall time. */
  observeExecution(tool: string, outcome: string, seconds: number): void;
  /** A credential refresh: `ok`, `failed` (transient) or `revoked`. */
  observeRefresh(outcome: string): void;
  /** A revocation: `grant`, `account` (disconnected) or `account_upstream` (provider revoked it). */
  observeRevocation(kind: string): void;
  /** Someone else held the lease (another process or request is refreshing the same account). */
  observeLeaseContention(lease: string): void;
  observeHttpRequest(routeClass: string, status: number): void;
  /** The whole exposition, ready to serve. */
  render(): string;
}

export function createMetrics(): Metrics {
  const exchanges = new Counter('writ_token_exchanges_total', 'Token exchanges by outcome (issued or the error code) and the policy version that decided.');
  const executions = new Counter('writ_tool_executions_total', 'Executor tool calls by tool and outcome (ok or the error code).');
  const executionSeconds = new Histogram('writ_tool_execution_duration_seconds', 'Executor tool call latency in seconds, by tool and outcome.', EXECUTION_BUCKETS);
  const refreshes = new Counter('writ_credential_refreshes_total', 'Connected-account credential refreshes by outcome.');
  const revocations = new Counter('writ_revocations_total', 'Revocations by kind.');
  const contention = new Counter('writ_lease_contention_total', 'Lease acquisitions refused because another holder had the lease.');
  const http = new Counter('writ_http_requests_total', 'HTTP requests by route class and status code.');
  const started = Date.now() / 1000;

  return {
    observeExchange: (outcome, policyVersion) => exchanges.inc({ outcome, policy_version: policyVersion ?? 'none' }),
    observeExecution(tool, outcome, seconds) {
      executions.inc({ tool, outcome });
      executionSeconds.observe({ tool, outcome }, seconds);
    },
    observeRefresh: (outcome) => refreshes.inc({ outcome }),
    observeRevocation: (kind) => revocations.inc({ kind }),
    observeLeaseContention: (lease) => contention.inc({ lease }),
    observeHttpRequest: (routeClass, status) => http.inc({ route: routeClass, status: String(status) }),
    render() {
      const lines = [
        '# HELP writ_process_start_time_seconds Start time of this process in seconds since the Unix epoch.',
        '# TYPE writ_process_start_time_seconds gauge',
        `writ_process_start_time_seconds ${started}`,
        ...processGauges(),
      ];
      for (const family of [exchanges, executions, executionSeconds, refreshes, revocations, contention, http]) lines.push(...family.render());
      return lines.join('\n') + '\n';
    },
  };
}

/** Memory and descriptors of this process, read at scrape time. */
function processGauges(): string[] {
  const m = process.memoryUsage();
  const gauge = (name: string, help: string, value: number) => [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`];
  let fds: number | undefined;
  try { fds = readdirSync('/proc/self/fd').length; } catch { fds = undefined; }
  return [
    ...gauge('writ_process_resident_memory_bytes', 'Resident set size.', m.rss),
    ...gauge('writ_process_heap_used_bytes', 'V8 heap in use.', m.heapUsed),
    ...gauge('writ_process_heap_total_bytes', 'V8 heap reserved.', m.heapTotal),
    ...gauge('writ_process_external_memory_bytes', 'Memory outside the V8 heap held by JavaScript objects (wasm memory, buffers).', m.external),
    ...(fds === undefined ? [] : gauge('writ_process_open_fds', 'Open file descriptors.', fds)),
  ];
}
