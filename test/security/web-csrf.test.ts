// DESIGN invariant 10 on the pages people use: the sign-in form's token is bound to the browser
// it was served to, every state-changing request from another site is refused before anything
// is read or written, no GET changes anything, and the connect flow starts only on a POST from
// the page that names whose Writ account the provider account joins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { connectLink, newConnectionLink } from '../../src/connect/routes.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { httpClient, parseForm, parseForms, type HttpClient, type HttpResponse, type RequestOptions } from '../support/http.ts';
import { seedOrg, startTestWrit, type TestWrit } from '../support/writ.ts';
import { GRANTED } from './support.ts';
import { EVIL, pageRoutes, pagesScene, signIn, signInPage, sessionCookie, stored, world } from './web-support.ts';

/** Ways a request from another site (or from a browser that will not say where it comes from) looks. */
const CROSS_SITE: Array<[string, RequestOptions]> = [
  ['Origin of another site', { origin: EVIL, headers: { 'sec-fetch-site': 'cross-site' } }],
  ['Origin of another site, no Sec-Fetch-Site (older browser)', { origin: EVIL }],
  ['Origin: null (sandboxed frame, data: URL)', { origin: 'null' }],
  ['Sec-Fetch-Site: cross-site, no Origin', { origin: null, headers: { 'sec-fetch-site': 'cross-site' } }],
  ['Sec-Fetch-Site: same-site (a sibling subdomain)', { origin: null, headers: { 'sec-fetch-site': 'same-site' } }],
  ['a session cookie but neither Origin nor Sec-Fetch-Site', { origin: null }],
];

function assertRefusedCrossSite(res: HttpResponse, what: string) {
  assert.equal(res.status, 403, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/, what);
  assert.match(res.text, /another site/, what);
  assert.equal(res.location, undefined, what);
}

test('sign-in CSRF: the attacker\'s credentials auto-posted with next=/connect/new are refused, and nothing is written', async (t) => {
  const w = await world();
  t.after(() => w.stop());
  const { writ, victim, attacker } = w;
  const next = newConnectionLink('', attacker.org.id, 'demo');

  // The attacker takes a form token from their own browser; the victim has visited Writ before.
  const mallory = httpClient();
  const stolen = (await signInPage(writ, mallory, attacker.org.id, next)).form;
  const alice = httpClient();
  const own = (await signInPage(writ, alice, attacker.org.id, next)).form;
  const credentials = { org: attacker.org.id, username: attacker.user.username, password: attacker.user.password };
  const action = `${writ.issuer}/account/signin?next=${encodeURIComponent(next)}`;
  const before = await stored(writ, w.orgs);

  await t.test('the auto-post as a browser sends it: cross-site, without the Lax cookie', async () => {
    const res = await httpClient().request(action, { origin: EVIL, headers: { 'sec-fetch-site': 'cross-site' }, form: { ...credentials, csrf: stolen.hidden.csrf! } });
    assertRefusedCrossSite(res, 'auto-post');
    assert.deepEqual(sessionCookie(res), []);
  });

  await t.test('from a browser that sends the cookie cross-site anyway, with the attacker\'s token', async () => {
    const res = await alice.request(action, { origin: EVIL, headers: { 'sec-fetch-site': 'cross-site' }, form: { ...credentials, csrf: stolen.hidden.csrf! } });
    assert.equal(res.status, 403);
    assert.deepEqual(sessionCookie(res), []);
  });

  await t.test('the Origin check alone: cross-site with the victim\'s own cookie and a token valid for it', async () => {
    const res = await alice.request(action, { origin: EVIL, headers: { 'sec-fetch-site': 'cross-site' }, form: { ...credentials, csrf: own.hidden.csrf! } });
    assertRefusedCrossSite(res, 'valid token, cross-site');
    assert.deepEqual(sessionCookie(res), []);
  });

  await t.test('the token binding alone: the attacker\'s token does not work with the victim\'s cookie, even same-origin', async () => {
    const res = await alice.request(action, { form: { ...credentials, csrf: stolen.hidden.csrf! } });
    assert.equal(res.status, 403, res.text.slice(0, 200));
    assert.match(res.text, /CSRF/);
    assert.deepEqual(sessionCookie(res), []);
    const bare = await httpClient().request(action, { form: { ...credentials, csrf: stolen.hidden.csrf! } });
    assert.equal(bare.status, 403, 'nor without any cookie');
    assert.deepEqual(sessionCookie(bare), []);
  });

  await t.test('nothing was written: no session, no sign-in event, no pending account', async () => {
    assert.equal(await stored(writ, w.orgs), before);
    assert.ok(!alice.jar.names(writ.issuer).includes('writ_session'), 'the victim holds no session');
    const opened = await alice.request(`${writ.issuer}${next}`);
    assert.equal(opened.status, 303, 'the connect link asks the victim to sign in');
    assert.match(opened.location ?? '', /\/account\?org=/);
    assert.equal(await stored(writ, w.orgs), before);
  });

  await t.test('control: the same token in the attacker\'s own browser, from the page itself, signs in', async () => {
    const res = await mallory.request(action, { form: { ...credentials, csrf: stolen.hidden.csrf! } });
    assert.equal(res.status, 303);
    assert.equal(sessionCookie(res).length, 1);
    assert.equal(new URL(res.location!).pathname, '/connect/new');
  });
  void victim;
});

