import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DemoProvider } from '../../../src/demo/provider/index.ts';
import { httpClient, parseForm } from '../../support/http.ts';
import {
  CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, api, authorize, authorizeUrl, obtainTokens, pkce, startTestProvider, tokenRequest,
  type TokenSet,
} from './flow.ts';

describe('demo provider: authorization code + PKCE through the sign-in and consent forms', () => {
  let provider: DemoProvider;
  before(async () => { provider = await startTestProvider(); });
  after(() => provider.close());

  it('signs in, asks for consent, and issues opaque tokens whose notes belong to the user', async () => {
    const browser = httpClient();
    const { verifier, challenge } = pkce();
    const url = authorizeUrl(provider, { scope: 'notes:read notes:write', state: 's-1', code_challenge: challenge, code_challenge_method: 'S256' });

    const signIn = await browser.follow(url);
    assert.equal(signIn.status, 200);
    const form = parseForm(signIn.text, '/login');
    assert.equal(form.method, 'post');
    assert.deepEqual(form.fields.sort(), ['password', 'username']);

    const { callback, pages } = await authorize(browser, url, { username: 'john' });
    assert.deepEqual(pages, ['sign-in', 'consent']);
    assert.equal(callback.origin + callback.pathname, REDIRECT_URI);
    assert.equal(callback.searchParams.get('state'), 's-1');
    assert.equal(callback.searchParams.get('iss'), provider.issuer); // RFC 9207
    const code = callback.searchParams.get('code');
    assert.ok(code);

    const before = provider.stats.tokenRequests;
    const response = await tokenRequest(provider, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
    assert.equal(response.status, 200, response.text);
    const tokens = response.json as TokenSet;
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.scope, 'notes:read notes:write');
    assert.equal(tokens.expires_in, 3600);
    assert.ok(tokens.refresh_token, 'a refresh token is always issued');
    assert.equal(tokens.access_token.split('.').length, 1, 'access tokens are opaque, not JWTs');
    assert.equal(provider.stats.tokenRequests, before + 1);

    const created = await api(provider, '/api/notes', tokens.access_token, { method: 'POST', json: { title: 'Groceries', body: 'milk, eggs' } });
    assert.equal(created.status, 201);
    const note = created.json as { id: string; title: string; body: string; owner: string; created_at: string };
    assert.equal(note.owner, 'john');
    assert.equal(note.title, 'Groceries');
    assert.equal(note.body, 'milk, eggs');
    assert.ok(!Number.isNaN(Date.parse(note.created_at)));
    assert.equal(created.headers.get('location'), `/api/notes/${note.id}`);
    assert.ok(provider.notes.some((n) => n.id === note.id && n.owner === 'john'));

    const fetched = await api(provider, `/api/notes/${note.id}`, tokens.access_token);
    assert.equal(fetched.status, 200);
    assert.deepEqual(fetched.json, note);

    const whoami = await api(provider, '/api/whoami', tokens.access_token);
    assert.deepEqual(whoami.json, { sub: 'john', scope: 'notes:read notes:write', client_id: CLIENT_ID });

    const last = provider.stats.lastAuthorization;
    assert.equal(last?.client_id, CLIENT_ID);
    assert.equal(last?.code_challenge_method, 'S256');
    assert.equal(last?.scope, 'notes:read notes:write');
  });

  it('keeps each user to their own notes', async () => {
    const john = await obtainTokens(provider, { username: 'john' });
    const alice = await obtainTokens(provider, { username: 'alice' });
    const created = await api(provider, '/api/notes', john.access_token, { method: 'POST', json: { title: 'private', body: 'john only' } });
    const { id } = created.json as { id: string };

    assert.equal((await api(provider, `/api/notes/${id}`, alice.access_token)).status, 404);
    assert.equal((await api(provider, '/api/notes/%E0%A4%A', john.access_token)).status, 404);
    const aliceList = (await api(provider, '/api/notes', alice.access_token)).json as { notes: Array<{ owner: string }> };
    assert.ok(aliceList.notes.every((n) => n.owner === 'alice'));
    const johnList = (await api(provider, '/api/notes', john.access_token)).json as { notes: Array<{ id: string; owner: string }> };
    assert.ok(johnList.notes.some((n) => n.id === id));
    assert.ok(johnList.notes.every((n) => n.owner === 'john'));
  });

  it('remembers consent in the same browser and skips both pages', async () => {
    const browser = httpClient();
    const first = pkce();
    const scope = 'notes:read';
    const once = await authorize(browser, authorizeUrl(provider, { scope, code_challenge: first.challenge, code_challenge_method: 'S256' }), { username: 'alice' });
    assert.deepEqual(once.pages, ['sign-in', 'consent']);
    const second = pkce();
    const again = await authorize(browser, authorizeUrl(provider, { scope, code_challenge: second.challenge, code_challenge_method: 'S256' }), { username: 'alice' });
    assert.deepEqual(again.pages, []);
    assert.ok(again.callback.searchParams.get('code'));
  });

  it('answers access_denied when the user presses Deny', async () => {
    const { challenge } = pkce();
    const { callback, pages } = await authorize(httpClient(), authorizeUrl(provider, { scope: 'notes:read', state: 'd', code_challenge: challenge, code_challenge_method: 'S256' }), { decision: 'deny' });
    assert.deepEqual(pages, ['sign-in', 'consent']);
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('state'), 'd');
    assert.equal(callback.searchParams.get('code'), null);
  });

  it('refuses a wrong password or an unknown user with the sign-in page again', async () => {
    const browser = httpClient();
    const { challenge } = pkce();
    const page = await browser.follow(authorizeUrl(provider, { scope: 'notes:read', code_challenge: challenge, code_challenge_method: 'S256' }));
    const form = parseForm(page.text, '/login');
    for (const [username, password] of [['john', 'wrong'], ['mallory', 'demo']] as const) {
      const response = await browser.request(new URL(form.action, page.url), { method: 'POST', form: { username, password } });
      assert.equal(response.status, 401);
      assert.equal(response.location, undefined);
      assert.match(response.text, /Wrong username or password/);
      assert.doesNotMatch(response.text, new RegExp(`value="${password}"`), 'the password is never echoed');
    }
  });

  it('refuses the sign-in form from a browser that did not start the request', async () => {
    const { challenge } = pkce();
    const page = await httpClient().follow(authorizeUrl(provider, { scope: 'notes:read', code_challenge: challenge, code_challenge_method: 'S256' }));
    const form = parseForm(page.text, '/login');
    const stranger = await httpClient().request(new URL(form.action, page.url), { method: 'POST', form: { username: 'john', password: 'demo' } });
    assert.equal(stranger.status, 400);
    assert.equal(stranger.location, undefined);
  });

  it('requires PKCE with S256 on every authorization request (RFC 7636)', async () => {
    const missing = await httpClient().request(authorizeUrl(provider, { scope: 'notes:read', state: 'p' }));
    assert.equal(missing.status, 303);
    const params = new URL(missing.location ?? '').searchParams;
    assert.equal(params.get('error'), 'invalid_request');
    assert.match(params.get('error_description') ?? '', /PKCE/);

    const plain = await httpClient().request(authorizeUrl(provider, { scope: 'notes:read', code_challenge: pkce().challenge, code_challenge_method: 'plain' }));
    assert.equal(new URL(plain.location ?? '').searchParams.get('error'), 'invalid_request');
  });

  it('refuses a code redeemed with the wrong verifier, and a code redeemed twice', async () => {
    const { challenge } = pkce();
    const { callback } = await authorize(httpClient(), authorizeUrl(provider, { scope: 'notes:read', code_challenge: challenge, code_challenge_method: 'S256' }));
    const code = callback.searchParams.get('code') ?? '';
    const wrong = await tokenRequest(provider, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: pkce().verifier });
    assert.equal(wrong.status, 400);
    assert.equal((wrong.json as { error: string }).error, 'invalid_grant');

    const { verifier: v2, challenge: c2 } = pkce();
    const second = await authorize(httpClient(), authorizeUrl(provider, { scope: 'notes:read', code_challenge: c2, code_challenge_method: 'S256' }));
    const code2 = second.callback.searchParams.get('code') ?? '';
    assert.equal((await tokenRequest(provider, { grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT_URI, code_verifier: v2 })).status, 200);
    const replay = await tokenRequest(provider, { grant_type: 'authorization_code', code: code2, redirect_uri: REDIRECT_URI, code_verifier: v2 });
    assert.equal((replay.json as { error: string }).error, 'invalid_grant');
  });

  it('refuses the token endpoint to a client with the wrong secret', async () => {
    const response = await tokenRequest(provider, { grant_type: 'refresh_token', refresh_token: 'x' }, `Basic ${Buffer.from(`${CLIENT_ID}:nope`).toString('base64')}`);
    assert.equal(response.status, 401);
    assert.equal((response.json as { error: string }).error, 'invalid_client');
    assert.ok(!response.text.includes(CLIENT_SECRET));
  });
});

