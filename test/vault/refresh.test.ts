import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixedClock } from '../../src/core/clock.ts';
import { withExpose } from '../../src/errors/index.ts';
import { generateKey, LocalKeyProvider } from '../../src/vault/crypto.ts';
import { CredentialRefresher, CredentialUnavailableError, type VaultEvent } from '../../src/vault/refresh.ts';
import { Vault } from '../../src/vault/service.ts';
import type { OAuthProviderConfig } from '../../src/vault/oauth-client.ts';
import { openVaultStore, ringOf, startTokenServer, tempDir } from './helpers.ts';

const START = Date.parse('2025-03-01T12:00:00Z');

async function setup(t: Parameters<typeof tempDir>[0], options: { delayMs?: number; rotate?: boolean } = {}) {
  const path = join(tempDir(t), 'vault.sqlite');
  const ring = ringOf([1, generateKey()]);
  const clock = fixedClock(START);
  const server = await startTokenServer(t, options);
  const events: VaultEvent[] = [];
  const process = (owner: string) => {
    const { store } = openVaultStore(t, path);
    const vault = new Vault({ store, keys: new LocalKeyProvider(ring), clock });
    const refresher = new CredentialRefresher({
      vault, clock, owner, resolveProvider: async () => server.provider, onEvent: (e) => events.push(e),
      pollIntervalMs: 5, backoffMs: 1, retries: 2, cooldownMs: 30_000,
    });
    return { store, vault, refresher };
  };
  const a = process('proc-a');
  const acct = await a.vault.createPendingAccount('org_1', { owner: { kind: 'user', user_id: 'usr_1' }, connector: 'demo', scopes: ['notes:read'] });
  await a.vault.storeCredential('org_1', acct.id, {
    type: 'oauth2', access_token: 'at-0', refresh_token: 'rt-0', token_type: 'Bearer', expires_at: new Date(START + 3_600_000).toISOString(),
  });
  return { clock, server, events, a, process, account_id: acct.id };
}

test('a fresh token is returned without calling the provider', async (t) => {
  const { a, server, account_id } = await setup(t);
  const fresh = await a.refresher.getFreshCredential('org_1', account_id);
  assert.equal(fresh.refreshed, false);
  assert.equal(fresh.credential.type === 'oauth2' && fresh.credential.access_token, 'at-0');
  assert.equal(server.state.refreshCalls, 0);
});

test('within the skew before expiry the token is refreshed proactively and the rotated refresh token is stored', async (t) => {
  const { a, server, clock, events, account_id } = await setup(t);
  clock.set(START + 3_600_000 - 30_000); // 30 s before expiry, inside the 60 s skew
  const fresh = await a.refresher.getFreshCredential('org_1', account_id);
  assert.equal(fresh.refreshed, true);
  assert.equal(server.state.refreshCalls, 1);
  const stored = await a.vault.readCredential('org_1', account_id);
  assert.equal(stored.credential.type === 'oauth2' && stored.credential.refresh_token, 'rt-1');
  assert.equal(stored.account.credential_version, 2);
  assert.equal(server.state.lastAuthorization, `Basic ${Buffer.from('writ-client:client-secret-value').toString('base64')}`);
  // The next refresh must present the rotated token, which only works if it was persisted.
  clock.advance(3_600_000);
  await a.refresher.getFreshCredential('org_1', account_id);
  assert.equal(server.state.lastForm?.get('refresh_token'), 'rt-1');
  assert.deepEqual(events.map((e) => e.type), ['credential.refreshed', 'credential.refreshed']);
  assert.ok(!JSON.stringify(events).includes('rt-'), 'events carry no token');
});

test('twenty concurrent calls after expiry make exactly one upstream refresh', async (t) => {
  const { a, server, clock, account_id } = await setup(t, { delayMs: 30 });
  clock.set(START + 7_200_000);
  const results = await Promise.all(Array.from({ length: 20 }, () => a.refresher.getFreshCredential('org_1', account_id)));
  assert.equal(server.state.refreshCalls, 1);
  assert.deepEqual(new Set(results.map((r) => r.credential.type === 'oauth2' && r.credential.access_token)), new Set(['at-1']));
});