test('the pre-session cookie is HttpOnly, SameSite=Lax, path /, and __Host- and Secure behind an https issuer', async (t) => {
  await t.test('http issuer', async () => {
    const writ = await startTestWrit();
    t.after(() => writ.stop());
    const seeded = await seedOrg(writ);
    const res = await httpClient().request(`${writ.issuer}/account?org=${seeded.org.id}`);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('writ_presession='));
    assert.ok(cookie, res.headers.getSetCookie().join(' | '));
    assert.match(cookie, /; path=\/(;|$)/);
    assert.match(cookie, /; samesite=lax/i);
    assert.match(cookie, /; httponly/i);
  });

  await t.test('https issuer with TLS ending in front of Writ: sign-in works and every cookie is Secure', async () => {
    const issuer = 'https://writ.example';
    const writ = await startTestWrit({ env: { WRIT_ISSUER: issuer } });
    t.after(() => writ.stop());
    const local = `http://127.0.0.1:${writ.port}`;
    // The admin API over loopback: the issuer's name resolves nowhere here.
    const seeded = await seedOrg({ ...writ, admin: (method, path, body) => adminAt(local, writ.adminToken, method, path, body) });
    const browser = httpClient();
    const page = await browser.request(`${local}/account?org=${seeded.org.id}`);
    assert.equal(page.status, 200);
    const cookie = page.headers.getSetCookie().find((c) => c.startsWith('__Host-writ_presession='));
    assert.ok(cookie, page.headers.getSetCookie().join(' | '));
    assert.match(cookie, /; path=\/;.*secure/i);
    assert.doesNotMatch(cookie, /domain=/i);
    const form = parseForm(page.text, '/account/signin');
    const wrongSite = await browser.request(new URL(form.action, local), { form: { ...form.hidden, username: seeded.user.username, password: seeded.user.password } });
    assert.equal(wrongSite.status, 403, 'the page was served for https://writ.example, not for this origin');
    const posted = await browser.request(new URL(form.action, local), { origin: issuer, form: { ...form.hidden, username: seeded.user.username, password: seeded.user.password } });
    assert.equal(posted.status, 303, posted.text.slice(0, 300));
    assert.match(posted.headers.getSetCookie().find((c) => c.startsWith('writ_session=')) ?? '', /secure/i);
  });
});

async function adminAt(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, text };
}

// ---- Every route of the pages ----------------------------------------------------------------

test('every state-changing route of the pages is refused from another site, even with a valid session and CSRF token, and nothing changes', async (t) => {
  const w = await world();
  t.after(() => w.stop());
  const s = await pagesScene(w);
  const posts = pageRoutes().filter((r) => r.method !== 'GET');
  assert.ok(posts.length >= 10, `the routers were read: ${posts.map((r) => r.path).join(', ')}`);
  const before = await stored(w.writ, w.orgs);
  for (const route of posts) {
    await t.test(`${route.method} ${route.path}`, async () => {
      const { url, form } = s.requestFor(route);
      for (const [name, options] of CROSS_SITE) {
        const res = await s.browser.request(url, { ...options, method: route.method, form });
        assertRefusedCrossSite(res, `${route.path}, ${name}`);
        assert.deepEqual(res.headers.getSetCookie(), [], `${route.path}, ${name}: no cookie changes`);
      }
    });
  }
  assert.equal(await stored(w.writ, w.orgs), before, 'nothing was written');
  assert.match((await s.browser.request(`${w.writ.issuer}/account`)).text, /alice at XCorp/, 'still signed in');

  await t.test('control: a program with no cookie and no Origin reaches the route (and is refused by it, not by the site check)', async () => {
    const res = await httpClient().request(`${w.writ.issuer}/account/signout`, { origin: null, form: {} });
    assert.equal(res.status, 303);
    const revoke = await httpClient().request(`${w.writ.issuer}/account/grants/${s.grant.id}/revoke`, { origin: null, form: {} });
    assert.equal(revoke.status, 401);
  });
});

