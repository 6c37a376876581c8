// Liveness, readiness and graceful shutdown against real servers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { startTestWrit } from '../support/writ.ts';
import { waitFor } from '../support/wait.ts';

test('/healthz answers while /readyz reports an unreachable store with 503', async (t) => {
  const store = openSqliteStore(mkdtempSync(join(tmpdir(), 'writ-ops-')));
  const writ = await startTestWrit({ writ: { store } });
  t.after(() => writ.stop());
  const ready = await fetch(`${writ.issuer}/readyz`);
  assert.equal(ready.status, 200);
  assert.deepEqual(await ready.json(), { status: 'ready', checks: { store: 'ok', keys: 'ok' } });

  await store.close();
  const health = await fetch(`${writ.issuer}/healthz`);
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: 'ok' });
  const notReady = await fetch(`${writ.issuer}/readyz`);
  assert.equal(notReady.status, 503);
  assert.deepEqual(await notReady.json(), { status: 'not_ready', checks: { store: 'unreachable', keys: 'ok' } });
});

test('close() lets an in-flight request finish, then refuses new connections', async () => {
  const writ = await startTestWrit();
  // A request whose body is still arriving when shutdown starts.
  const socket = connect(writ.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let answer = '';
  socket.on('data', (chunk) => { answer += chunk.toString('utf8'); });
  socket.on('error', (e) => { answer += `\n[socket error ${(e as NodeJS.ErrnoException).code}]`; });
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const body = JSON.stringify({ name: 'Late Ltd' });
  const received = once(writ.server, 'request');
  socket.write(`POST /admin/v1/orgs HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${writ.adminToken}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
  await received;
  const stopping = writ.stop();
  // Shutdown has begun: once the listener is closed, new connections are refused...
  await waitFor('the listener to close', () => !writ.server.listening);
  await assert.rejects(fetch(`${writ.issuer}/healthz`), 'no new connections during drain');
  // ...while the request already in flight completes normally.
  socket.write(body.slice(5));
  await stopping;
  await ended;
  assert.match(answer, /^HTTP\/1\.1 201 /, `the in-flight request got its answer: ${answer}`);
  assert.match(answer, /"name":"Late Ltd"/);
});

test('close() cuts a request that outlives the drain timeout instead of hanging', async () => {
  const writ = await startTestWrit({ writ: { drainTimeoutMs: 200 } });
  // A body that never finishes arriving: the request stays in flight forever.
  const socket = connect(writ.port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  const received = once(writ.server, 'request');
  socket.write(`POST /admin/v1/orgs HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${writ.adminToken}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"name":`);
  await received;
  await writ.stop();
  await ended;
  assert.ok(writ.logs.some((l) => l.includes('shutdown cut requests that were still running')), 'the cut is logged');
});

test('a revocation-feed long poll does not hold shutdown: it is cut, and its follower polls again', { timeout: 15_000 }, async () => {
  const writ = await startTestWrit({ writ: { drainTimeoutMs: 60_000 } });
  const received = once(writ.server, 'request');
  const polling = fetch(`${writ.issuer}/v1/revocations?since=0&wait=30`).then((r) => r.status, (e: Error) => e.name);
  await received;
  await writ.stop();
  // Had shutdown waited for the poll, stop() would have taken the poll's 30 s; it returned instead.
  assert.ok(['TypeError', 200].includes(await polling));
  assert.ok(!writ.logs.some((l) => l.includes('shutdown cut requests that were still running')), 'nothing waited-for was cut');
});
