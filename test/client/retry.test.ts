// Retries that honour Retry-After, bounded, against a loopback server speaking the executor's
// error contract (the real executor's rate limiting depends on a provider answering 429).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WritClient, ExecutorError } from '../../src/client/index.ts';

async function contractServer(answer: (n: number, req: IncomingMessage, res: ServerResponse) => void) {
  let calls = 0;
  const seen: Array<{ authorization?: string; body: string }> = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ authorization: req.headers.authorization, body });
    answer(++calls, req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, seen, calls: () => calls, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

test('rate_limited with Retry-After is retried, then the data comes back', async (t) => {
  const server = await contractServer((n, _req, res) => {
    if (n < 3) json(res, 429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '0' });
    else json(res, 200, { data: { ok: true } });
  });
  t.after(() => server.close());
  const client = new WritClient({ issuer: server.issuer, clientId: 'agt_x', clientSecret: 's' });
  assert.deepEqual(await client.execute('demo.notes.list', { q: 1 }, 'cap-token'), { ok: true });
  assert.equal(server.calls(), 3);
  assert.deepEqual(server.seen.map((s) => s.authorization), ['Bearer cap-token', 'Bearer cap-token', 'Bearer cap-token']);
  assert.deepEqual(JSON.parse(server.seen[0]!.body), { input: { q: 1 } });
});

test('retries are bounded, and a Retry-After longer than the limit is thrown at once with retryAfter', async (t) => {
  const server = await contractServer((_n, _req, res) => json(res, 429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '0' }));
  t.after(() => server.close());
  const client = new WritClient({ issuer: server.issuer, clientId: 'agt_x', clientSecret: 's', maxRetries: 2 });
  await assert.rejects(client.execute('demo.notes.list', {}, 'cap'), (e: unknown) => e instanceof ExecutorError && e.code === 'rate_limited' && e.retryAfter === 0);
  assert.equal(server.calls(), 3, 'one try and two retries');

  const slow = await contractServer((_n, _req, res) => json(res, 429, { error: { code: 'rate_limited', message: 'later' } }, { 'retry-after': '3600' }));
  t.after(() => slow.close());
  const impatient = new WritClient({ issuer: slow.issuer, clientId: 'agt_x', clientSecret: 's', maxRetryDelaySeconds: 5 });
  await assert.rejects(impatient.execute('demo.notes.list', {}, 'cap'), (e: unknown) => e instanceof ExecutorError && e.code === 'rate_limited' && e.retryAfter === 3600);
  assert.equal(slow.calls(), 1);
});

test('errors that a retry cannot fix are thrown at once, with their links', async (t) => {
  const server = await contractServer((_n, _req, res) => json(res, 409, { error: { code: 'auth_revoked', message: 'reconnect', reconnect_url: 'http://writ.example/connect/acc_1' } }));
  t.after(() => server.close());
  const client = new WritClient({ issuer: server.issuer, clientId: 'agt_x', clientSecret: 's' });
  await assert.rejects(client.execute('demo.notes.list', {}, 'cap'), (e: unknown) =>
    e instanceof ExecutorError && e.code === 'auth_revoked' && e.reconnectUrl === 'http://writ.example/connect/acc_1' && e.status === 409);
  assert.equal(server.calls(), 1);
  const down = new WritClient({ issuer: 'http://127.0.0.1:9', clientId: 'agt_x', clientSecret: 's' });
  await assert.rejects(down.execute('demo.notes.list', {}, 'cap'), (e: any) => e.code === 'network_error' && !String(e.message).includes('cap'));
});
