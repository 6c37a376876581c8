// Faults: the store goes away under a running server and comes back; clocks skewed by minutes
// between Writ and a verifier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { WritStore } from '../../src/storage/index.ts';
import { createVerifier } from '../../src/verifier/index.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, ACCESS_TOKEN, BISCUIT, JWT } from '../support/exchange.ts';
import { GRANTED, introspect, offsetClock } from './support.ts';

/**
 * A real sqlite store whose handle the test can close (an outage: every call fails inside
 * node:sqlite) and reopen on the same file (recovery). Only the handle is switched; every call
 * goes to the real adapter.
 */
function switchableStore(dir: string) {
  let current = openSqliteStore(dir);
  const port = (name: keyof WritStore) => new Proxy({}, {
    get: (_t, method) => {
      const target = current[name] as unknown as Record<string | symbol, unknown>;
      const value = target[method];
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  // Every port of the store, whatever ports it has, reaches the current handle.
  const store = new Proxy({} as WritStore, {
    get: (_t, name) => {
      if (name === 'kind') return 'sqlite';
      if (name === 'ping') return () => current.ping();
      if (name === 'close') return () => current.close();
      return typeof name === 'string' ? port(name as keyof WritStore) : undefined;
    },
  });
  return {
    store,
    async down() { await current.close(); },
    up() { current = openSqliteStore(dir); },
  };
}

test('the store goes away: requests answer 503 temporarily_unavailable with a clear error, and everything works again when it returns', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-fault-'));
  const switchable = switchableStore(dir);
  const writ = await startTestWrit({ dataDir: dir, writ: { store: switchable.store } });
  t.after(async () => { await writ.stop(); await switchable.store.close(); rmSync(dir, { recursive: true, force: true }); });
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: GRANTED });
  const subject = run.tokens!.access_token;
  const cap = (await exchange(writ, seeded.agent, { subject_token: subject, subject_token_type: ACCESS_TOKEN })).json.access_token;

  await switchable.down();
  const during = {
    admin: await writ.admin('GET', `/orgs/${seeded.org.id}/grants`),
    adminWrite: await writ.admin('POST', '/orgs', { name: 'During the outage' }),
    feed: await fetch(`${writ.issuer}/v1/revocations`),
    ready: await fetch(`${writ.issuer}/readyz`),
    account: await fetch(`${writ.issuer}/account?org=${seeded.org.id}`),
    exchange: await exchange(writ, seeded.agent, { subject_token: subject, subject_token_type: ACCESS_TOKEN }),
    introspect: await introspect(writ, seeded.agent, cap),
  };
  for (const [name, res] of [['admin', during.admin], ['adminWrite', during.adminWrite]] as const) {
    assert.equal(res.status, 503, `${name}: ${res.text}`);
    assert.equal(res.json.error, 'temporarily_unavailable');
    assert.match(res.json.error_description, /store/);
  }
  assert.equal(during.feed.status, 503);
  assert.equal(((await during.feed.json()) as any).error, 'temporarily_unavailable');
  assert.equal(during.feed.headers.get('retry-after'), '1');
  assert.equal(during.ready.status, 503, 'not ready while the store is down');
  assert.equal(during.account.status, 503);
  assert.match(await during.account.text(), /temporarily_unavailable/);
  // oidc-provider renders its own endpoints' errors; an outage there must still not issue anything.
  assert.ok(during.exchange.status >= 500, `exchange during the outage: ${during.exchange.status}`);
  t.diagnostic(`token endpoint during the outage: ${during.exchange.status} ${during.exchange.json.error}; introspection: ${during.introspect.status} ${JSON.stringify(during.introspect.json)}`);
  assert.equal(during.exchange.json.access_token, undefined);
  assert.notEqual(during.introspect.json.active, true, 'nothing is active while it cannot be checked');
  assert.ok(!writ.logs.some((l) => l.includes(subject)), 'no token in the logs of the outage');

  switchable.up();
  assert.equal((await fetch(`${writ.issuer}/readyz`)).status, 200);
  const after = await exchange(writ, seeded.agent, { subject_token: subject, subject_token_type: ACCESS_TOKEN });
  assert.equal(after.status, 200, JSON.stringify(after.json));
  assert.equal((await introspect(writ, seeded.agent, cap)).json.active, true);
  const orgs = (await writ.admin('GET', '/orgs')).json.orgs.map((o: any) => o.name);
  assert.ok(!orgs.includes('During the outage'), 'the write refused during the outage did not happen');
  assert.equal((await writ.admin('POST', `/orgs/${seeded.org.id}/audit/verify`)).json.ok, true, 'the audit chain is intact');
});

