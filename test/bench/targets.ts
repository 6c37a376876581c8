// The performance targets: each a ratio against a baseline measured in the same run (or an
// absolute bound where the issue sets one). Reported as pass/fail, never asserted in a test.

export interface TargetResult {
  id: string;
  target: string;
  value: number | null;
  /** The figure the value is compared with, when the target is relative. */
  baseline?: { name: string; value: number | null };
  /** value / baseline (or value − baseline for latency overheads). */
  ratio?: number | null;
  pass: boolean | null;
  note?: string;
}

type Figures = Record<string, unknown>;

const num = (figures: Figures, name: string): number | null => {
  const v = figures[name];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};
const r3 = (x: number) => Math.round(x * 1000) / 1000;

function atLeast(id: string, value: number | null, baselineName: string, baseline: number | null, factor: number): TargetResult {
  const ratio = value !== null && baseline ? r3(value / baseline) : null;
  return { id, target: `≥ ${factor} × ${baselineName}`, value, baseline: { name: baselineName, value: baseline }, ratio, pass: ratio === null ? null : ratio >= factor };
}

function atMostTimes(id: string, value: number | null, baselineName: string, baseline: number | null, factor: number): TargetResult {
  const ratio = value !== null && baseline ? r3(value / baseline) : null;
  return { id, target: `≤ ${factor} × ${baselineName}`, value, baseline: { name: baselineName, value: baseline }, ratio, pass: ratio === null ? null : ratio <= factor };
}

function atMost(id: string, value: number | null, bound: number, unit: string): TargetResult {
  return { id, target: `≤ ${bound} ${unit}`, value, pass: value === null ? null : value <= bound };
}

function overhead(id: string, value: number | null, baselineName: string, baseline: number | null, bound: number): TargetResult {
  const diff = value !== null && baseline !== null ? Math.round((value - baseline) * 100) / 100 : null;
  return { id, target: `≤ ${baselineName} + ${bound} ms`, value, baseline: { name: baselineName, value: baseline }, ratio: diff, pass: diff === null ? null : diff <= bound };
}

export function evaluateTargets(baselines: Figures, writ: Figures): TargetResult[] {
  const b = (name: string) => num(baselines, name);
  const w = (name: string) => num(writ, name);
  const authorizations = w('biscuit_authorizations');
  const denials = w('biscuit_false_denials');
  const targets: TargetResult[] = [
    atLeast('exchange_jwt_rps', w('exchange_jwt_rps'), 'oidc_client_credentials_rps', b('oidc_client_credentials_rps'), 0.5),
    atMostTimes('exchange_jwt_p99_ms', w('exchange_jwt_p99_ms'), 'oidc_client_credentials_p99_ms', b('oidc_client_credentials_p99_ms'), 3),
    atLeast('exchange_biscuit_rps', w('exchange_biscuit_rps'), 'oidc_client_credentials_rps', b('oidc_client_credentials_rps'), 0.3),
    atLeast('exchange_seeded_rps', w('exchange_seeded_rps'), 'exchange_empty_rps', w('exchange_empty_rps'), 0.9),
    atMostTimes('exchange_two_workers_cpu_ms', w('exchange_two_workers_cpu_ms'), 'exchange_one_worker_cpu_ms', w('exchange_one_worker_cpu_ms'), 1.15),
    {
      ...atLeast('exchange_two_workers_rps', w('exchange_two_workers_rps'), 'exchange_one_worker_rps', w('exchange_one_worker_rps'), 1.6),
      pass: null,
      note: 'reported, not judged: two servers and two load generators share the cores; a fair test needs at least one core per process (see docs/performance.md)',
    },
    atLeast('verify_jwt_per_s', w('verify_jwt_per_s'), 'ed25519_verify_per_s', b('ed25519_verify_per_s'), 0.6),
    atLeast('verify_jwt_cached_per_s', w('verify_jwt_cached_per_s'), 'ed25519_verify_per_s', b('ed25519_verify_per_s'), 10),
    atLeast('verify_biscuit_per_s', w('verify_biscuit_per_s'), 'ed25519_verify_per_s', b('ed25519_verify_per_s'), 0.2),
    atLeast('verify_biscuit_cached_per_s', w('verify_biscuit_cached_per_s'), 'ed25519_verify_per_s', b('ed25519_verify_per_s'), 2),
    {
      id: 'biscuit_false_denials', target: '0 in 100,000', value: denials,
      pass: denials === null ? null : denials === 0 && (authorizations ?? 0) >= 100_000,
      ...(authorizations !== null && authorizations < 100_000 && { note: `only ${authorizations} authorisations in this run (quick mode): not a full check` }),
    },
    overhead('execute_seq_p50_ms', w('execute_seq_p50_ms'), 'direct_upstream_seq_p50_ms', b('direct_upstream_seq_p50_ms'), 1),
    overhead('execute_seq_p99_ms', w('execute_seq_p99_ms'), 'direct_upstream_seq_p99_ms', b('direct_upstream_seq_p99_ms'), 5),
    atLeast('execute_rps', w('execute_rps'), 'direct_upstream_rps', b('direct_upstream_rps'), 0.5),
    atMost('revocation_propagation_p99_ms', w('revocation_propagation_p99_ms'), 1000, 'ms'),
    atMost('startup_ms', w('startup_ms'), 1500, 'ms'),
    atMost('rss_mb_jwt_load', w('rss_mb_jwt_load'), 300, 'MB'),
    atMost('rss_mb_biscuit_load', w('rss_mb_biscuit_load'), 300, 'MB'),
    atMost('rss_mb_mixed_load', w('rss_mb_mixed_load'), 300, 'MB'),
    atMost('soak_rss_growth_pct', w('soak_rss_growth_pct'), 5, '%'),
  ];
  for (const t of targets) if (t.id.startsWith('execute') && t.value === null) t.note = 'pending: executor';
  return targets;
}
