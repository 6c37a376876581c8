// The sign-in CSRF attack in a real browser: a page on another site auto-posts an attacker's
// credentials and form token to Writ's sign-in with next=/connect/new. Chromium sends what it
// really sends (no Lax cookie, its own Origin and Sec-Fetch-Site); Writ must refuse and the
// victim's browser must hold no Writ session afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newConnectionLink } from '../../src/connect/routes.ts';
import { escapeHtml } from '../../src/web/html.ts';
import { httpClient, parseForm } from '../support/http.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { launchChromium } from './chromium.ts';

/** The attacker's page, on 127.0.0.1 while Writ is on localhost: another site. */
async function attackerSite(action: string, fields: Record<string, string>) {
  const inputs = Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join('');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><title>Win a prize</title><body><form method="post" action="${escapeHtml(action)}">${inputs}</form><script>document.forms[0].submit()</script></body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
}

test('a page on another site that auto-posts the attacker\'s sign-in to Writ leaves the victim\'s browser without a Writ session', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const victim = await seedOrg(writ, { name: 'XCorp', username: 'alice', password: 'alice password 1' });
  const attacker = await seedOrg(writ, { name: 'Evil Inc', username: 'mallory', password: 'mallory password 1' });
  const next = newConnectionLink('', attacker.org.id, 'demo');

  // The attacker's form token, from the attacker's own visit.
  const own = await httpClient().request(`${writ.issuer}/account?org=${attacker.org.id}&next=${encodeURIComponent(next)}`);
  const form = parseForm(own.text, '/account/signin');
  const site = await attackerSite(new URL(form.action, own.url).href, { ...form.hidden, username: 'mallory', password: 'mallory password 1' });
  t.after(() => site.close());

  const context = await browser.newContext();
  const page = await context.newPage();
  // The victim has been to Writ before: the browser holds a pre-session cookie.
  await page.goto(`${writ.issuer}/account?org=${victim.org.id}`);
  const events = async () => (await writ.admin('GET', `/orgs/${attacker.org.id}/audit?limit=1000`)).json.events.length as number;
  const before = await events();

  const answer = page.waitForResponse((res) => res.url().startsWith(`${writ.issuer}/account/signin`));
  await page.goto(site.url);
  const res = await answer;
  assert.equal(res.status(), 403);
  const sent = await res.request().allHeaders();
  assert.equal(sent['sec-fetch-site'], 'cross-site', 'Chromium says where the post came from');
  assert.ok(!('cookie' in sent) || !/writ_presession/.test(sent.cookie ?? ''), 'the Lax pre-session cookie stayed home');
  await page.waitForLoadState();
  assert.match(await page.locator('main').innerText(), /another site/);
  assert.deepEqual((await context.cookies(writ.issuer)).filter((c) => c.name === 'writ_session'), [], 'no Writ session in the victim\'s browser');
  assert.equal(await events(), before, 'no sign-in was attempted');
});