test('two processes on one database file still make exactly one upstream refresh', async (t) => {
  const { a, process, server, clock, account_id } = await setup(t, { delayMs: 40 });
  const b = process('proc-b');
  clock.set(START + 7_200_000);
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).refresher.getFreshCredential('org_1', account_id)));
  assert.equal(server.state.refreshCalls, 1);
  assert.deepEqual(new Set(results.map((r) => r.credential.type === 'oauth2' && r.credential.access_token)), new Set(['at-1']));
  // Nobody lost the rotation: the stored refresh token is the one the provider accepts.
  const stored = await b.vault.readCredential('org_1', account_id);
  assert.ok(stored.credential.type === 'oauth2' && server.state.validRefresh.has(stored.credential.refresh_token!));
});

test('forceRefresh after a 401 refreshes once per stale version', async (t) => {
  const { a, server, account_id } = await setup(t);
  const first = await a.refresher.getFreshCredential('org_1', account_id);
  const stale = first.account.credential_version;
  const forced = await Promise.all(Array.from({ length: 5 }, () => a.refresher.getFreshCredential('org_1', account_id, { forceRefresh: true, staleVersion: stale })));
  assert.equal(server.state.refreshCalls, 1);
  // A later caller still holding the stale version gets the new token without another refresh.
  const late = await a.refresher.getFreshCredential('org_1', account_id, { forceRefresh: true, staleVersion: stale });
  assert.equal(server.state.refreshCalls, 1);
  assert.equal(late.credential.type === 'oauth2' && late.credential.access_token, forced[0]!.credential.type === 'oauth2' && forced[0]!.credential.access_token);
});

test('invalid_grant marks the account revoked, not expired, and says so with a typed outcome', async (t) => {
  const { a, server, clock, events, account_id } = await setup(t);
  server.state.mode = 'invalid_grant';
  clock.set(START + 7_200_000);
  await assert.rejects(a.refresher.getFreshCredential('org_1', account_id), (err: unknown) => {
    assert.ok(err instanceof CredentialUnavailableError);
    assert.equal(err.reason, 'revoked');
    const writ = withExpose(err, { reconnect_url: 'https://writ.example/connect/demo' });
    assert.equal(writ.code, 'auth_revoked');
    assert.equal(writ.toOAuthBody().reconnect_url, 'https://writ.example/connect/demo');
    return true;
  });
  assert.equal((await a.vault.getAccount('org_1', account_id))?.status, 'revoked');
  assert.equal(server.state.refreshCalls, 1, 'invalid_grant is not retried');
  assert.deepEqual(events.map((e) => e.type), ['account.revoked']);
  // Later calls answer at once, without asking the provider again.
  await assert.rejects(a.refresher.getFreshCredential('org_1', account_id), { reason: 'revoked' });
  assert.equal(server.state.refreshCalls, 1);
});

for (const mode of ['server_error', 'drop'] as const) {
  test(`${mode === 'drop' ? 'a network error' : 'a 5xx'} is retried, does not revoke, and sets a cooldown`, async (t) => {
    const { a, server, clock, events, account_id } = await setup(t);
    server.state.mode = mode;
    clock.set(START + 7_200_000);
    await assert.rejects(a.refresher.getFreshCredential('org_1', account_id), { reason: 'refresh_failed' });
    assert.equal(server.state.refreshCalls, 3, 'one attempt plus two retries');
    const account = (await a.vault.getAccount('org_1', account_id))!;
    assert.equal(account.status, 'active');
    assert.equal(account.cooldown_until, new Date(START + 7_200_000 + 30_000).toISOString());
    assert.equal(events.at(-1)?.type, 'credential.refresh_failed');

    // During the cooldown nobody calls the provider.
    await assert.rejects(a.refresher.getFreshCredential('org_1', account_id), (e: unknown) => e instanceof CredentialUnavailableError && e.reason === 'cooldown' && e.retry_after_ms === 30_000);
    assert.equal(server.state.refreshCalls, 3);

    // After it, the provider is back and the refresh token (never lost) still works.
    server.state.mode = 'ok';
    clock.advance(31_000);
    const fresh = await a.refresher.getFreshCredential('org_1', account_id);
    assert.equal(fresh.refreshed, true);
    assert.equal(fresh.account.cooldown_until, undefined);
    assert.equal(fresh.account.last_error, undefined);
  });
}

