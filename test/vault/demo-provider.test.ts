import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DEMO_PASSWORD, startDemoProvider } from '../../src/demo/provider/index.ts';
import { ConnectorCatalog } from '../../src/connectors/catalog.ts';
import { buildRequest, credentialHeaders } from '../../src/connectors/request.ts';
import { CredentialRefresher, type VaultEvent } from '../../src/vault/refresh.ts';
import { newVault, openVaultStore, tempDir } from './helpers.ts';

// End to end against the bundled demo provider (a real oidc-provider): connect through its
// sign-in and consent pages, call its API with the vaulted token, refresh with rotation, and see
// a withdrawn grant turn the account `revoked`.

const REDIRECT = 'http://127.0.0.1:1/callback';

/** Follows redirects by hand, carrying cookies, until the provider redirects to the callback. */
async function consent(authorizationUrl: string): Promise<URL> {
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const remember = (res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq), pair!.slice(eq + 1));
    }
  };
  let next: { url: string; method: string; body?: string } = { url: authorizationUrl, method: 'GET' };
  for (let hop = 0; hop < 12; hop++) {
    const res = await fetch(next.url, {
      method: next.method, redirect: 'manual', body: next.body,
      headers: { cookie: cookie(), ...(next.body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
    });
    remember(res);
    const location = res.headers.get('location');
    if (location) {
      const target = new URL(location, next.url);
      if (target.href.startsWith(REDIRECT)) return target;
      next = { url: target.href, method: 'GET' };
      continue;
    }
    const page = await res.text();
    const uid = /\/interaction\/([A-Za-z0-9_-]+)/.exec(new URL(next.url).pathname)?.[1];
    assert.ok(uid && res.status === 200, `unexpected page at ${next.url}: ${res.status}`);
    next = /password/i.test(page)
      ? { url: new URL(`/interaction/${uid}/login`, next.url).href, method: 'POST', body: new URLSearchParams({ username: 'john', password: DEMO_PASSWORD }).toString() }
      : { url: new URL(`/interaction/${uid}/confirm`, next.url).href, method: 'POST', body: '' };
  }
  throw new Error('too many hops');
}

test('connect, call, refresh with rotation and revoke against the demo provider', async (t) => {
  const demo = await startDemoProvider({ clients: [{ client_id: 'writ', client_secret: 'demo-client-secret', redirect_uris: [REDIRECT] }] });
  t.after(() => demo.close());
  const { store } = openVaultStore(t, join(tempDir(t), 'v.sqlite'));
  const vault = newVault(store);
  const catalog = new ConnectorCatalog({ vault, demoProviderUrl: demo.url, oauthClients: { demo: { client_id: 'writ', client_secret: 'demo-client-secret' } } });
  const provider = (await catalog.oauthProvider('org_1', 'demo'))!;
  const events: VaultEvent[] = [];
  const refresher = new CredentialRefresher({ vault, resolveProvider: (org, account) => catalog.oauthProvider(org, account.connector), onEvent: (e) => events.push(e) });

  const pending = await vault.createPendingAccount('org_1', { owner: { kind: 'user', user_id: 'usr_john' }, connector: 'demo' });
  const { url } = await vault.beginConnect('org_1', pending.id, provider, { redirect_uri: REDIRECT, scopes: ['notes:read', 'notes:write'] });
  const callback = await consent(url);
  assert.equal(demo.stats.lastAuthorization?.code_challenge_method, 'S256');
  const active = await vault.completeConnect('org_1', pending.id, provider, { state: callback.searchParams.get('state')!, code: callback.searchParams.get('code')! });
  assert.equal(active.status, 'active');

  // Spend the credential on the API, the way the executor will.
  const call = async (name: string, input: Record<string, unknown>) => {
    const tool = (await catalog.getTool('org_1', name))!;
    const { credential, account } = await refresher.getFreshCredential('org_1', pending.id);
    const req = buildRequest(tool.catalogConnector.definition, tool.definition, catalog.validateInput(tool, input), catalog.egress);
    const res = await fetch(req.url, { method: req.method, headers: { ...req.headers, ...credentialHeaders({ type: 'oauth2' } as never, credential) }, body: req.body });
    return { status: res.status, body: await res.json() as Record<string, unknown>, version: account.credential_version };
  };
  const created = await call('demo.notes.create', { title: 'from the vault', body: 'sealed until spent' });
  assert.equal(created.status, 201);
  assert.equal((await call('demo.notes.get', { id: created.body.id })).body.title, 'from the vault');

  // A forced refresh rotates the refresh token and persists the new one; the next refresh uses it.
  const before = (await vault.readCredential('org_1', pending.id)).credential;
  const refreshed = await refresher.getFreshCredential('org_1', pending.id, { forceRefresh: true, staleVersion: created.version });
  assert.equal(refreshed.refreshed, true);
  assert.ok(before.type === 'oauth2' && refreshed.credential.type === 'oauth2' && refreshed.credential.refresh_token !== before.refresh_token);
  await refresher.getFreshCredential('org_1', pending.id, { forceRefresh: true, staleVersion: refreshed.account.credential_version });
  assert.equal(demo.stats.refreshRequests, 2);
  assert.equal((await call('demo.notes.list', {})).status, 200);

  // The user withdraws access at the provider: the next refresh marks the account revoked.
  demo.revokeUserGrants('john');
  const stale = (await vault.getAccount('org_1', pending.id))!.credential_version;
  await assert.rejects(refresher.getFreshCredential('org_1', pending.id, { forceRefresh: true, staleVersion: stale }), { reason: 'revoked' });
  assert.equal((await vault.getAccount('org_1', pending.id))?.status, 'revoked');
  assert.deepEqual(events.map((e) => e.type), ['credential.refreshed', 'credential.refreshed', 'account.revoked']);
});
