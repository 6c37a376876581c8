// Prometheus metrics through prom-client: one registry per running Writ, with the library's
// process and event-loop metrics, Writ's counters and latency histograms, all prefixed `writ_`.
// Under `writ serve` with WRIT_WORKERS, the worker answering /metrics asks the primary, which
// collects every worker's registry and sums them (prom-client's AggregatorRegistry), so
// successive scrapes through the shared port never see a counter go back.
//
// Label values come from bounded sets (tool names, outcome codes, route classes, policy
// versions); never put an id, a token or a user-supplied string in a label.
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import client from 'prom-client';

const { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = client;

/** Seconds: from a cached local call to a slow provider round trip. */
export const EXECUTION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;
/** Seconds: Writ's own handlers, from a cached read to a slow store. */
export const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** A cap on distinct label sets per family, so a bug upstream cannot exhaust memory. */
const MAX_SERIES = 2000;

/** What the rest of Writ reports. One instance per running Writ. */
export interface Metrics {
  /** A token exchange: `outcome` is `issued` or the refusal's error code. */
  observeExchange(outcome: string, policyVersion: string | undefined): void;
  /** A decision of the policy engine at the exchange: `allow` or `deny`, by the version that made it. */
  observePolicyDecision(effect: 'allow' | 'deny', policyVersion: string): void;
  /** A policy reload: `changed`, `unchanged` or `failed` (the previous set stays in force). */
  observePolicyReload(outcome: 'changed' | 'unchanged' | 'failed'): void;
  /** The policy version in force (a gauge of 1 labelled with it). */
  setPolicyVersion(policyVersion: string): void;
  /** An executor call: `outcome` is `ok` or the executor's error code; `seconds` wall time. */
  observeExecution(tool: string, outcome: string, seconds: number): void;
  /** A credential refresh: `ok`, `failed` (transient) or `revoked`. */
  observeRefresh(outcome: string): void;
  /** A revocation: `grant`, `account` (disconnected) or `account_upstream` (provider revoked it). */
  observeRevocation(kind: string): void;
  /** Someone else held the lease (another process or request is refreshing the same account). */
  observeLeaseContention(lease: string): void;
  /** An HTTP request by route class, with its status and how long Writ took to answer. */
  observeHttpRequest(routeClass: string, status: number, seconds?: number): void;
  /** The whole exposition, ready to serve: this process's, or every worker's summed under cluster mode. */
  render(): Promise<string>;
}

type Labels = Record<string, string>;

/** Counts label sets per family and refuses new ones past the cap. */
function capped() {
  const seen = new Set<string>();
  return (labels: Labels): boolean => {
    const key = JSON.stringify(labels);
    if (seen.has(key)) return true;
    if (seen.size >= MAX_SERIES) return false;
    seen.add(key);
    return true;
  };
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'writ_' });
  const counter = (name: string, help: string, labelNames: string[]) => {
    const c = new Counter({ name, help, labelNames, registers: [registry] });
    const admit = capped();
    return (labels: Labels, by = 1) => { if (admit(labels)) c.inc(labels, by); };
  };
  const histogram = (name: string, help: string, labelNames: string[], buckets: readonly number[]) => {
    const h = new Histogram({ name, help, labelNames, buckets: [...buckets], registers: [registry] });
    const admit = capped();
    return (labels: Labels, value: number) => { if (Number.isFinite(value) && value >= 0 && admit(labels)) h.observe(labels, value); };
  };

  const exchanges = counter('writ_token_exchanges_total', 'Token exchanges by outcome (issued or the error code) and the policy version that decided.', ['outcome', 'policy_version']);
  const decisions = counter('writ_policy_decisions_total', 'Policy engine decisions at the token exchange, by effect and policy version.', ['effect', 'policy_version']);
  const reloads = counter('writ_policy_reloads_total', 'Policy directory reloads by outcome (changed, unchanged, failed: the previous set stays in force).', ['outcome']);
  // Summed over workers this would count them; each says 1 for the version it holds.
  const policyInfo = new Gauge({ name: 'writ_policy_info', help: 'The policy version in force (1).', labelNames: ['policy_version'], registers: [registry], aggregator: 'max' });
  const executions = counter('writ_tool_executions_total', 'Executor tool calls by tool and outcome (ok or the error code).', ['tool', 'outcome']);
  const executionSeconds = histogram('writ_tool_execution_duration_seconds', 'Executor tool call latency in seconds, by tool and outcome.', ['tool', 'outcome'], EXECUTION_BUCKETS);
  const refreshes = counter('writ_credential_refreshes_total', 'Connected-account credential refreshes by outcome.', ['outcome']);
  const revocations = counter('writ_revocations_total', 'Revocations by kind.', ['kind']);
  const contention = counter('writ_lease_contention_total', 'Lease acquisitions refused because another holder had the lease.', ['lease']);
  const http = counter('writ_http_requests_total', 'HTTP requests by route class and status code.', ['route', 'status']);
  const httpSeconds = histogram('writ_http_request_duration_seconds', 'Time Writ took to answer an HTTP request, in seconds, by route class.', ['route'], HTTP_BUCKETS);

  const local = () => registry.metrics();
  const render = cluster.isWorker && typeof process.send === 'function' ? workerRender(registry, local) : local;

  return {
    observeExchange: (outcome, policyVersion) => exchanges({ outcome, policy_version: policyVersion ?? 'none' }),
    observePolicyDecision: (effect, policyVersion) => decisions({ effect, policy_version: policyVersion }),
    observePolicyReload: (outcome) => reloads({ outcome }),
    setPolicyVersion(policyVersion) {
      policyInfo.reset();
      policyInfo.set({ policy_version: policyVersion }, 1);
    },
    observeExecution(tool, outcome, seconds) {
      executions({ tool, outcome });
      executionSeconds({ tool, outcome }, seconds);
    },
    observeRefresh: (outcome) => refreshes({ outcome }),
    observeRevocation: (kind) => revocations({ kind }),
    observeLeaseContention: (lease) => contention({ lease }),
    observeHttpRequest(routeClass, status, seconds) {
      http({ route: routeClass, status: String(status) });
      if (seconds !== undefined) httpSeconds({ route: routeClass }, seconds);
    },
    render,
  };
}