test('a client the provider refuses puts the account in error, not revoked', async (t) => {
  const { a, server, clock, account_id } = await setup(t);
  server.state.mode = 'invalid_client';
  clock.set(START + 7_200_000);
  await assert.rejects(a.refresher.getFreshCredential('org_1', account_id), { reason: 'refresh_failed' });
  assert.equal(server.state.refreshCalls, 1);
  const account = (await a.vault.getAccount('org_1', account_id))!;
  assert.equal(account.status, 'error');
  assert.match(account.last_error ?? '', /invalid_client/);
});

test('an expired token without a refresh token is expired, not revoked', async (t) => {
  const { a, clock } = await setup(t);
  const acct = await a.vault.createPendingAccount('org_1', { owner: { kind: 'org' }, connector: 'demo' });
  await a.vault.storeCredential('org_1', acct.id, { type: 'oauth2', access_token: 'x', token_type: 'Bearer', expires_at: new Date(START + 1000).toISOString() });
  clock.set(START + 120_000);
  await assert.rejects(a.refresher.getFreshCredential('org_1', acct.id), { reason: 'expired' });
  assert.equal((await a.vault.getAccount('org_1', acct.id))?.status, 'expired');
});

test('a waiter in another process gives up, bounded, while a lease holder never finishes', async (t) => {
  const { a, clock, account_id, server } = await setup(t);
  clock.set(START + 7_200_000);
  // Another process took the lease and stalled.
  assert.equal(await a.store.acquireLease('org_1', account_id, 'stalled-process', 60_000, clock.now()), true);
  const waiter = new CredentialRefresher({ vault: a.vault, clock, owner: 'waiter', resolveProvider: async () => server.provider, pollIntervalMs: 1, maxWaitMs: 0 });
  await assert.rejects(waiter.getFreshCredential('org_1', account_id), { reason: 'busy' });
  assert.equal(server.state.refreshCalls, 0);
  // Once the stalled lease expires it can be taken over.
  clock.advance(60_001);
  const fresh = await waiter.getFreshCredential('org_1', account_id);
  assert.equal(fresh.refreshed, true);
  assert.equal(server.state.refreshCalls, 1);
});

test('unknown, pending and other-org accounts are not connected', async (t) => {
  const { a, account_id } = await setup(t);
  await assert.rejects(a.refresher.getFreshCredential('org_2', account_id), { reason: 'not_connected' });
  const pending = await a.vault.createPendingAccount('org_1', { owner: { kind: 'org' }, connector: 'demo' });
  await assert.rejects(a.refresher.getFreshCredential('org_1', pending.id), { reason: 'pending' });
});

test('connect: authorization URL with state and PKCE S256, callback exchanges the code into the vault', async (t) => {
  const { a, server } = await setup(t);
  const acct = await a.vault.createPendingAccount('org_1', { owner: { kind: 'user', user_id: 'usr_9' }, connector: 'demo' });
  const provider: OAuthProviderConfig = { ...server.provider, extra_authorize_params: { access_type: 'offline' } };
  const { url, state } = await a.vault.beginConnect('org_1', acct.id, provider, { redirect_uri: 'https://writ.example/callback', scopes: ['notes:read', 'notes:write'] });
  const u = new URL(url);
  assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
  assert.match(u.searchParams.get('code_challenge') ?? '', /^[\w-]{43}$/);
  assert.equal(u.searchParams.get('scope'), 'notes:read notes:write');
  assert.equal(u.searchParams.get('access_type'), 'offline');
  assert.equal(u.searchParams.get('state'), state);

  await assert.rejects(a.vault.completeConnect('org_1', acct.id, provider, { state: state + 'x', code: 'good-code' }), { reason: 'invalid_state' });
  const view = await a.vault.completeConnect('org_1', acct.id, provider, { state, code: 'good-code' });
  assert.equal(view.status, 'active');
  assert.deepEqual(view.scopes, ['notes:read', 'notes:write']);
  assert.equal(server.state.lastForm?.get('code_verifier')?.length, 43);
  // The state is single-use.
  await assert.rejects(a.vault.completeConnect('org_1', acct.id, provider, { state, code: 'good-code' }), { reason: 'invalid_state' });
  assert.equal(server.state.codeCalls, 1);
});
