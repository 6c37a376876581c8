// /metrics over a real run: exchanges by outcome and policy version, revocations, HTTP requests
// by route class, and executions reported through the metrics object the executor calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { key, parseExposition } from './exposition.ts';

async function scrape(issuer: string) {
  const res = await fetch(`${issuer}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseExposition(await res.text());
}

test('exchanges, revocations, executions and HTTP requests are counted, every series prefixed writ_', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const subject = { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN };
  assert.equal((await exchange(writ, seeded.agent, { ...subject, authorization_details: details(['demo.notes.create']) })).status, 200);
  assert.equal((await exchange(writ, seeded.agent, { ...subject, authorization_details: details(['demo.notes.create']) })).status, 200);
  const denied = await exchange(writ, seeded.agent, { ...subject, authorization_details: details(['notion.pages.create']) });
  assert.equal(denied.status, 400);
  assert.equal((await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants?user_id=${seeded.user.id}`)).status, 200);
  const policyVersion = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=token.exchanged`)).json.events[0].details.policy_version as string;
  writ.metrics.observeExecution('demo.notes.create', 'ok', 0.042);
  writ.metrics.observeExecution('demo.notes.create', 'ok', 3);
  writ.metrics.observeExecution('demo.notes.create', 'upstream_timeout', 31);

  const series = await scrape(writ.issuer);
  for (const name of series.keys()) assert.match(name, /^writ_/);
  assert.equal(series.get(key('writ_token_exchanges_total', { outcome: 'issued', policy_version: policyVersion })), 2);
  // Refused before the policy ran (wider than the delegation), so no policy version decided it.
  assert.equal(series.get(key('writ_token_exchanges_total', { outcome: denied.json.error, policy_version: 'none' })), 1);
  assert.equal(series.get(key('writ_policy_decisions_total', { effect: 'allow', policy_version: policyVersion })), 2);
  assert.equal(series.get(key('writ_policy_decisions_total', { effect: 'deny', policy_version: policyVersion })), undefined, 'no decision the policy did not make');
  assert.equal(series.get(key('writ_policy_info', { policy_version: policyVersion })), 1);
  // Latency per route, with the process and event-loop metrics prom-client collects.
  assert.equal(series.get(key('writ_http_request_duration_seconds_count', { route: 'token' })), 4);
  assert.ok((series.get(key('writ_http_request_duration_seconds_sum', { route: 'token' })) ?? 0) > 0);
  assert.equal(series.get(key('writ_http_request_duration_seconds_bucket', { route: 'token', le: '+Inf' })), 4);
  for (const name of ['writ_process_cpu_user_seconds_total', 'writ_process_resident_memory_bytes', 'writ_nodejs_eventloop_lag_p99_seconds', 'writ_nodejs_heap_size_used_bytes']) {
    assert.ok(series.has(key(name)), `${name} is collected`);
  }
  assert.equal(series.get(key('writ_revocations_total', { kind: 'grant' })), 1);
  assert.equal(series.get(key('writ_http_requests_total', { route: 'token', status: '200' })), 3, 'two exchanges and the code redemption');
  assert.equal(series.get(key('writ_http_requests_total', { route: 'token', status: '400' })), 1);
  assert.ok((series.get(key('writ_http_requests_total', { route: 'admin', status: '201' })) ?? 0) >= 3, 'seeding');
  assert.equal(series.get(key('writ_tool_executions_total', { tool: 'demo.notes.create', outcome: 'ok' })), 2);
  assert.equal(series.get(key('writ_tool_execution_duration_seconds_bucket', { tool: 'demo.notes.create', outcome: 'ok', le: '0.05' })), 1);
  assert.equal(series.get(key('writ_tool_execution_duration_seconds_bucket', { tool: 'demo.notes.create', outcome: 'ok', le: '5' })), 2);
  assert.equal(series.get(key('writ_tool_execution_duration_seconds_bucket', { tool: 'demo.notes.create', outcome: 'upstream_timeout', le: '30' })), 0);
  assert.equal(series.get(key('writ_tool_execution_duration_seconds_bucket', { tool: 'demo.notes.create', outcome: 'upstream_timeout', le: '+Inf' })), 1);
  assert.equal(series.get(key('writ_tool_execution_duration_seconds_sum', { tool: 'demo.notes.create', outcome: 'ok' })), 3.042);
  assert.equal(series.get(key('writ_tool_execution_duration_seconds_count', { tool: 'demo.notes.create', outcome: 'ok' })), 2);

  // Scanner noise lands in one bounded class, not one series per path.
  for (const path of ['/wp-admin', '/.env', '/a/b/c']) await fetch(`${writ.issuer}${path}`);
  const after = await scrape(writ.issuer);
  assert.equal(after.get(key('writ_http_requests_total', { route: 'other', status: '404' })), 3);
  assert.ok(![...after.keys()].some((k) => k.includes('wp-admin')));
});

test('lease contention is counted when another holder has the refresh lease', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const now = Date.now();
  assert.equal(await writ.store.vault.acquireLease(seeded.org.id, 'acc_1', 'process-a', 30_000, now), true);
  assert.equal(await writ.store.vault.acquireLease(seeded.org.id, 'acc_1', 'process-b', 30_000, now), false);
  const series = await scrape(writ.issuer);
  assert.equal(series.get(key('writ_lease_contention_total', { lease: 'refresh' })), 1);
});
