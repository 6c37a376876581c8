// /metrics under `writ serve` with two workers: whichever worker answers, the scrape is every
// worker's registry summed by the primary, so counters never go back between scrapes and a
// policy reload is seen in both workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readySignal } from '../support/process.ts';
import { serveWrit } from '../support/workers.ts';
import { waitFor } from '../support/wait.ts';
import { key, parseExposition } from './exposition.ts';

/** A request on a fresh connection, its body read to the end. */
async function get(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { headers: { connection: 'close' } });
  return { status: res.status, text: await res.text() };
}

test('two workers, one exposition: counters are summed over the workers and never go back', async (t) => {
  const policies = mkdtempSync(join(tmpdir(), 'writ-metrics-policies-'));
  copyFileSync(join(import.meta.dirname, '../../policies/default.yaml'), join(policies, 'default.yaml'));
  const served = await serveWrit({ WRIT_WORKERS: '2', WRIT_POLICIES: policies, WRIT_LOG_LEVEL: 'info' });
  t.after(async () => {
    await served.stop();
    rmSync(policies, { recursive: true, force: true });
  });
  const url = served.issuer;
  // Both workers serve before the first request, so the cluster can hand requests to either.
  await readySignal(served.child, served.output, { count: 2 });
  const scrape = async () => {
    const res = await get(`${url}/metrics`);
    assert.equal(res.status, 200);
    return parseExposition(res.text);
  };

  // Fresh connections: the cluster hands them to the workers in turn.
  for (let i = 0; i < 20; i++) assert.equal((await get(`${url}/openapi.json`)).status, 200);
  let previous = 0;
  for (let scrapeNo = 0; scrapeNo < 6; scrapeNo++) {
    const series = await scrape();
    assert.equal(series.get(key('writ_http_requests_total', { route: 'openapi', status: '200' })), 20, `scrape ${scrapeNo}: both workers' requests, summed`);
    assert.equal(series.get(key('writ_http_request_duration_seconds_count', { route: 'openapi' })), 20);
    const scrapes = series.get(key('writ_http_requests_total', { route: 'metrics', status: '200' })) ?? 0;
    assert.ok(scrapes >= previous, `scrape ${scrapeNo}: the scrape counter went from ${previous} back to ${scrapes}`);
    previous = scrapes;
    assert.ok(series.has(key('writ_process_resident_memory_bytes')), 'process metrics of the workers');
  }

  // A policy file added: each worker reloads, and the exposition says so for both.
  const before = (await scrape()).get(key('writ_policy_reloads_total', { outcome: 'changed' })) ?? 0;
  writeFileSync(join(policies, 'short.yaml'), 'version: 1\nrules:\n  - id: short-lived\n    description: Capabilities live a minute.\n    effect: allow\n    match: {}\n    constraints: { max_ttl: 1m }\n');
  await waitFor('both workers to reload the policies', async () => ((await scrape()).get(key('writ_policy_reloads_total', { outcome: 'changed' })) ?? 0) >= before + 2);
  const versions = [...(await scrape()).keys()].filter((k) => k.startsWith('writ_policy_info{'));
  assert.equal(versions.length, 1, `one policy version in force across the workers: ${versions.join(' ')}`);
});
