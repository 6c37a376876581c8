// SIEM streaming: an org's events reach its endpoint as OCSF, in order, at least once, from a
// cursor, signed with the org's checkpoint key; a failing receiver gets the same events again
// after a backoff, and nothing is skipped or reordered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { skippingClock } from '../support/clock.ts';
import { backoffMs, SiemDelivery, siemSigningInput } from '../../src/audit/siem.ts';
import { Checkpoints } from '../../src/audit/checkpoints.ts';
import { AuditLog } from '../../src/audit/log.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import { open, parseMasterKeyRing, seal } from '../../src/vault/crypto.ts';

interface Received { cursor: number; sequences: number[]; classes: number[]; headers: IncomingMessage['headers']; body: string }

/** A receiver that answers with the next status from `script` (200 once the script runs out). */
async function receiver(script: number[]) {
  const received: Received[] = [];
  const accepted: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const events = body.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { class_uid: number; metadata: { sequence: number } });
      const status = script.shift() ?? 200;
      received.push({ cursor: Number(req.headers['writ-cursor']), sequences: events.map((e) => e.metadata.sequence), classes: events.map((e) => e.class_uid), headers: req.headers, body });
      if (status < 300) accepted.push(...events.map((e) => e.metadata.sequence));
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/ingest`, received, accepted, close: () => new Promise<void>((r) => server.close(() => r())) };
}

test('a failing receiver: retries with backoff, the cursor holds until a 2xx, every event arrives in order, signed', async (t) => {
  const clock = skippingClock();
  const writ = await startTestWrit({ env: { WRIT_SIEM_INTERVAL: '0', WRIT_AUDIT_CHECKPOINT_INTERVAL: '0' }, writ: { clock } });
  t.after(() => writ.stop());
  const sink = await receiver([500, 503]);
  t.after(() => sink.close());
  const seeded = await seedOrg(writ);
  const org = seeded.org.id;
  const agent = seeded.agent.client_id;
  // More events than one batch holds.
  for (let i = 0; i < 110; i++) {
    const g = await writ.admin('POST', `/orgs/${org}/agents/${agent}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
    assert.equal(g.status, 201);
  }
  assert.equal((await writ.admin('PUT', `/orgs/${org}/audit/stream`, { url: 'ftp://siem.example/x' })).status, 400);
  assert.equal((await writ.admin('PUT', `/orgs/${org}/audit/stream`, { url: 'http://siem.example/x' })).status, 400, 'plain http only on loopback');
  const configured = await writ.admin('PUT', `/orgs/${org}/audit/stream`, { url: sink.url });
  assert.equal(configured.status, 200, configured.text);
  assert.equal(configured.json.cursor, 0);

  // Two failures: the cursor stays, the next attempt backs off further each time.
  const first = await writ.admin('POST', `/orgs/${org}/audit/stream/deliver`);
  assert.equal(first.json.error, 'HTTP 500');
  let stream = (await writ.admin('GET', `/orgs/${org}/audit/stream`)).json;
  assert.equal(stream.cursor, 0);
  assert.equal(stream.failures, 1);
  assert.equal(stream.next_attempt_at - clock.now() <= backoffMs(1), true);
  assert.ok(stream.next_attempt_at > clock.now(), 'a failed stream is not due at once');
  const second = await writ.admin('POST', `/orgs/${org}/audit/stream/deliver`);
  assert.equal(second.json.error, 'HTTP 503');
  stream = (await writ.admin('GET', `/orgs/${org}/audit/stream`)).json;
  assert.equal(stream.failures, 2);
  assert.equal(stream.last_error, 'HTTP 503');
  assert.equal(backoffMs(2), 2 * backoffMs(1));

  // The receiver recovers: everything from the cursor, in batches, in order.
  const third = await writ.admin('POST', `/orgs/${org}/audit/stream/deliver`);
  assert.equal(third.json.error, undefined, JSON.stringify(third.json));
  const head = (await writ.admin('GET', `/orgs/${org}/audit?limit=1`)).json.events[0].seq as number;
  stream = (await writ.admin('GET', `/orgs/${org}/audit/stream`)).json;
  assert.equal(stream.cursor, head);
  assert.equal(stream.failures, 0);
  assert.deepEqual(sink.received[0]!.sequences, sink.received[1]!.sequences, 'a retry sends the same events again');
  assert.deepEqual(sink.accepted, Array.from({ length: head }, (_, i) => i + 1), 'every event once accepted, in order, none skipped');
  assert.ok(sink.received.length >= 4, 'more than one batch after the failures');
  assert.ok(sink.received.every((r) => r.classes.every((c) => c === 6003)), 'OCSF API Activity');
  assert.ok(sink.received.every((r) => r.cursor === r.sequences.at(-1)), 'the cursor header names the batch\'s last event');

  // Each delivery is signed with the org's published checkpoint key.
  const keys = ((await (await fetch(`${writ.issuer}/v1/audit/${org}/checkpoints`)).json()) as { keys: { keys: Array<Record<string, string>> } }).keys.keys;
  for (const r of sink.received) {
    const sig = /keyid="([^"]+)",alg="ed25519",sig="([^"]+)"/.exec(String(r.headers['writ-signature']))!;
    const { kid: _kid, ...jwk } = keys.find((k) => k.kid === sig[1])!;
    const input = siemSigningInput(String(r.headers['writ-timestamp']), org, r.cursor, r.body);
    assert.equal(verify(null, input, createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(sig[2]!, 'base64url')), true);
    assert.equal(verify(null, Buffer.concat([input, Buffer.from('x')]), createPublicKey({ key: jwk, format: 'jwk' }), Buffer.from(sig[2]!, 'base64url')), false);
  }

  // New events go from the cursor on; nothing already acknowledged is sent again.
  const before = sink.received.length;
  await writ.admin('POST', `/orgs/${org}/users`, { username: 'ann', password: 'a long enough password' });
  await writ.admin('POST', `/orgs/${org}/audit/stream/deliver`);
  const fresh = sink.received.slice(before).flatMap((r) => r.sequences);
  assert.deepEqual(fresh, [head + 1]);
  assert.equal((await writ.admin('POST', `/orgs/${org}/audit/stream/deliver`)).json.delivered, 0, 'caught up: nothing to send');
});

