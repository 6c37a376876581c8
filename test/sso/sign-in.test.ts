// Single sign-on per org against a real upstream OpenID provider (a second oidc-provider on
// loopback), driven in Chromium: just-in-time users with mapped roles, the callback's checks
// (state, iss, nonce, the browser that started it), passwords switched off, and two orgs on one
// provider that never share a user.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BrowserContext, Page } from 'playwright-core';
import * as oauth from 'openid-client';
import { agentClient } from '../support/delegation.ts';
import { seedOrg, startTestWrit, type TestWrit } from '../support/writ.ts';
import { accessibilityProblems, launchChromium, screenshot } from '../browser/chromium.ts';
import { startIdp, type TestIdp } from './support/idp.ts';

async function callbackServer() {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>Agent</title><main><h1>The agent received your answer</h1></main></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return { url, close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
}

async function signInAtIdp(page: Page, username: string) {
  await page.getByRole('heading', { name: 'Sign in to the identity provider' }).waitFor();
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** Runs a sign-in up to the provider's redirect back to Writ, and returns that callback URL unvisited. */
async function callbackUrl(context: BrowserContext, writ: TestWrit, idp: TestIdp, start: string, username: string): Promise<string> {
  const page = await context.newPage();
  const captured = new Promise<string>((resolve) => { idp.hold = resolve; });
  await page.goto(`${writ.issuer}${start}`);
  await signInAtIdp(page, username);
  // The provider answers with its held page once it has redirected; anything else is a failure to show.
  await page.getByRole('heading', { level: 1 }).filter({ hasNotText: 'Sign in to the identity provider' }).waitFor();
  const url = await Promise.race([captured, new Promise<undefined>((r) => setImmediate(() => r(undefined)))]);
  idp.hold = undefined;
  assert.ok(url, `the provider did not redirect back: ${page.url()} ${await page.locator('body').innerText()}`);
  await page.close();
  return url;
}

async function refusals(writ: TestWrit, org_id: string): Promise<string[]> {
  return (await writ.admin('GET', `/orgs/${org_id}/audit?type=sso.signin_refused`)).json.events.map((e: any) => e.details.reason);
}

test('single sign-on per org with a real OpenID provider, in Chromium', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const agentCallback = await callbackServer();
  t.after(() => agentCallback.close());
  const writ = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1' } });
  t.after(() => writ.stop());
  const redirect = `${writ.issuer}/sso/callback`;
  const x = await seedOrg(writ, { name: 'XCorp', redirect_uri: agentCallback.url });
  const y = await seedOrg(writ, { name: 'YCorp', redirect_uri: agentCallback.url });
  const bobAtIdp = { sub: 'idp-bob', preferred_username: 'bob', email: 'bob@xcorp.example', name: 'Bob Member', groups: ['staff'] };
  const idp: TestIdp = await startIdp({
    accounts: [
      { sub: 'idp-alice', preferred_username: 'alice', email: 'alice@xcorp.example', name: 'Alice Admin', groups: ['writ-admins'] },
      bobAtIdp,
      { sub: 'idp-yuki', preferred_username: 'yuki', email: 'yuki@ycorp.example', name: 'Yuki', groups: [] },
    ],
    clients: [
      { client_id: 'writ-xcorp', client_secret: 'xcorp-secret-at-the-idp', redirect_uris: [redirect], backchannel_logout_uri: `${writ.issuer}/sso/backchannel-logout/${x.org.id}` },
      { client_id: 'writ-ycorp', client_secret: 'ycorp-secret-at-the-idp', redirect_uris: [redirect] },
    ],
  });
  t.after(() => idp.close());

  const xIdp = {
    issuer: idp.issuer, client_id: 'writ-xcorp', client_secret: 'xcorp-secret-at-the-idp', token_endpoint_auth_method: 'client_secret_basic',
    scopes: ['openid', 'email', 'profile', 'groups'], admin_values: ['writ-admins'], domains: ['xcorp.example'], local_passwords: false,
  };
  const put = await writ.admin('PUT', `/orgs/${x.org.id}/identity-provider`, xIdp);
  assert.equal(put.status, 200, put.text);
  assert.equal(put.json.client_secret_set, true);
  assert.equal(put.json.redirect_uri, redirect);
  assert.ok(!put.text.includes('xcorp-secret-at-the-idp'), 'the secret never comes back');
  assert.equal((await writ.admin('PUT', `/orgs/${y.org.id}/identity-provider`, {
    issuer: idp.issuer, client_id: 'writ-ycorp', client_secret: 'ycorp-secret-at-the-idp', domains: ['ycorp.example'],
  })).status, 200);
  // A domain is one org's: YCorp cannot claim XCorp's.
  const stolen = await writ.admin('PUT', `/orgs/${y.org.id}/identity-provider`, { issuer: idp.issuer, client_id: 'writ-ycorp', client_secret: 's', domains: ['xcorp.example'] });
  assert.equal(stolen.status, 409);

  await t.test('an agent\'s authorization request sends the person to XCorp\'s provider; alice is made just in time, an admin by her group', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const config = await agentClient(writ, x.agent);
    const verifier = oauth.randomPKCECodeVerifier();
    const url = oauth.buildAuthorizationUrl(config, {
      redirect_uri: agentCallback.url, state: oauth.randomState(), code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
      scope: 'tool:demo.notes.get',
    });
    await page.goto(url.href);
    // Passwords are off for XCorp: no Writ sign-in page, straight to the provider.
    assert.ok(page.url().startsWith(idp.issuer), page.url());
    await signInAtIdp(page, 'alice');
    await page.getByRole('heading', { level: 1, name: 'Allow Content agent to act for you?' }).waitFor();
    assert.match(await page.locator('main').innerText(), /of XCorp asks to act as alice/);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'sso-consent');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.href.startsWith(agentCallback.url));
    assert.ok(new URL(page.url()).searchParams.get('code'));

    const users = (await writ.admin('GET', `/orgs/${x.org.id}/users`)).json.users;
    const alice = users.find((u: any) => u.username === 'alice');
    assert.deepEqual(alice.roles, ['admin']);
    assert.equal(alice.email, 'alice@xcorp.example');
    const provisioned = (await writ.admin('GET', `/orgs/${x.org.id}/audit?type=user.provisioned`)).json.events;
    assert.equal(provisioned.length, 1);
    assert.equal(provisioned[0].subject.user_id, alice.id);
    // The sign-in was fresh enough for consent: max_age reached the provider.
    const signins = (await writ.admin('GET', `/orgs/${x.org.id}/audit?type=signin.succeeded`)).json.events;
    assert.equal(signins[0].details.method, 'sso');

    // The same person again: the same user, not a second one.
    await page.goto(`${writ.issuer}/account?org=${x.org.id}`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'alice at XCorp');
    await context.close();
    assert.equal((await writ.admin('GET', `/orgs/${x.org.id}/users`)).json.users.filter((u: any) => u.username === 'alice').length, 1);
  });

  await t.test('bob, without the admin group, is a member; the account page finds XCorp by his email domain', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${writ.issuer}/account`);
    assert.deepEqual(await accessibilityProblems(page), []);
    await page.getByLabel('Work email').fill('bob@xcorp.example');
    await page.getByRole('button', { name: 'Continue with single sign-on' }).click();
    await signInAtIdp(page, 'bob');
    await page.waitForURL(`${writ.issuer}/account`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'bob at XCorp');
    assert.equal(await page.getByRole('link', { name: /Admin console/ }).count(), 0);
    const bob = (await writ.admin('GET', `/orgs/${x.org.id}/users`)).json.users.find((u: any) => u.username === 'bob');
    assert.deepEqual(bob.roles, ['member']);
    await context.close();
  });

  await t.test('the provider stays authoritative: a group gained there makes bob an admin at his next sign-in, and a disabled bob signs in no more', async () => {
    bobAtIdp.groups = ['writ-admins'];
    const signIn = async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const answer = page.waitForResponse((r) => r.url().startsWith(`${writ.issuer}/sso/callback`));
      await page.goto(`${writ.issuer}/sso/start?email=bob@xcorp.example&next=/account`);
      await signInAtIdp(page, 'bob');
      const status = (await answer).status();
      await context.close();
      return status;
    };
    assert.equal(await signIn(), 303);
    const bob = (await writ.admin('GET', `/orgs/${x.org.id}/users`)).json.users.find((u: any) => u.username === 'bob');
    assert.deepEqual(bob.roles, ['admin']);
    const updated = (await writ.admin('GET', `/orgs/${x.org.id}/audit?type=user.updated`)).json.events;
    assert.deepEqual(updated[0].actor, { kind: 'idp', issuer: idp.issuer });
    assert.equal((await writ.admin('POST', `/orgs/${x.org.id}/users/${bob.id}/disable`)).status, 200);
    assert.equal(await signIn(), 403);
    assert.equal((await writ.admin('GET', `/orgs/${x.org.id}/users`)).json.users.filter((u: any) => u.username === 'bob').length, 1, 'no second bob');
    assert.equal((await writ.admin('POST', `/orgs/${x.org.id}/users/${bob.id}/enable`)).status, 200);
    bobAtIdp.groups = ['staff'];
  });

  await t.test('a local password is refused once the org switches passwords off', async () => {
    // XCorp's john has a Writ password, and XCorp has switched passwords off: no form is offered.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${writ.issuer}/account?org=${x.org.id}`);
    assert.ok(page.url().startsWith(idp.issuer), 'the sign-in goes to the provider');
    // So does the sign-in a connect link or the console asks for, keeping where to return.
    const connect = await fetch(`${writ.issuer}/account?org=${x.org.id}&next=${encodeURIComponent('/connect/acct_1')}`, { redirect: 'manual' });
    assert.equal(connect.status, 303);
    const start = new URL(connect.headers.get('location')!, writ.issuer);
    assert.equal(start.pathname, '/sso/start');
    assert.equal(start.searchParams.get('next'), '/connect/acct_1');
    // YCorp still allows passwords; its form is open when the admin switches them off.
    await page.goto(`${writ.issuer}/account?org=${y.org.id}`);
    assert.equal(await page.getByRole('link', { name: 'Sign in with YCorp\'s identity provider' }).count(), 1);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'sso-sign-in-choice');
    await page.getByLabel('Username').fill(y.user.username);
    await page.getByLabel('Password').fill(y.user.password);
    assert.equal((await writ.admin('PUT', `/orgs/${y.org.id}/identity-provider`, {
      issuer: idp.issuer, client_id: 'writ-ycorp', client_secret: 'ycorp-secret-at-the-idp', domains: ['ycorp.example'], local_passwords: false,
    })).status, 200);
    const answer = page.waitForResponse((r) => r.url().startsWith(`${writ.issuer}/account/signin`));
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.equal((await answer).status(), 401);
    assert.match(await page.locator('main').innerText(), /signs in through its identity provider only/);
    assert.equal(await page.getByLabel('Password').count(), 0);
    const failed = (await writ.admin('GET', `/orgs/${y.org.id}/audit?type=signin.failed`)).json.events;
    assert.match(failed[0].details.reason, /local passwords are switched off/);
    // No session was made: the account page still asks for sign-in.
    const cookies = await context.cookies(writ.issuer);
    assert.equal(cookies.some((c) => c.name === 'writ_session' && c.value), false);
    await context.close();
  });

  await t.test('a callback with the wrong state, issuer or nonce, or in another browser, signs nobody in', async () => {
    const before = (await writ.admin('GET', `/orgs/${x.org.id}/users`)).json.users.length;
    const refusedBefore = (await refusals(writ, x.org.id)).length;
    const start = `/sso/start?org=${x.org.id}&next=/account`;

    const attempt = async (mutate: (u: URL) => void, into?: BrowserContext) => {
      const context = await browser.newContext();
      const url = new URL(await callbackUrl(context, writ, idp, start, 'bob'));
      mutate(url);
      const target = into ?? context;
      const page = await target.newPage();
      const res = await page.goto(url.href);
      const text = await page.locator('main').innerText();
      const signedIn = (await target.cookies(writ.issuer)).some((c) => c.name === 'writ_session' && c.value);
      await context.close();
      if (into) await into.close();
      return { status: res?.status(), text, signedIn };
    };

    const wrongState = await attempt((u) => u.searchParams.set('state', 'not-the-state-this-browser-holds'));
    assert.equal(wrongState.status, 403);
    assert.equal(wrongState.signedIn, false);
    assert.match(wrongState.text, /single sign-on refused/);

    const elsewhere = await attempt(() => undefined, await browser.newContext());
    assert.equal(elsewhere.status, 403);
    assert.equal(elsewhere.signedIn, false);
    assert.match(elsewhere.text, /not started in this browser/);

    idp.tamper.iss = 'http://127.0.0.1:1';
    const wrongIss = await attempt(() => undefined);
    idp.tamper.iss = undefined;
    assert.equal(wrongIss.status, 403);
    assert.equal(wrongIss.signedIn, false);

    idp.tamper.nonce = 'a-nonce-this-browser-never-sent';
    const wrongNonce = await attempt(() => undefined);
    idp.tamper.nonce = undefined;
    assert.equal(wrongNonce.status, 403);
    assert.equal(wrongNonce.signedIn, false);

    // Newest first: the iss and nonce refusals, then the state's (the other browser found no flow to refuse).
    const reasons = (await refusals(writ, x.org.id)).slice(0, -refusedBefore || undefined);
    assert.equal(reasons.length, 3, JSON.stringify(reasons));
    assert.ok(reasons.every((r) => typeof r === 'string' && r.length > 0));
    assert.equal((await writ.admin('GET', `/orgs/${x.org.id}/users`)).json.users.length, before);
  });

  await t.test('a user of XCorp\'s provider never lands in YCorp', async () => {
    // 1. Through YCorp's own sign-in: the provider is shared, the email domain is not YCorp's.
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = page.waitForResponse((r) => r.url().startsWith(`${writ.issuer}/sso/callback`));
    await page.goto(`${writ.issuer}/sso/start?org=${y.org.id}&next=/account`);
    await signInAtIdp(page, 'alice');
    assert.equal((await res).status(), 403);
    assert.match(await page.locator('main').innerText(), /email domain is not one of this organisation's/);
    await context.close();

    // 2. An XCorp sign-in aimed at a YCorp agent's authorization request: it signs alice in to
    // XCorp, and YCorp's interaction refuses that session.
    const context2 = await browser.newContext();
    const page2 = await context2.newPage();
    const config = await agentClient(writ, y.agent);
    await page2.goto(oauth.buildAuthorizationUrl(config, {
      redirect_uri: agentCallback.url, state: oauth.randomState(), code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()), code_challenge_method: 'S256',
    }).href);
    // YCorp has passwords off now: its own provider page is where this lands.
    assert.ok(page2.url().startsWith(idp.issuer));
    const interaction = (await context2.cookies()).find((c) => c.name === '_interaction' && c.path.startsWith('/interaction/'));
    assert.ok(interaction, 'the authorization request holds an interaction in this browser');
    const interactionUid = interaction.path.split('/').pop()!;
    const landed = page2.waitForResponse((r) => r.url().includes(`/interaction/${interactionUid}/sso`));
    await page2.goto(`${writ.issuer}/sso/start?org=${x.org.id}&interaction=${interactionUid}&next=/account`);
    await signInAtIdp(page2, 'alice');
    assert.equal((await landed).status(), 403);
    assert.match(await page2.locator('main').innerText(), /does not belong to this agent's organisation/);
    assert.ok(!page2.url().startsWith(agentCallback.url), 'no code reached YCorp\'s agent');
    await context2.close();

    const yUsers = (await writ.admin('GET', `/orgs/${y.org.id}/users`)).json.users.map((u: any) => u.username);
    assert.deepEqual(yUsers, [y.user.username]);
    assert.equal((await writ.admin('GET', `/orgs/${y.org.id}/grants`)).json.grants.length, 0);
  });

  await t.test('alice, an admin by her provider\'s group, reaches the console through single sign-on and sets the provider there', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${writ.issuer}/console?org=${x.org.id}`);
    await signInAtIdp(page, 'alice');
    await page.waitForURL(`${writ.issuer}/console`);
    await page.getByRole('link', { name: 'Single sign-on' }).click();
    await page.getByRole('heading', { level: 1, name: 'Single sign-on' }).waitFor();
    assert.match(await page.locator('main').innerText(), new RegExp(`sign in through ${idp.issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} only`));
    assert.deepEqual(await accessibilityProblems(page), []);
    assert.equal(await page.getByLabel('Issuer URL').inputValue(), idp.issuer);
    assert.ok(!(await page.content()).includes('xcorp-secret-at-the-idp'), 'the secret is never on the page');
    await page.getByLabel(/Seconds since the provider's sign-in/).fill('120');
    await page.getByLabel(/Client secret/).fill('xcorp-secret-at-the-idp');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(`${writ.issuer}/console/sso?saved=1`);
    await screenshot(page, 'sso-console');
    const configured = (await writ.admin('GET', `/orgs/${x.org.id}/identity-provider`)).json;
    assert.equal(configured.sensitive_max_age, 120);
    assert.equal(configured.local_passwords, false);
    assert.deepEqual(configured.domains, ['xcorp.example']);
    const events = (await writ.admin('GET', `/orgs/${x.org.id}/audit?type=sso.configured`)).json.events;
    assert.equal(events[0].actor.kind, 'user');
    await context.close();
  });

  await t.test('delegating to an agent needs a sign-in at the provider no older than the org\'s max_age', async () => {
    const setMaxAge = (seconds: number) => writ.admin('PUT', `/orgs/${x.org.id}/identity-provider`, { ...xIdp, sensitive_max_age: seconds });
    assert.equal((await setMaxAge(0)).status, 200);
    const context = await browser.newContext();
    const page = await context.newPage();
    const config = await agentClient(writ, x.agent);
    const authorize = async () => oauth.buildAuthorizationUrl(config, {
      redirect_uri: agentCallback.url, state: oauth.randomState(), code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()), code_challenge_method: 'S256',
      scope: 'tool:demo.notes.get',
    }).href;
    await page.goto(await authorize());
    assert.equal(new URL(page.url()).origin, new URL(idp.issuer).origin);
    await signInAtIdp(page, 'alice');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.href.startsWith(agentCallback.url));
    // Signed in at Writ a moment ago, yet older than 0 seconds: the provider is asked again, with max_age=0.
    const again = page.waitForRequest((r) => r.url().startsWith(`${idp.issuer}/auth?`));
    await page.goto(await authorize());
    assert.equal(new URL((await again).url()).searchParams.get('max_age'), '0');
    await page.getByRole('heading', { name: 'Sign in to the identity provider' }).waitFor();
    await context.close();
    assert.equal((await setMaxAge(300)).status, 200);
  });

  await t.test('signing out at the provider ends the person\'s sessions at Writ\'s authorization server (back-channel logout)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const config = await agentClient(writ, x.agent);
    const authorize = async () => oauth.buildAuthorizationUrl(config, {
      redirect_uri: agentCallback.url, state: oauth.randomState(), code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()), code_challenge_method: 'S256',
      scope: 'tool:demo.notes.get',
    }).href;
    await page.goto(await authorize());
    await signInAtIdp(page, 'alice');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((u) => u.href.startsWith(agentCallback.url));
    // Signed in at Writ's authorization server: a second request does not ask the provider again.
    await page.goto(await authorize());
    assert.ok(!page.url().startsWith(idp.issuer), `still signed in at Writ: ${page.url()}`);

    const alice = (await writ.admin('GET', `/orgs/${x.org.id}/users`)).json.users.find((u: any) => u.username === 'alice');
    await page.goto(`${idp.issuer}/session/end`);
    await page.getByRole('button', { name: 'Yes, sign me out' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/session/end/confirm'));
    const out = (await writ.admin('GET', `/orgs/${x.org.id}/audit?type=sso.logged_out`)).json.events;
    assert.equal(out.length, 1);
    assert.equal(out[0].subject.user_id, alice.id);
    assert.ok(out[0].details.sessions_ended >= 1);
    // The next authorization asks for sign-in again, at the provider.
    await page.goto(await authorize());
    await page.getByRole('heading', { name: 'Sign in to the identity provider' }).waitFor();
    await context.close();

    // A logout token that is not the provider's changes nothing.
    const forged = await fetch(`${writ.issuer}/sso/backchannel-logout/${x.org.id}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: 'eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.' }),
    });
    assert.equal(forged.status, 400);
    assert.equal(((await forged.json()) as any).error, 'invalid_request');
  });
});