test('GET never changes state: every page route, signed in or not, leaves the store as it was', async (t) => {
  const w = await world();
  t.after(() => w.stop());
  const s = await pagesScene(w);
  const gets = pageRoutes().filter((r) => r.method === 'GET');
  assert.ok(gets.length >= 8, `the routers were read: ${gets.map((r) => r.path).join(', ')}`);
  // A callback for the pending account that this browser never started (a provider error, too).
  const state = `${s.org}.${s.account.id}.${'A'.repeat(32)}`;
  const query: Record<string, string> = {
    '/connect/new': `?org=${s.org}&connector=demo`,
    '/connect/callback': `?state=${state}&error=access_denied`,
    '/console/audit': '?type=grant.created',
  };
  const before = await stored(w.writ, w.orgs);
  for (const browser of [s.browser, httpClient()]) {
    for (const route of gets) {
      const url = new URL(route.path.replace(/:[A-Za-z_]+/g, (p) => s.ids[p] ?? 'x') + (query[route.path] ?? `?org=${s.org}`), w.writ.issuer);
      const res = await browser.request(url);
      assert.ok(res.status < 500, `${route.path}: ${res.status}`);
    }
  }
  assert.equal(await stored(w.writ, w.orgs), before, 'a GET wrote something');
  assert.ok(gets.some((r) => r.path === '/connect/new') && gets.some((r) => r.path === '/connect/:account_id'), 'the connect links were opened');
});

// ---- The connect flow ----------------------------------------------------------------------------

/** From Writ's POST that starts a connection, through the provider's sign-in and consent, to the URL of Writ's callback (not yet opened). */
async function throughProvider(browser: HttpClient, started: HttpResponse): Promise<string> {
  assert.equal(started.status, 303, started.text.slice(0, 200));
  const isCallback = (location: string) => new URL(location).pathname === '/connect/callback';
  let res = await browser.follow(started.location!, { stop: isCallback });
  for (let step = 0; step < 4 && !(res.location && isCallback(res.location)); step++) {
    const form = parseForms(res.text).find((f) => f.method === 'post');
    assert.ok(form, `a provider form: ${res.status} ${res.text.slice(0, 200)}`);
    const posted = await browser.request(new URL(form.action, res.url), { form: { ...form.hidden, username: 'john', password: 'demo' } });
    res = posted.location && !isCallback(posted.location) ? await browser.follow(posted.location, { stop: isCallback }) : posted;
  }
  assert.ok(res.location && isCallback(res.location), `reached the callback: ${res.status}`);
  return res.location;
}

test('connect: the page names the Writ user and org, a GET creates nothing, and only a POST with the session\'s token starts it, in that browser', async (t) => {
  const w = await world();
  t.after(() => w.stop());
  const { writ, victim, attacker } = w;
  const org = victim.org.id;
  const alice = await signIn(writ, httpClient(), org, { username: 'alice', password: 'alice password 1' });
  const link = newConnectionLink(writ.issuer, org, 'demo');
  const before = await stored(writ, w.orgs);

  const page = await alice.request(link);
  await t.test('the confirmation page says whose account the provider account joins', () => {
    assert.equal(page.status, 200);
    assert.match(page.text, /Connect your Demo notes account to Writ user alice at XCorp\?/);
    const form = parseForm(page.text, '/confirm');
    assert.equal(form.method, 'post');
    assert.ok(form.hidden.csrf);
  });
  const form = parseForm(page.text, '/confirm');
  const action = new URL(form.action, page.url);
  assert.equal(await stored(writ, w.orgs), before, 'opening the link created nothing');

  await t.test('a POST without the session\'s token, or with another session\'s, or from another browser is refused', async () => {
    const otherBrowser = await signIn(writ, httpClient(), org, { username: 'alice', password: 'alice password 1' });
    const otherToken = parseForm((await otherBrowser.request(link)).text, '/confirm').hidden.csrf!;
    const mallory = await signIn(writ, httpClient(), attacker.org.id, attacker.user);
    const before = await stored(writ, w.orgs);
    for (const csrf of [undefined, '', otherToken, `${form.hidden.csrf}x`]) {
      const fields = { ...form.hidden };
      if (csrf === undefined) delete fields.csrf; else fields.csrf = csrf;
      const res = await alice.request(action, { form: fields });
      assert.equal(res.status, 403, `csrf ${String(csrf).slice(0, 8)}: ${res.status}`);
    }
    assert.equal((await httpClient().request(action, { form: form.hidden })).status, 401, 'no session');
    assert.equal((await mallory.request(action, { form: form.hidden })).status, 401, 'a session of another org');
    assert.equal(await stored(writ, w.orgs), before, 'nothing was created');
  });

  await t.test('the POST from the page starts it; the callback completes only in the browser that started it', async () => {
    const started = await alice.request(action, { form: form.hidden });
    const accounts = await writ.store.vault.listAccounts(org);
    assert.equal(accounts.length, 1, 'one pending account');
    assert.equal(accounts[0]!.owner.kind === 'user' && accounts[0]!.owner.user_id, victim.user.id);
    const callback = await throughProvider(alice, started);

    // The same user signed in on another browser (or someone handed the callback URL) cannot land it.
    const elsewhere = await signIn(writ, httpClient(), org, { username: 'alice', password: 'alice password 1' });
    const landed = await elsewhere.request(callback);
    assert.equal(landed.status, 403, landed.text.slice(0, 200));
    assert.match(landed.text, /not started from this browser/);
    assert.equal((await writ.store.vault.listAccounts(org))[0]!.status, 'pending');

    const done = await alice.request(callback);
    assert.equal(done.status, 200, done.text.slice(0, 300));
    assert.match(done.text, /is connected/);
    assert.equal((await writ.store.vault.listAccounts(org))[0]!.status, 'active');
  });

  await t.test('a reconnect link shows the same page and starts nothing by itself', async () => {
    const [account] = await writ.store.vault.listAccounts(org);
    const snapshot = await stored(writ, w.orgs);
    const res = await alice.request(connectLink(writ.issuer, org, account!.id));
    assert.equal(res.status, 200);
    assert.match(res.text, /Connect your Demo notes account to Writ user alice at XCorp\?/);
    assert.equal(await stored(writ, w.orgs), snapshot);
  });
});

