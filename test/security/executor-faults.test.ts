// Provider faults against the executor, on real sockets: the demo provider answers 500/503, rate
// limits, hangs, drops the connection or sends broken JSON; its token endpoint fails during a
// refresh. Each fault gets its exact executor error; none marks the account revoked, and the
// next call after the fault clears succeeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort, startWritWithDemo } from '../support/connect.ts';
import { skippingClock } from '../support/clock.ts';
import { seedOrg } from '../support/writ.ts';
import { accountStatus, connectDemo, demoScene, execute, DEMO_TOOLS, type DemoScene } from './executor-support.ts';
import type { Fault } from '../../src/demo/provider/index.ts';

const TIMEOUT_MS = 500;

async function healthy(s: DemoScene, cap: string, label: string) {
  const res = await execute(s.writ, 'demo.notes.list', cap, {});
  assert.equal(res.status, 200, `${label}: the next call after the fault cleared: ${res.text}`);
  assert.equal(await accountStatus(s.writ, s.seeded.org.id, s.account_id), 'active', `${label}: the account is still active`);
}

test('provider faults: the exact executor error, the account untouched, and the next call succeeds', async (t) => {
  const s = await demoScene({ env: { WRIT_EXECUTOR_TIMEOUT_MS: String(TIMEOUT_MS) } });
  t.after(() => s.stop());
  const cap = await s.capability('demo.notes.list');
  await healthy(s, cap, 'before any fault');

  const cases: Array<[string, Fault, number, string, (json: any, headers: Headers) => void]> = [
    ['500', { kind: 'status', status: 500, times: 1 }, 502, 'upstream_error', (j) => assert.equal(j.error.provider_status, 500)],
    ['503', { kind: 'status', status: 503, times: 1 }, 502, 'upstream_error', (j) => assert.equal(j.error.provider_status, 503)],
    ['429 with Retry-After', { kind: 'rate_limit', retryAfterSeconds: 7, times: 1 }, 429, 'rate_limited', (j, h) => {
      assert.equal(j.error.provider_status, 429);
      assert.equal(h.get('retry-after'), '7', 'the provider\'s Retry-After is passed on as a header');
    }],
    ['hangs past the timeout', { kind: 'hang', times: 1 }, 504, 'upstream_timeout', () => {}],
    ['closes the connection', { kind: 'close', times: 1 }, 502, 'upstream_error', (j) => assert.equal(j.error.provider_status, null)],
    ['malformed JSON', { kind: 'malformed_json', times: 1 }, 502, 'upstream_error', (j) => assert.equal(j.error.provider_status, 200)],
  ];
  for (const [name, fault, status, code, check] of cases) {
    const calls = s.demo.stats.apiCalls;
    s.demo.setFault(fault);
    const res = await execute(s.writ, 'demo.notes.list', cap, {});
    assert.equal(res.status, status, `${name}: ${res.text}`);
    assert.equal(res.json.error.code, code, name);
    check(res.json, res.headers);
    assert.equal(s.demo.stats.apiCalls, calls + 1, `${name}: one upstream call, no retry`);
    await healthy(s, cap, name);
  }

  const org = s.seeded.org.id;
  const denied = (await s.writ.admin('GET', `/orgs/${org}/audit?type=tool.denied`)).json.events as any[];
  assert.deepEqual(denied.map((e) => e.details.outcome).sort(), cases.map((c) => c[3]).sort(), 'each fault is one tool.denied event with its outcome');
  assert.equal((await s.writ.admin('GET', `/orgs/${org}/audit?type=account.revoked`)).json.events.length, 0, 'no fault revoked the account');
});

/** A pass-through proxy for the demo provider's token endpoint that can be switched to answer 503. */
async function tokenEndpointProxy(port: number) {
  let upstream = '';
  let failing = false;
  let seen = 0;
  const server: Server = createServer((req, res) => {
    forward(req, res).catch(() => { if (!res.headersSent) res.writeHead(502); res.end(); });
  });
  async function forward(req: IncomingMessage, res: ServerResponse) {
    seen++;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (failing) {
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}');
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length' && k !== 'connection') headers[k] = v;
    const answer = await fetch(`${upstream}${req.url}`, { method: req.method!, headers, ...(chunks.length ? { body: Buffer.concat(chunks) } : {}) });
    const out: Record<string, string> = {};
    answer.headers.forEach((v, k) => { if (k !== 'content-encoding' && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v; });
    res.writeHead(answer.status, out).end(Buffer.from(await answer.arrayBuffer()));
  }
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    set upstream(url: string) { upstream = url; },
    set failing(on: boolean) { failing = on; },
    get seen() { return seen; },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

test('token endpoint 5xx during a refresh: a cooldown, no revocation, and no hammering', async (t) => {
  const proxy = await tokenEndpointProxy(await freePort());
  t.after(() => proxy.close());
  // The demo connector's token endpoint goes through the proxy (connect and refresh alike).
  const clock = skippingClock();
  const { writ, demo } = await startWritWithDemo({
    accessTokenTtlSeconds: 62, clock,
    env: { WRIT_CONNECTOR_ENDPOINTS: JSON.stringify({ demo: { token_url: `${proxy.url}/token` } }) },
  });
  t.after(async () => { await writ.stop(); await demo.close(); });
  proxy.upstream = demo.url;
  const seeded = await seedOrg(writ, { tools: DEMO_TOOLS });
  const s = { writ, demo, seeded, ...(await connectDemo(writ, seeded)) };
  assert.ok(proxy.seen >= 1, 'the connect flow\'s code exchange went through the proxy');
  const org = s.seeded.org.id;
  const cap = await s.capability('demo.notes.list');
  // Writ skips ahead: the 62 s access token now expires within the refresher's 60 s skew.
  clock.advance(3_000);

  proxy.failing = true;
  const seenBefore = proxy.seen;
  const calls = s.demo.stats.apiCalls;
  const first = await execute(s.writ, 'demo.notes.list', cap, {});
  assert.equal(first.status, 502, first.text);
  assert.equal(first.json.error.code, 'upstream_error');
  assert.equal(proxy.seen - seenBefore, 3, 'one attempt and two retries with backoff');
  assert.equal(await accountStatus(s.writ, org, s.account_id), 'active', 'a 5xx on refresh is not a revocation');

  const during = await execute(s.writ, 'demo.notes.list', cap, {});
  assert.equal(during.status, 503, during.text);
  assert.equal(during.json.error.code, 'temporarily_unavailable');
  assert.ok(Number(during.headers.get('retry-after')) > 0, 'the cooldown is told as Retry-After');
  assert.equal(proxy.seen - seenBefore, 3, 'no refresh attempt during the cooldown');
  assert.equal(s.demo.stats.apiCalls, calls, 'the notes API was never called');

  const failed = (await s.writ.admin('GET', `/orgs/${org}/audit?type=credential.refresh_failed`)).json.events as any[];
  assert.equal(failed.length, 1);
  assert.equal(failed[0].details.retryable, true);
  assert.ok(Date.parse(failed[0].details.cooldown_until) > clock.now(), 'a cooldown is set');
  assert.equal((await s.writ.admin('GET', `/orgs/${org}/audit?type=account.revoked`)).json.events.length, 0);
  const accounts = (await s.writ.admin('GET', `/orgs/${org}/connected-accounts`)).json.connected_accounts;
  assert.equal(accounts[0].status, 'active');
});