// ---- cluster mode -----------------------------------------------------------------------------

const ASK = 'writ:metrics-request';
const ANSWER = 'writ:metrics-answer';
const ASK_TIMEOUT_MS = 5000;

/**
 * In a worker: this registry is what the primary collects, and /metrics asks the primary for the
 * sum over every worker. Should the primary not answer, the worker serves its own metrics rather
 * than nothing.
 */
function workerRender(registry: InstanceType<typeof Registry>, local: () => Promise<string>): () => Promise<string> {
  // Constructing an AggregatorRegistry in a worker installs prom-client's answer to the primary's collection.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  return () => new Promise<string>((resolve) => {
    const id = randomUUID();
    const timer = setTimeout(() => { process.off('message', onMessage); void local().then(resolve); }, ASK_TIMEOUT_MS);
    const onMessage = (message: unknown) => {
      const m = message as { type?: string; id?: string; text?: string } | null;
      if (m?.type !== ANSWER || m.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (typeof m.text === 'string') resolve(m.text);
      else void local().then(resolve);
    };
    process.on('message', onMessage);
    process.send!({ type: ASK, id });
  });
}

/**
 * In the primary of `writ serve`: answers a worker's request for the cluster's metrics with every
 * connected worker's registries summed.
 */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    const m = message as { type?: string; id?: string } | null;
    if (m?.type !== ASK || typeof m.id !== 'string') return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: ANSWER, id: m.id, text }),
      () => worker.send({ type: ANSWER, id: m.id }),
    );
  });
}