// ---- The authorization interaction -------------------------------------------------------------

test('interaction sign-in: the token is bound to oidc-provider\'s interaction cookie, so an attacker\'s form does not work in the victim\'s browser', async (t) => {
  const w = await world();
  t.after(() => w.stop());
  const { writ, victim } = w;
  const config = await agentClient(writ, victim.agent);
  const start = async (browser: HttpClient) => {
    const page = await browser.follow(oauth.buildAuthorizationUrl(config, {
      redirect_uri: victim.redirect_uri, code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()),
      code_challenge_method: 'S256', authorization_details: JSON.stringify(GRANTED),
    }));
    return { page, form: parseForm(page.text, '/login') };
  };
  const mallory = await start(httpClient());
  const alice = httpClient();
  await start(alice);
  const before = await stored(writ, w.orgs);
  // The attacker's own interaction, its uid and its token, posted in the victim's browser.
  const res = await alice.request(new URL(mallory.form.action, mallory.page.url), { form: { ...mallory.form.hidden, username: 'alice', password: 'alice password 1' } });
  assert.ok(res.status >= 400 && res.status < 500, `${res.status}`);
  assert.deepEqual(sessionCookie(res), []);
  assert.equal(await stored(writ, w.orgs), before, 'no sign-in was even attempted');
});

test('a user signed in for an org-B agent who opens an org-A agent\'s authorization is asked to sign in to org A: never a 5xx', async (t) => {
  const w = await world();
  t.after(() => w.stop());
  const { writ, victim: a, attacker: b } = w;
  const browser = httpClient();
  const inB = await delegate(writ, b, { authorization_details: GRANTED, browser });
  assert.ok(inB.tokens, 'signed in and delegated in org B');

  const statuses: number[] = [];
  const config = await agentClient(writ, a.agent);
  let res = await browser.request(oauth.buildAuthorizationUrl(config, {
    redirect_uri: a.redirect_uri, code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()),
    code_challenge_method: 'S256', authorization_details: JSON.stringify(GRANTED),
  }));
  statuses.push(res.status);
  while (res.location && !res.location.startsWith(a.redirect_uri)) { res = await browser.request(res.location); statuses.push(res.status); }
  assert.ok(statuses.every((s) => s < 500), `statuses ${statuses.join(' ')}`);
  assert.equal(res.status, 200);
  assert.match(res.text, /Sign in to XCorp/, 'the sign-in of the agent\'s own org');
  assert.ok(!writ.logs.some((l) => /authorization server error|"level":"error"/.test(l)), 'no server error was logged');

  // Org B's credentials do not sign in to org A; org A's user can, and the grant is theirs.
  const form = parseForm(res.text, '/login');
  const wrong = await browser.request(new URL(form.action, res.url), { form: { ...form.hidden, username: b.user.username, password: b.user.password } });
  assert.equal(wrong.status, 401);
  const inA = await delegate(writ, a, { authorization_details: GRANTED, browser, username: 'alice', password: 'alice password 1' });
  assert.ok(inA.tokens, `delegated in org A: ${inA.last.status}`);
  const grants = await writ.store.grants.listGrants(a.org.id);
  assert.deepEqual(grants.map((g) => g.user_id), [a.user.id]);
});