test('clock skew: Writ and a verifier minutes apart', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: GRANTED });
  const subject = run.tokens!.access_token;
  const request = { tool: 'demo.notes.create', resource: 'demo:notebook:team' };
  const tokens = {
    jwt: (await exchange(writ, seeded.agent, { subject_token: subject, subject_token_type: ACCESS_TOKEN, requested_token_type: JWT })).json.access_token as string,
    biscuit: (await exchange(writ, seeded.agent, { subject_token: subject, subject_token_type: ACCESS_TOKEN, requested_token_type: BISCUIT })).json.access_token as string,
  };
  // Capabilities live 5 minutes (the default policy). A verifier whose clock is:
  const cases: Array<[string, number, number | undefined, { jwt: boolean; biscuit: boolean }]> = [
    ['on time', 0, undefined, { jwt: true, biscuit: true }],
    ['2 minutes ahead', 2 * 60_000, undefined, { jwt: true, biscuit: true }],
    ['6 minutes ahead (past expiry)', 6 * 60_000, undefined, { jwt: false, biscuit: false }],
    ['6 minutes ahead with 120 s tolerance (JWT only)', 6 * 60_000, 120, { jwt: true, biscuit: false }],
    ['30 seconds behind (issued "in the future")', -30_000, undefined, { jwt: false, biscuit: true }],
    ['30 seconds behind with 60 s tolerance', -30_000, 60, { jwt: true, biscuit: true }],
    ['5 minutes behind', -5 * 60_000, undefined, { jwt: false, biscuit: true }],
  ];
  for (const [name, skew, tolerance, expected] of cases) {
    await t.test(name, async () => {
      const clock = offsetClock(skew);
      const verifier = createVerifier({ issuer: writ.issuer, audience: writ.executorResource, clock, ...(tolerance === undefined ? {} : { clockToleranceSec: tolerance }) });
      try {
        for (const format of ['jwt', 'biscuit'] as const) {
          const outcome = await verifier.verify(tokens[format], request).then(() => true, (e: any) => {
            assert.ok(['expired', 'invalid_token'].includes(e.code), e.code);
            return false;
          });
          assert.equal(outcome, expected[format], `${format}`);
        }
      } finally {
        verifier.close();
      }
    });
  }

  await t.test('Writ itself skewed: exchange under a clock 10 minutes ahead still issues tokens that expire no later than the subject', async () => {
    const skewed = await startTestWrit({ writ: { clock: offsetClock(10 * 60_000) } });
    t.after(() => skewed.stop());
    const s2 = await seedOrg(skewed);
    const r2 = await delegate(skewed, s2, { authorization_details: GRANTED });
    const res = await exchange(skewed, s2.agent, { subject_token: r2.tokens!.access_token, subject_token_type: ACCESS_TOKEN });
    // The delegated token's expiry is set by oidc-provider on the real clock; Writ's capability
    // lifetime is capped by it, measured on Writ's skewed clock.
    if (res.status === 200) assert.ok(res.json.expires_in <= 300);
    else assert.equal(res.json.error, 'invalid_grant');
    t.diagnostic(`exchange under +10 min skew: ${res.status} ${res.json.error ?? `expires_in=${res.json.expires_in}`}`);
  });
});
