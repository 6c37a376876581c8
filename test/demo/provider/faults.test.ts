import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, describe, it } from 'node:test';
import type { DemoProvider } from '../../../src/demo/provider/index.ts';
import { api, obtainTokens, startTestProvider, tokenRequest, type TokenSet } from './flow.ts';

describe('demo provider: faults on the notes API', () => {
  let provider: DemoProvider;
  let tokens: TokenSet;
  before(async () => {
    provider = await startTestProvider();
    tokens = await obtainTokens(provider);
  });
  afterEach(() => provider.setFault(null));
  after(() => provider.close());

  for (const status of [500, 503] as const) {
    it(`status ${status}: answers with that status and a JSON error`, async () => {
      provider.setFault({ kind: 'status', status });
      const response = await api(provider, '/api/notes', tokens.access_token);
      assert.equal(response.status, status);
      assert.equal((response.json as { error: string }).error, status === 503 ? 'temporarily_unavailable' : 'server_error');
    });
  }

  it('rate_limit: answers 429 with Retry-After', async () => {
    provider.setFault({ kind: 'rate_limit', retryAfterSeconds: 7 });
    const response = await api(provider, '/api/notes', tokens.access_token);
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), '7');
  });

  it('hang: receives the request and never answers', async () => {
    provider.setFault({ kind: 'hang' });
    const calls = provider.stats.apiCalls;
    const abort = new AbortController();
    let settled = false;
    const pending = api(provider, '/api/notes', tokens.access_token, { signal: abort.signal }).finally(() => { settled = true; });
    // Wait until the provider has the request, give it a moment to (not) answer, then give up.
    for (let i = 0; i < 200 && provider.stats.apiCalls === calls; i++) await sleep(5);
    assert.equal(provider.stats.apiCalls, calls + 1);
    await sleep(100);
    assert.equal(settled, false);
    abort.abort();
    await assert.rejects(pending, { name: 'AbortError' });
  });

  it('close: destroys the socket without an HTTP answer', async () => {
    provider.setFault({ kind: 'close' });
    await assert.rejects(api(provider, '/api/notes', tokens.access_token), (err: unknown) => err instanceof TypeError && /fetch failed/.test(err.message));
  });

  it('malformed_json: says JSON and sends something that does not parse', async () => {
    provider.setFault({ kind: 'malformed_json' });
    const response = await api(provider, '/api/notes', tokens.access_token);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    assert.throws(() => JSON.parse(response.text), SyntaxError);
  });

  it('echo_token: the answer carries the bearer token it received', async () => {
    provider.setFault({ kind: 'echo_token' });
    const response = await api(provider, '/api/notes', tokens.access_token, { method: 'POST', json: { title: 'leak', body: 'x' } });
    assert.equal(response.status, 201);
    const body = response.json as { received_token?: string; owner?: string };
    assert.equal(body.received_token, tokens.access_token);
    assert.equal(body.owner, 'john');
    // Tokens are still checked: an invalid one is refused, not echoed.
    const refused = await api(provider, '/api/whoami', 'forged');
    assert.equal(refused.status, 401);
    assert.ok(!refused.text.includes('forged'));
  });

  it('applies to /api only: the token endpoint keeps working during a fault', async () => {
    provider.setFault({ kind: 'status', status: 503 });
    const response = await tokenRequest(provider, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token ?? '' });
    assert.equal(response.status, 200, response.text);
    tokens = response.json as TokenSet;
    const discovery = await fetch(new URL('/.well-known/openid-configuration', provider.url));
    assert.equal(discovery.status, 200);
  });

  it('times: applies to the next N calls and then clears itself', async () => {
    provider.setFault({ kind: 'status', status: 500, times: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await api(provider, '/api/whoami', tokens.access_token)).status);
    assert.deepEqual(statuses, [500, 500, 200]);
  });

  it('setFault(null) restores normal answers', async () => {
    provider.setFault({ kind: 'rate_limit', retryAfterSeconds: 1 });
    assert.equal((await api(provider, '/api/whoami', tokens.access_token)).status, 429);
    provider.setFault(null);
    assert.equal((await api(provider, '/api/whoami', tokens.access_token)).status, 200);
  });

  it('refuses nonsensical faults', () => {
    assert.throws(() => provider.setFault({ kind: 'hang', times: 0 }), TypeError);
    assert.throws(() => provider.setFault({ kind: 'rate_limit', retryAfterSeconds: -1 }), TypeError);
  });
});

describe('demo provider: close()', () => {
  it('closes while a request hangs', async () => {
    const provider = await startTestProvider();
    const tokens = await obtainTokens(provider);
    provider.setFault({ kind: 'hang' });
    const calls = provider.stats.apiCalls;
    const pending = api(provider, '/api/whoami', tokens.access_token);
    for (let i = 0; i < 200 && provider.stats.apiCalls === calls; i++) await sleep(5);
    await provider.close();
    await assert.rejects(pending, TypeError);
  });
});