test('concurrent deliveries of one org keep the order and send each acknowledged event once', async (t) => {
  const writ = await startTestWrit({ env: { WRIT_SIEM_INTERVAL: '0', WRIT_AUDIT_CHECKPOINT_INTERVAL: '0' } });
  t.after(() => writ.stop());
  const sink = await receiver([]);
  t.after(() => sink.close());
  const seeded = await seedOrg(writ);
  const org = seeded.org.id;
  await writ.admin('PUT', `/orgs/${org}/audit/stream`, { url: sink.url });
  for (let i = 0; i < 20; i++) await writ.admin('POST', `/orgs/${org}/users`, { username: `u${i}`, password: 'a long enough password' });
  await Promise.all(Array.from({ length: 5 }, () => writ.admin('POST', `/orgs/${org}/audit/stream/deliver`)));
  const head = (await writ.admin('GET', `/orgs/${org}/audit?limit=1`)).json.events[0].seq as number;
  assert.deepEqual(sink.accepted, Array.from({ length: head }, (_, i) => i + 1));
});

test('scheduled runs honour the backoff on the server\'s clock: not due, nothing sent; due again, sent from the cursor', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-siem-'));
  const store = openSqliteStore(dir);
  t.after(() => { void store.close(); rmSync(dir, { recursive: true, force: true }); });
  const clock = skippingClock();
  const ring = parseMasterKeyRing(`v1:${randomBytes(32).toString('base64url')}`);
  const checkpoints = new Checkpoints(store.checkpoints, store.audit, { seal: (p, aad) => seal(ring, p, aad), open: (s, aad) => open(ring, s, aad).toString('utf8') }, clock);
  const audit = new AuditLog(store.audit, clock);
  const sink = await receiver([502]);
  t.after(() => sink.close());
  const org = 'org_siem';
  for (let i = 0; i < 3; i++) await audit.record(org, { type: 'user.created', actor: { kind: 'admin' }, subject: { user_id: `usr_${i}` } });
  await store.siem.putStream({ org_id: org, url: sink.url, cursor: 0, failures: 0, next_attempt_at: clock.now(), created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' });
  const siem = new SiemDelivery({ store: store.siem, audit: store.audit, checkpoints, clock });

  assert.deepEqual((await siem.run()).map((o) => o.error), ['HTTP 502']);
  assert.deepEqual(await siem.run(), [], 'backing off: not due');
  assert.equal(sink.received.length, 1, 'nothing was sent while backing off');
  clock.advance(backoffMs(1));
  const [outcome] = await siem.run();
  assert.equal(outcome!.delivered, 3);
  assert.deepEqual(sink.accepted, [1, 2, 3]);
  await audit.record(org, { type: 'user.created', actor: { kind: 'admin' }, subject: { user_id: 'usr_3' } });
  await siem.run();
  assert.deepEqual(sink.accepted, [1, 2, 3, 4], 'from the cursor on');
});
