// The surfaces external MCP clients and single sign-on opened, attacked: two workers racing on one
// refresh token family (the grace for a lost answer included), a client its org no longer accepts,
// and a single sign-on another site starts in the person's browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, mcpTestbed, MemoryClientProvider } from '../mcp/support.ts';
import { freePort } from '../support/connect.ts';
import { serveWrit, type ServedWrit } from '../support/workers.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { startIdp } from '../sso/support/idp.ts';

const TOOLS = ['demo.notes.create', 'demo.notes.list'];

test('a refresh token family never forks: a grace retry racing the successor, or one token presented twice at once, leaves at most one live token', async (t) => {
  const bed = await mcpTestbed(t, { tools: TOOLS, demo: true });
  if (!bed) return;
  const { writ, callback, mcpUrl, authorize, page } = bed;
  /** The person's side: the first time through consent, afterwards straight back with a code. */
  const again = async (url: URL) => {
    await page.goto(url.href);
    const at = new URL(page.url());
    return at.href.startsWith(callback.url) && at.searchParams.get('code') ? at.searchParams.get('code')! : authorize(url);
  };
  const provider = new MemoryClientProvider({ redirectUrl: callback.url, name: 'Racing client' });
  /** A new authorization of the client, through the person's consent: its id and refresh token. */
  const family = async () => {
    provider.saved = undefined;
    await (await connect(mcpUrl, provider, again)).transport.close();
    return { client: String(provider.client!.client_id), token: provider.saved!.refresh_token! };
  };
  const resource = `${writ.issuer}/mcp`;
  // A second worker: another process over the same store and secrets, answering as the same issuer,
  // so two requests really run at once.
  const worker = await serveWrit({ WRIT_ISSUER: writ.issuer }, { dataDir: writ.dataDir, port: await freePort(), adminToken: writ.adminToken, masterKey: writ.masterKey } as ServedWrit);
  t.after(() => worker.stop({ keepData: true }));
  const workerUrl = `http://localhost:${worker.port}`;
  const refresh = async (refresh_token: string, client: string, at = writ.issuer): Promise<string | undefined> => {
    const res = await fetch(`${at}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token, client_id: client, resource }),
    });
    const body = await res.json() as { refresh_token?: string; error?: string };
    return res.status === 200 ? body.refresh_token : undefined;
  };
  /** How many of these tokens still refresh; each is tried once, in turn. */
  const live = async (tokens: string[], client: string) => {
    let n = 0;
    for (const token of tokens) if (await refresh(token, client)) n += 1;
    return n;
  };

  await t.test('the lost answer\'s successor and the retry of the token it replaced, at once', async () => {
    for (let round = 0; round < 40; round += 1) {
      const { client, token: held } = await family();
      const lost = await refresh(held, client);
      assert.ok(lost, `round ${round}: the rotation works`);
      const issued = (await Promise.all([refresh(lost, client), refresh(held, client, workerUrl)])).filter((x): x is string => x !== undefined);
      // Both answered with a new refresh token: at most one of them may still work.
      if (issued.length === 2) assert.ok(await live(issued, client) <= 1, `round ${round}: the family forked into two live refresh tokens`);
    }
  });

  await t.test('a consumed token another client presents in the grace does not destroy the successor', async () => {
    const reg = await fetch(`${writ.issuer}/reg`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: [callback.url], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }),
    });
    assert.equal(reg.status, 201);
    const thief = String((await reg.json() as { client_id: string }).client_id);
    const { client, token: held } = await family();
    const lost = await refresh(held, client);
    assert.ok(lost);
    assert.equal(await refresh(held, thief), undefined, 'another client\'s presentation is refused');
    assert.ok(await refresh(lost, client), 'and the successor still works');
  });

  await t.test('one unused refresh token presented twice at once', async () => {
    for (let round = 0; round < 40; round += 1) {
      const { client, token: held } = await family();
      const issued = (await Promise.all([refresh(held, client), refresh(held, client, workerUrl)])).filter((x): x is string => x !== undefined);
      if (issued.length === 2) assert.ok(await live(issued, client) <= 1, `round ${round}: the family forked into two live refresh tokens`);
    }
  });
});

test('an org that narrows its MCP ceiling, or stops accepting a client, ends what the client could do: no call beyond the ceiling, no refresh once refused', async (t) => {
  const bed = await mcpTestbed(t, { tools: TOOLS, demo: true });
  if (!bed) return;
  const { writ, org, callback, mcpUrl, authorize } = bed;
  const provider = new MemoryClientProvider({ redirectUrl: callback.url, name: 'Narrowed client' });
  const session = await connect(mcpUrl, provider, authorize);
  t.after(() => session.transport.close());
  const client_id = String(provider.client!.client_id);
  /** The error code a call meets: the exchange's refusal, or the executor's (no account connected). */
  const callError = async (name: string) => {
    const result = await session.client.callTool({ name, arguments: name === 'demo.notes.create' ? { title: 't', body: 'b' } : {} });
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  };
  const refresh = async () => {
    const res = await fetch(`${writ.issuer}/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: provider.saved!.refresh_token!, client_id, resource: mcpUrl.href }),
    });
    const body = await res.json() as { refresh_token?: string; access_token?: string; error?: string };
    if (res.status === 200) provider.saved = { ...provider.saved!, refresh_token: body.refresh_token!, access_token: body.access_token! };
    return { status: res.status, error: body.error };
  };
  // Both tools reach the executor (which answers that no account is connected).
  assert.equal(await callError('demo.notes.create'), 'not_connected');
  assert.equal(await callError('demo.notes.list'), 'not_connected');

  assert.equal((await writ.admin('PUT', `/orgs/${org}/mcp`, { accept: 'any', tools: ['demo.notes.list'] })).status, 200);
  assert.equal(await callError('demo.notes.create'), 'invalid_authorization_details', 'a tool beyond the narrowed ceiling is refused at once');
  assert.equal(await callError('demo.notes.list'), 'not_connected');
  assert.equal((await refresh()).status, 200);

  // Taken off the org's list (another client listed), or not accepted at all: a fresh authorization
  // each time, and its refresh is refused.
  const { page } = bed;
  const again = async (url: URL) => {
    await page.goto(url.href);
    const at = new URL(page.url());
    return at.href.startsWith(callback.url) && at.searchParams.get('code') ? at.searchParams.get('code')! : authorize(url);
  };
  for (const settings of [{ accept: 'listed', clients: ['https://someone-else.example/client.json'], tools: ['demo.notes.list'] }, { accept: 'none', tools: ['demo.notes.list'] }]) {
    assert.equal((await writ.admin('PUT', `/orgs/${org}/mcp`, { accept: 'listed', clients: [client_id], tools: ['demo.notes.list'] })).status, 200);
    provider.saved = undefined;
    await (await connect(mcpUrl, provider, again)).transport.close();
    assert.equal(await callError('demo.notes.list'), 'not_connected');
    assert.equal((await writ.admin('PUT', `/orgs/${org}/mcp`, settings)).status, 200);
    assert.deepEqual(await refresh(), { status: 400, error: 'invalid_grant' }, `refresh refused under accept: ${settings.accept}`);
    // A new authorization in the browser that still holds the person's session yields no code either.
    const url = new URL(`${writ.issuer}/authorize`);
    url.search = new URLSearchParams({
      client_id, redirect_uri: callback.url, response_type: 'code', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256',
      resource: mcpUrl.href, scope: 'tool:demo.notes.list', state: 's',
    }).toString();
    await page.goto(url.href);
    const landed = new URL(page.url());
    if (landed.href.startsWith(callback.url)) assert.equal(landed.searchParams.get('error'), 'access_denied', `${landed.search} under accept: ${settings.accept}`);
    assert.equal(landed.searchParams.get('code'), null);
  }
});

