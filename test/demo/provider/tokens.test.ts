import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DemoProvider } from '../../../src/demo/provider/index.ts';
import { httpClient } from '../../support/http.ts';
import { api, basic, obtainTokens, startTestProvider, tokenRequest, type TokenSet } from './flow.ts';

function errorOf(response: { json: unknown }): string | undefined {
  return (response.json as { error?: string } | undefined)?.error;
}

async function refresh(provider: DemoProvider, refreshToken: string) {
  return tokenRequest(provider, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

describe('demo provider: refresh, scope, revocation', () => {
  let provider: DemoProvider;
  before(async () => { provider = await startTestProvider(); });
  after(() => provider.close());

  it('rotates the refresh token on every use and refuses the old one with invalid_grant', async () => {
    const first = await obtainTokens(provider);
    assert.ok(first.refresh_token);
    const refreshesBefore = provider.stats.refreshRequests;

    const rotated = await refresh(provider, first.refresh_token);
    assert.equal(rotated.status, 200, rotated.text);
    const second = rotated.json as TokenSet;
    assert.ok(second.refresh_token);
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.notEqual(second.access_token, first.access_token);
    assert.equal(second.scope, 'notes:read notes:write');
    assert.equal((await api(provider, '/api/whoami', second.access_token)).status, 200);

    const reused = await refresh(provider, first.refresh_token);
    assert.equal(reused.status, 400);
    assert.equal(errorOf(reused), 'invalid_grant');
    assert.equal(provider.stats.refreshRequests, refreshesBefore + 2);
    assert.ok(!JSON.stringify(provider.stats).includes(first.refresh_token), 'stats never hold a token');
  });

  it('answers 403 insufficient_scope when the token lacks the scope the call needs', async () => {
    const readOnly = await obtainTokens(provider, { scope: 'notes:read' });
    assert.equal(readOnly.scope, 'notes:read');
    const write = await api(provider, '/api/notes', readOnly.access_token, { method: 'POST', json: { title: 't', body: 'b' } });
    assert.equal(write.status, 403);
    assert.equal(errorOf(write), 'insufficient_scope');
    assert.match(write.headers.get('www-authenticate') ?? '', /^Bearer .*error="insufficient_scope".*scope="notes:write"/);
    assert.equal((await api(provider, '/api/notes', readOnly.access_token)).status, 200);

    const writeOnly = await obtainTokens(provider, { scope: 'notes:write' });
    assert.equal((await api(provider, '/api/notes', writeOnly.access_token)).status, 403);
  });

  it('refuses missing, malformed and unknown bearer tokens', async () => {
    const anonymous = await httpClient().request(new URL('/api/notes', provider.url));
    assert.equal(anonymous.status, 401);
    // RFC 6750 §3.1: no credentials, so a challenge without an error code.
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="demo-notes"');

    const basicAuth = await httpClient().request(new URL('/api/notes', provider.url), { headers: { authorization: basic() } });
    assert.equal(basicAuth.status, 400);
    assert.equal(errorOf(basicAuth), 'invalid_request');

    const unknown = await api(provider, '/api/notes', 'not-a-token-this-provider-issued');
    assert.equal(unknown.status, 401);
    assert.match(unknown.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
    assert.equal(errorOf(unknown), 'invalid_token');
  });

  it('revokeUserGrants: the user\'s access tokens answer 401 and their refresh answers invalid_grant', async () => {
    const john = await obtainTokens(provider, { username: 'john' });
    const johnAgain = await obtainTokens(provider, { username: 'john', scope: 'notes:read' });
    const alice = await obtainTokens(provider, { username: 'alice' });

    assert.ok(provider.revokeUserGrants('john') >= 2);

    for (const tokens of [john, johnAgain]) {
      const call = await api(provider, '/api/notes', tokens.access_token);
      assert.equal(call.status, 401);
      assert.match(call.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
      assert.equal(errorOf(await refresh(provider, tokens.refresh_token ?? '')), 'invalid_grant');
    }
    // Another user's access is untouched.
    assert.equal((await api(provider, '/api/notes', alice.access_token)).status, 200);
    assert.equal((await refresh(provider, alice.refresh_token ?? '')).status, 200);
    // And john can connect again.
    const reconnected = await obtainTokens(provider, { username: 'john' });
    assert.equal((await api(provider, '/api/whoami', reconnected.access_token)).status, 200);
  });

  it('revokes a refresh token through the RFC 7009 endpoint, and its grant with it', async () => {
    const tokens = await obtainTokens(provider);
    const response = await httpClient().request(new URL('/token/revocation', provider.url), {
      method: 'POST',
      headers: { authorization: basic() },
      origin: null,
      form: { token: tokens.refresh_token ?? '', token_type_hint: 'refresh_token' },
    });
    assert.equal(response.status, 200);
    assert.equal(errorOf(await refresh(provider, tokens.refresh_token ?? '')), 'invalid_grant');
    assert.equal((await api(provider, '/api/whoami', tokens.access_token)).status, 401);
  });
});

describe('demo provider: options that change token behaviour', () => {
  it('keeps the same refresh token when rotation is off', async () => {
    const provider = await startTestProvider({ rotateRefreshTokens: false });
    try {
      const tokens = await obtainTokens(provider);
      for (let i = 0; i < 2; i++) {
        const response = await refresh(provider, tokens.refresh_token ?? '');
        assert.equal(response.status, 200, response.text);
        assert.equal((response.json as TokenSet).refresh_token, tokens.refresh_token);
      }
    } finally {
      await provider.close();
    }
  });

  it('expires access tokens after accessTokenTtlSeconds; a refresh brings a working one', async (t) => {
    // The provider reads the time from Date alone: mock Date (timers stay real) and skip ahead.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const provider = await startTestProvider({ accessTokenTtlSeconds: 2 });
    try {
      const tokens = await obtainTokens(provider);
      assert.equal(tokens.expires_in, 2);
      assert.equal((await api(provider, '/api/whoami', tokens.access_token)).status, 200);

      // Token expiry has one-second granularity: past expires_in + 1 s it is surely gone.
      t.mock.timers.tick((tokens.expires_in + 1) * 1000);
      const expired = await api(provider, '/api/whoami', tokens.access_token);
      assert.equal(expired.status, 401);
      assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);

      const refreshed = await refresh(provider, tokens.refresh_token ?? '');
      assert.equal(refreshed.status, 200, refreshed.text);
      assert.equal((await api(provider, '/api/whoami', (refreshed.json as TokenSet).access_token)).status, 200);
    } finally {
      await provider.close();
    }
  });
});
