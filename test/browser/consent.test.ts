// A person delegates to an agent in a real browser, then takes it back from their own page.
// The agent's side is openid-client; its redirect_uri is a callback server this test runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oauth from 'openid-client';
import { agentClient } from '../support/delegation.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { accessibilityProblems, launchChromium, screenshot } from './chromium.ts';

/** The agent's redirect_uri: records every callback it receives. */
async function callbackServer() {
  const received: URL[] = [];
  const server = createServer((req, res) => {
    received.push(new URL(req.url ?? '/', `http://${req.headers.host}`));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>Agent</title><main><h1>The agent received your answer</h1></main></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return { url, received, close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
}

test('a person signs in, reads the consent, approves, and later revokes from their own page', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const callback = await callbackServer();
  t.after(() => callback.close());
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { name: 'XCorp', redirect_uri: callback.url });

  // The agent's application builds the authorization URL (PKCE + RFC 9396 authorization_details).
  const config = await agentClient(writ, seeded.agent);
  const verifier = oauth.randomPKCECodeVerifier();
  const state = oauth.randomState();
  const authorization_details = [{ type: 'tool_access', tools: ['notion.pages.create'], resources: ['notion:page:8a1f'] }];
  const authorizationUrl = oauth.buildAuthorizationUrl(config, {
    redirect_uri: callback.url, state, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    authorization_details: JSON.stringify(authorization_details),
  });

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(authorizationUrl.href);

  await t.test('the sign-in page', async () => {
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in to XCorp');
    assert.match(await page.locator('main').innerText(), /Content agent is asking for access on your behalf/);
    assert.deepEqual(await accessibilityProblems(page), []);
    await page.getByLabel('Username').fill(seeded.user.username);
    await page.getByLabel('Password').fill(seeded.user.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  });

  await t.test('the consent page names the agent, the org, the tools and the resources', async () => {
    await page.getByRole('heading', { level: 1, name: 'Allow Content agent to act for you?' }).waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /The agent Content agent \(agt_[^)]+\) of XCorp asks to act as john/);
    assert.ok(text.includes(seeded.agent.client_id));
    assert.match(text, /notion\.pages\.create on notion:page:8a1f/);
    assert.match(text, /revoke it at any time/);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'consent');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((url) => url.href.startsWith(callback.url));
  });

  // The agent's side finishes the code flow with what reached its callback.
  // (The browser also asks the callback's origin for /favicon.ico.)
  assert.equal(callback.received.filter((u) => u.pathname === '/callback').length, 1);
  const tokens = await oauth.authorizationCodeGrant(config, new URL(page.url()), { pkceCodeVerifier: verifier, expectedState: state });
  const info = await oauth.tokenIntrospection(config, tokens.access_token);
  assert.equal(info.active, true);
  assert.equal(info.sub, seeded.user.id);
  const grant = info.auth_event_id as string;
  assert.match(grant, /^grt_/);

  await t.test('the user revokes the grant by clicking Revoke on /account', async () => {
    // Signing in for consent signed this browser in to Writ: the account page knows the user.
    await page.goto(`${writ.issuer}/account`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'john at XCorp');
    const row = page.getByRole('row').filter({ hasText: 'Content agent' });
    assert.match(await row.innerText(), /notion\.pages\.create/);
    assert.deepEqual(await accessibilityProblems(page), []);
    await screenshot(page, 'account-before-revoke');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await page.waitForURL(`${writ.issuer}/account`);
    assert.match(await page.locator('main').innerText(), /None\. Nothing can act for you\./);

    assert.equal((await oauth.tokenIntrospection(config, tokens.access_token)).active, false);
    await assert.rejects(oauth.refreshTokenGrant(config, tokens.refresh_token!), (err: any) => err.error === 'invalid_grant');
    const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=grant.revoked`)).json.events;
    assert.equal(events.length, 1);
    assert.equal(events[0].subject.grant_id, grant);
    assert.deepEqual(events[0].actor, { kind: 'user', user_id: seeded.user.id });
  });
});
