import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalise } from '../../src/executor/pipeline.ts';
import { WritError } from '../../src/errors/index.ts';

const credential = { type: 'oauth2' as const, access_token: 'xoxb-the-real-access-token', refresh_token: 'xoxe-the-refresh-token', token_type: 'Bearer' };
const answer = (status: number, text: string, headers: Record<string, string> = {}) => ({ status, headers: new Headers(headers), text });

test('a 200 with the connector\'s failure flag is a failure (Slack ok:false)', () => {
  assert.throws(() => normalise(answer(200, '{"ok":false,"error":"channel_not_found"}'), credential, 'ok'),
    (e: unknown) => e instanceof WritError && e.code === 'upstream_error' && e.expose?.provider_error === 'channel_not_found');
  assert.deepEqual(normalise(answer(200, '{"ok":true,"ts":"1"}'), credential, 'ok').body, { data: { ok: true, ts: '1' } });
  // Without the flag configured, the same body is data.
  assert.deepEqual(normalise(answer(200, '{"ok":false}'), credential).body, { data: { ok: false } });
  // A provider error string that is not a plain code is not passed on.
  assert.throws(() => normalise(answer(200, '{"ok":false,"error":"<script>"}'), credential, 'ok'), (e: unknown) => e instanceof WritError && e.expose?.provider_error === undefined);
});

test('provider answers are normalised: echoes redacted, 429 keeps Retry-After, errors keep the status, bad JSON is an upstream error', () => {
  const echoed = normalise(answer(200, JSON.stringify({ got: credential.access_token, also: `Bearer ${credential.refresh_token}` })), credential);
  assert.ok(!JSON.stringify(echoed.body).includes(credential.access_token));
  assert.ok(!JSON.stringify(echoed.body).includes(credential.refresh_token));
  assert.throws(() => normalise(answer(429, '{}', { 'retry-after': '7' }), credential), (e: unknown) => e instanceof WritError && e.code === 'rate_limited' && e.expose?.retry_after === '7');
  assert.throws(() => normalise(answer(503, 'down'), credential), (e: unknown) => e instanceof WritError && e.code === 'upstream_error' && e.expose?.provider_status === 503);
  assert.throws(() => normalise(answer(200, '{not json'), credential), (e: unknown) => e instanceof WritError && e.code === 'upstream_error');
  assert.deepEqual(normalise(answer(204, ''), credential).body, { data: null });
});
