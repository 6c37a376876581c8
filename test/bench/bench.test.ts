// Proves the benchmark harness works end to end on a tiny scale: the Ed25519 baseline loop, one
// exchange burst from a separate autocannon process against a real Writ, the profile reader and
// the report. No timing is asserted: the figures are only checked to be figures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestWrit } from '../support/writ.ts';
import { ed25519Rates } from './modules/crypto.ts';
import { exchangeBurst } from './modules/exchange.ts';
import { delegatedTarget } from './fixtures.ts';
import { evaluateTargets } from './targets.ts';
import { latencySvg, markdownReport } from './report.ts';

test('the Ed25519 baseline loop reports a rate for signing and verifying', () => {
  const rates = ed25519Rates(20);
  assert.ok(Number.isFinite(rates.sign) && rates.sign > 0);
  assert.ok(Number.isFinite(rates.verify) && rates.verify > 0);
});

test('an exchange burst of 50 requests from a separate autocannon process gets 50 capabilities from a real Writ', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const target = await delegatedTarget(writ);
  const result = await exchangeBurst(target, 'jwt', { amount: 50, connections: 4 });
  assert.equal(result.ok, 50);
  assert.equal(result.non2xx + result.errors + result.timeouts, 0);
  assert.ok(result.rps > 0);
  assert.ok(typeof result.latency.p99 === 'number');
  const exchanged = (await writ.admin('GET', `/orgs/${target.org_id}/audit?type=token.exchanged&limit=100`)).json.events;
  assert.equal(exchanged.length, 50, 'each request was a real, audited exchange');

  const targets = evaluateTargets({ oidc_client_credentials_rps: result.rps * 2 }, { exchange_jwt_rps: result.rps });
  const jwtTarget = targets.find((x) => x.id === 'exchange_jwt_rps')!;
  assert.equal(jwtTarget.ratio, 0.5);
  assert.equal(jwtTarget.pass, true);
  assert.equal(targets.find((x) => x.id === 'execute_rps')!.note, 'pending: executor');

  const svg = latencySvg({ 'exchange → JWT': result.latency }, 'tiny run');
  assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.match(svg, /<polyline /);
  const md = markdownReport({ date: 'today', mode: 'test', machine: {}, method: {}, baselines: {}, writ: { exchange_jwt_rps: result.rps }, targets, notes: [], errors: {} }, 'plot.svg');
  assert.match(md, /\| exchange_jwt_rps \|/);
});

test('a load burst refuses to leave loopback', async () => {
  await assert.rejects(exchangeBurst({ url: 'http://192.0.2.1', issuer: '', executorResource: '', org_id: '', client: { client_id: 'a', client_secret: 'b' }, subject: 's' }, 'jwt', { amount: 1 }), /loopback/);
});

test('a run goes on the performance page between its markers, and nothing else on the page changes', async () => {
  const { renderPage } = await import('./performance-page.ts');
  const run = {
    date: '2026-12-01T10:00:00.000Z', mode: 'full', errors: {},
    machine: { cpus: 2, cpu_model: 'test cpu', memory_gb: 8, node: 'v24' },
    baselines: { ed25519_verify_per_s: 10_000 }, writ: { verify_biscuit_per_s: 2_500 },
    targets: evaluateTargets({ ed25519_verify_per_s: 10_000 }, { verify_biscuit_per_s: 2_500 }),
  };
  const page = ['# Performance', 'before', '<!-- bench:run:start -->', 'old run', '<!-- bench:run:end -->', 'between', '<!-- bench:targets:start -->', '| old |', '<!-- bench:targets:end -->', 'after', ''].join('\n');
  const next = renderPage(page, run, '/x/2026-12-01T10-00-00.json');
  assert.match(next, /results\/2026-12-01T10-00-00\.json/);
  assert.match(next, /\| `verify_biscuit_per_s` ≥ 0\.2 × ed25519_verify_per_s \| 2,500 \| 10,000 \(ed25519_verify_per_s\) \| 0\.25 × \| pass \|/);
  assert.doesNotMatch(next, /old run|\| old \|/);
  for (const kept of ['# Performance', 'before', 'between', 'after']) assert.ok(next.includes(`\n${kept}\n`) || next.startsWith(`${kept}\n`), kept);
  assert.equal(renderPage(next, run, '/x/2026-12-01T10-00-00.json'), next, 'rendering the same run again changes nothing');
  assert.throws(() => renderPage('# no markers', run, 'x.json'), /markers/);
});
