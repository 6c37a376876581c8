// The failures MCP deployments report, each one tried against a running Writ with the official SDK
// client: a token for one resource used at another, a revoked grant, a refresh whose answer was
// lost, a registration the server no longer knows, bad client metadata documents, and orgs that
// do not accept a client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { discoverAuthorizationServerMetadata, refreshAuthorization } from '@modelcontextprotocol/sdk/client/auth.js';
import { InvalidGrantError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { startTestWrit, seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { launchChromium } from '../browser/chromium.ts';
import { callbackServer, connect, documentServer, fetchTrusting, mcpTestbed, MemoryClientProvider, selfSignedCertificate } from './support.ts';

const TOOLS = ['demo.notes.create', 'demo.notes.list'];

async function pkceAuthorizeUrl(writ: TestWrit, client_id: string, redirect_uri: string, extra: Record<string, string> = {}) {
  const url = new URL(`${writ.issuer}/authorize`);
  url.search = new URLSearchParams({
    client_id, redirect_uri, response_type: 'code', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
    resource: `${writ.issuer}/mcp`, scope: 'tool:demo.notes.list', state: 's', ...extra,
  }).toString();
  return url;
}

test('one MCP client\'s authorization through its life: wrong resources, a lost refresh answer, revocation, a forgotten registration', async (t) => {
  const bed = await mcpTestbed(t, { tools: TOOLS, demo: true });
  if (!bed) return;
  const { writ, seeded, org, callback, mcpUrl, authorize } = bed;
  const provider = new MemoryClientProvider({ redirectUrl: callback.url, name: 'Desk assistant' });
  let session = await connect(mcpUrl, provider, authorize);
  assert.equal(session.authorized, true);
  const metadata = (await discoverAuthorizationServerMetadata(writ.issuer))!;
  const resource = new URL(`${writ.issuer}/mcp`);

  await t.test('a token for /mcp is refused by the executor\'s REST resource, and a delegated token for Writ by /mcp', async () => {
    const atExecutor = await fetch(`${writ.issuer}/v1/tools/demo.notes.list/execute`, {
      method: 'POST', headers: { authorization: `Bearer ${provider.saved!.access_token}`, 'content-type': 'application/json' }, body: '{"input":{}}',
    });
    assert.equal(atExecutor.status, 401);
    const agentRun = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.list'] }] });
    const atMcp = await fetch(mcpUrl, {
      method: 'POST', headers: { authorization: `Bearer ${agentRun.tokens!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(atMcp.status, 401);
    assert.match(atMcp.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    // And an external client may not ask for a token for Writ itself (the exchange's subject).
    // Before the person has seen Writ's page, the refusal is Writ's own page, not a redirect.
    const forIssuer = await fetch(await pkceAuthorizeUrl(writ, String(provider.client!.client_id), callback.url, { resource: writ.issuer }), { redirect: 'manual' });
    assert.equal(forIssuer.status, 400);
    assert.equal(forIssuer.headers.get('location'), null);
    assert.match(await forIssuer.text(), /invalid_target/);
  });

  await t.test('Writ is no open redirector for a client anyone can register: every refusal at /authorize stays on Writ\'s page', async () => {
    const registered = await fetch(`${writ.issuer}/reg`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://elsewhere.example/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] }),
    });
    assert.equal(registered.status, 201);
    const { client_id } = await registered.json() as { client_id: string };
    const attempts: Array<Record<string, string>> = [
      { response_type: 'token' },
      { code_challenge_method: 'plain' },
      { prompt: 'none' },
      { resource: 'https://elsewhere.example/api' },
      { scope: 'tool:*' },
      { code_challenge: '' },
    ];
    for (const extra of attempts) {
      const answer = await fetch(await pkceAuthorizeUrl(writ, client_id, 'https://elsewhere.example/cb', extra), { redirect: 'manual' });
      const location = answer.headers.get('location') ?? '';
      assert.ok(!location.startsWith('https://elsewhere.example'), `${JSON.stringify(extra)} redirected to ${location}`);
    }
  });

  await t.test('a refresh retried after its answer was lost does not end the authorization; a second retry is reuse', async () => {
    const held = provider.saved!.refresh_token!;
    const info = provider.client!;
    const lost = await refreshAuthorization(writ.issuer, { metadata, clientInformation: info, refreshToken: held, resource });
    assert.ok(lost.refresh_token);
    const retried = await refreshAuthorization(writ.issuer, { metadata, clientInformation: info, refreshToken: held, resource });
    assert.notEqual(retried.refresh_token, lost.refresh_token);
    // The answer that never arrived is gone; the retried one works.
    await assert.rejects(refreshAuthorization(writ.issuer, { metadata, clientInformation: info, refreshToken: lost.refresh_token!, resource }), InvalidGrantError);
    provider.saveTokens({ ...retried, issuer: provider.saved!.issuer } as typeof retried);
    const { tools } = await session.client.listTools();
    assert.deepEqual(tools.map((x) => x.name).sort(), TOOLS);
    const grants = (await writ.admin('GET', `/orgs/${org}/grants`)).json.grants.filter((g: any) => g.agent_id.startsWith('mcp_'));
    assert.equal(grants.length, 1);
    assert.equal(grants[0].revoked_at, undefined);
    // Presenting the first token yet again is reuse: the family ends, Writ's grant with it.
    await assert.rejects(refreshAuthorization(writ.issuer, { metadata, clientInformation: info, refreshToken: held, resource }), InvalidGrantError);
    const after = (await writ.admin('GET', `/orgs/${org}/grants`)).json.grants.find((g: any) => g.id === grants[0].id);
    assert.ok(after.revoked_at, 'reuse ended the grant');
  });

  await t.test('a revoked grant makes the next call 401, and the SDK\'s re-authorization works', async () => {
    // The previous step ended the authorization by reuse: the SDK meets a 401, its refresh is
    // refused, and it asks for authorization again; the person approves in the browser.
    const before = provider.authorizationUrls.length;
    await assert.rejects(session.client.listTools(), /Unauthorized|401/);
    assert.equal(provider.authorizationUrls.length, before + 1);
    await session.transport.finishAuth(await authorize(provider.authorizationUrls.at(-1)!));
    session = await connect(mcpUrl, provider, authorize);
    assert.equal((await session.client.listTools()).tools.length, 2);

    // An admin revokes it now: the next call is refused at once.
    const live = (await writ.admin('GET', `/orgs/${org}/grants`)).json.grants.find((g: any) => g.agent_id.startsWith('mcp_') && !g.revoked_at);
    assert.equal((await writ.admin('DELETE', `/orgs/${org}/grants/${live.id}`)).status, 204);
    const res = await fetch(mcpUrl, {
      method: 'POST', headers: { authorization: `Bearer ${provider.saved!.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 401);
  });

  await t.test('a registration the server no longer knows: invalid_client, and the SDK registers again', async () => {
    session = await connect(mcpUrl, provider, authorize);
    const registered = String(provider.client!.client_id);
    assert.equal(provider.registrations, 1);
    // The registration is lost (a restored backup, a purged store): the client still holds its id.
    await writ.store.oidc.destroy('Client', registered);
    const answer = await fetch(`${writ.issuer}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: provider.saved!.refresh_token!, client_id: registered }),
    });
    assert.equal(answer.status, 401);
    assert.equal((await answer.json()).error, 'invalid_client');
    // The SDK's next refresh meets the same answer, drops what it holds and registers again.
    provider.saved = { ...provider.saved!, access_token: 'expired-or-unknown' };
    const before = provider.authorizationUrls.length;
    await assert.rejects(session.client.listTools(), /Unauthorized|401/);
    assert.ok(provider.invalidations.includes('all'));
    assert.equal(provider.registrations, 2);
    assert.notEqual(String(provider.client!.client_id), registered);
    assert.equal(provider.authorizationUrls.length, before + 1);
    await session.transport.finishAuth(await authorize(provider.authorizationUrls.at(-1)!));
    session = await connect(mcpUrl, provider, authorize);
    assert.equal((await session.client.listTools()).tools.length, 2);
  });
});

test('bad client metadata documents are refused, each with a clear reason', async (t) => {
  const tls = selfSignedCertificate();
  const redirect = 'http://127.0.0.1:9/callback';
  let cachedFetches = 0;
  const good = (base: string, path: string, extra: Record<string, unknown> = {}) => JSON.stringify({
    client_id: `${base}${path}`, client_name: 'Doc client', redirect_uris: [redirect], token_endpoint_auth_method: 'none', ...extra,
  });
  const documents = await documentServer(tls, {
    '/large.json': (_q, res, base) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(good(base, '/large.json', { padding: 'x'.repeat(10_000) })); },
    '/slow.json': () => { /* never answers */ },
    '/redirect.json': (_q, res) => { res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }); res.end(); },
    '/mismatch.json': (_q, res, base) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(good(base, '/other.json')); },
    '/secret.json': (_q, res, base) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(good(base, '/secret.json', { token_endpoint_auth_method: 'client_secret_basic' })); },
    '/org.json': (_q, res, base) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(good(base, '/org.json', { org_id: 'org_victim', tools: ['demo.notes.create'] })); },
    '/cached.json': (_q, res, base) => { cachedFetches += 1; res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=600' }); res.end(good(base, '/cached.json')); },
  });
  t.after(() => documents.close());
  const writ = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: documents.host }, writ: { metadataFetch: fetchTrusting(tls.cert) } });
  t.after(() => writ.stop());

  const refusal = async (client_id: string) => {
    const res = await fetch(await pkceAuthorizeUrl(writ, client_id, redirect), { redirect: 'manual' });
    return { status: res.status, text: (await res.text()).replace(/\s+/g, ' ') };
  };
  const cases: Array<[string, string, RegExp]> = [
    ['too large', `${documents.base}/large.json`, /larger than this server accepts/],
    ['slow', `${documents.base}/slow.json`, /did not arrive in time/],
    ['a redirect to a private address', `${documents.base}/redirect.json`, /answered with a redirect, which is not followed/],
    ['client_id differs', `${documents.base}/mismatch.json`, /client_id does not match/],
    ['a shared secret', `${documents.base}/secret.json`, /must not use shared-secret/],
    ['naming an org', `${documents.base}/org.json`, /org_id cannot be registered by a client/],
    ['on a private address not allow-listed', 'https://127.0.0.2:8443/client.json', /an address this server may not fetch/],
  ];
  await t.test('a good document is fetched once while its Cache-Control allows', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(await pkceAuthorizeUrl(writ, `${documents.base}/cached.json`, redirect), { redirect: 'manual' });
      assert.equal(res.status, 303, await res.text());
      assert.match(res.headers.get('location') ?? '', /\/interaction\//);
    }
    assert.equal(cachedFetches, 1);
  });

  await t.test('a redirect_uri the document does not list is refused before any page', async () => {
    const res = await fetch(await pkceAuthorizeUrl(writ, `${documents.base}/cached.json`, 'http://127.0.0.1:9/elsewhere'), { redirect: 'manual' });
    assert.equal(res.status, 400);
    assert.match((await res.text()).replace(/\s+/g, ' '), /redirect_uri/);
  });

  for (const [what, url, reason] of cases) {
    await t.test(what, async () => {
      const { status, text } = await refusal(url);
      assert.equal(status, 400, text.slice(0, 300));
      assert.match(text, reason);
    });
  }
});

test('registration: public clients only, rate-limited per address; orgs decide which external clients they accept', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const register = (body: Record<string, unknown>) => fetch(`${writ.issuer}/reg`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const publicClient = { redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none', client_name: 'X', scope: 'tool:demo.notes.list' };

  await t.test('a confidential or org-naming registration is refused', async () => {
    const secret = await register({ ...publicClient, token_endpoint_auth_method: 'client_secret_basic' });
    assert.equal(secret.status, 400);
    assert.match((await secret.json()).error_description, /token_endpoint_auth_method must be none/);
    const orgNamed = await register({ ...publicClient, org_id: 'org_x', tools: ['demo.notes.create'] });
    assert.equal(orgNamed.status, 400);
    assert.match((await orgNamed.json()).error_description, /cannot be registered by a client/);
  });

  await t.test('a registered public client must use PKCE with S256', async () => {
    const client = await (await register(publicClient)).json();
    for (const pkce of [{}, { code_challenge: 'x'.repeat(43), code_challenge_method: 'plain' }]) {
      const url = await pkceAuthorizeUrl(writ, client.client_id, publicClient.redirect_uris[0]!);
      url.searchParams.delete('code_challenge');
      url.searchParams.delete('code_challenge_method');
      for (const [k, v] of Object.entries(pkce)) url.searchParams.set(k, v);
      // Refused on Writ's own page: nobody has vouched for this client's redirect yet.
      const res = await fetch(url, { redirect: 'manual' });
      assert.equal(res.status, 400, JSON.stringify(pkce));
      assert.equal(res.headers.get('location'), null);
      assert.match(await res.text(), /invalid_request/, JSON.stringify(pkce));
    }
  });

  await t.test('the eleventh registration in a minute from one address is 429 with retry-after', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await register(publicClient)).status);
    assert.deepEqual(statuses, Array(7).fill(201), 'with the three above, ten in this minute');
    const limited = await register(publicClient);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
  });
});

test('an org that accepts no external clients, or only listed ones', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const callback = await callbackServer();
  t.after(() => callback.close());
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { name: 'YCorp', tools: TOOLS });
  const org = seeded.org.id as string;
  const mcpUrl = new URL(`${writ.issuer}/mcp`);
  const page = await (await browser.newContext()).newPage();
  const person = { org: 'YCorp', username: seeded.user.username, password: seeded.user.password };

  const attempt = async (name: string) => {
    const provider = new MemoryClientProvider({ redirectUrl: callback.url, name });
    await connect(mcpUrl, provider, async (url) => {
      await page.goto(url.href);
      await page.getByLabel('Organisation').fill(person.org);
      await page.getByLabel('Username').fill(person.username);
      await page.getByLabel('Password').fill(person.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL((u) => u.href.startsWith(callback.url));
      throw new Error(new URL(page.url()).searchParams.get('error_description') ?? 'no error');
    }).catch((err: Error) => err.message);
    return provider;
  };

  await t.test('by default an org accepts none: the client hears access_denied after sign-in', async () => {
    await attempt('Refused client');
    const last = new URL(page.url());
    assert.equal(last.searchParams.get('error'), 'access_denied');
    assert.match(last.searchParams.get('error_description')!, /does not accept external MCP clients/);
    await page.context().clearCookies();
  });

  await t.test('listed: a client that is not on the list is refused by name', async () => {
    assert.equal((await writ.admin('PUT', `/orgs/${org}/mcp`, { accept: 'listed', clients: ['https://trusted.example/client.json'], tools: TOOLS })).status, 200);
    await attempt('Unlisted client');
    assert.match(new URL(page.url()).searchParams.get('error_description')!, /does not accept this MCP client/);
    const events = (await writ.admin('GET', `/orgs/${org}/audit?type=consent.denied`)).json.events;
    assert.equal(events.length, 2);
    assert.equal((await writ.admin('GET', `/orgs/${org}/audit?type=mcp.settings_updated`)).json.events.length, 1);
  });

  await t.test('the settings are validated', async () => {
    assert.equal((await writ.admin('PUT', `/orgs/${org}/mcp`, { accept: 'listed', clients: [], tools: [] })).status, 400);
    assert.equal((await writ.admin('PUT', `/orgs/${org}/mcp`, { accept: 'sometimes' })).status, 400);
    assert.equal((await writ.admin('PUT', `/orgs/${org}/mcp`, { accept: 'any', tools: ['not a tool'] })).status, 400);
  });
});