describe('demo provider: client_secret_post clients and options', () => {
  it('authenticates a client_secret_post client with credentials in the body', async () => {
    const provider = await startTestProvider({
      clients: [{ client_id: 'poster', client_secret: 'post-secret', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_post' }],
      users: ['carol'],
      scopes: ['notes:read', 'notes:write', 'notes:admin'],
    });
    try {
      const { verifier, challenge } = pkce();
      const url = new URL(authorizeUrl(provider, { scope: 'notes:read notes:admin', code_challenge: challenge, code_challenge_method: 'S256' }));
      url.searchParams.set('client_id', 'poster');
      const { callback } = await authorize(httpClient(), url.toString(), { username: 'carol' });
      const code = callback.searchParams.get('code') ?? '';
      const response = await httpClient().request(new URL('/token', provider.url), {
        method: 'POST',
        origin: null,
        form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier, client_id: 'poster', client_secret: 'post-secret' },
      });
      assert.equal(response.status, 200, response.text);
      const tokens = response.json as TokenSet;
      assert.equal(tokens.scope, 'notes:read notes:admin');
      assert.deepEqual((await api(provider, '/api/whoami', tokens.access_token)).json, { sub: 'carol', scope: 'notes:read notes:admin', client_id: 'poster' });
    } finally {
      await provider.close();
    }
  });

  it('rejects invalid options with a TypeError that names the setting', async () => {
    await assert.rejects(
      startTestProvider({ clients: [{ client_id: 'c', client_secret: 's', redirect_uris: ['not a url'] }] }),
      (err: unknown) => err instanceof TypeError && /clients\.0\.redirect_uris/.test(err.message),
    );
    await assert.rejects(startTestProvider({ accessTokenTtlSeconds: 0 }), TypeError);
  });
});