test('a single sign-on another site starts in this browser waits for the person\'s click here (no login CSRF)', async (t) => {
  const writ = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1' } });
  t.after(() => writ.stop());
  const x = await seedOrg(writ, { name: 'XCorp', redirect_uri: 'http://127.0.0.1:9/cb' });
  const idp = await startIdp({
    accounts: [{ sub: 'idp-mallory', preferred_username: 'mallory', email: 'mallory@xcorp.example', name: 'Mallory', groups: [] }],
    clients: [{ client_id: 'writ-xcorp', client_secret: 'xcorp-secret-at-the-idp', redirect_uris: [`${writ.issuer}/sso/callback`] }],
  });
  t.after(() => idp.close());
  assert.equal((await writ.admin('PUT', `/orgs/${x.org.id}/identity-provider`, {
    issuer: idp.issuer, client_id: 'writ-xcorp', client_secret: 'xcorp-secret-at-the-idp', domains: ['xcorp.example'], local_passwords: false,
  })).status, 200);
  // Every way in: the start itself, the account page of an org on single sign-on only, discovery by email.
  const entries = [`/sso/start?org=${x.org.id}&next=/account`, `/account?org=${x.org.id}`, '/sso/start?email=mallory@xcorp.example', `/sso/start?org=${x.org.id}&interaction=abc`];
  for (const entry of entries) {
    for (const site of ['cross-site', 'same-site', 'same-origin', 'none', undefined]) {
      // A browser keeps Sec-Fetch-Site across its redirects: follow Writ's own, as a browser would.
      let url = new URL(entry, writ.issuer);
      let res: Response;
      for (;;) {
        res = await fetch(url, { redirect: 'manual', headers: site ? { 'sec-fetch-site': site } : {} });
        const location = res.headers.get('location');
        if (res.status !== 303 || !location || !new URL(location, writ.issuer).href.startsWith(writ.issuer)) break;
        url = new URL(location, writ.issuer);
      }
      const toProvider = res.status === 303 && res.headers.get('location')!.startsWith(idp.issuer);
      const flowCookie = (res.headers.getSetCookie?.() ?? []).some((c) => /writ_sso=[^;]/.test(c));
      if (site === 'cross-site' || site === 'same-site') {
        assert.equal(toProvider || flowCookie, false, `${entry} from ${site}: no sign-in starts`);
        assert.equal(res.status, 200);
        assert.match(await res.text(), /<button type="submit">Continue with single sign-on<\/button>/);
      } else {
        assert.ok(toProvider && flowCookie, `${entry} from ${site ?? 'no header'}: the sign-in starts (${res.status})`);
      }
    }
  }
});
