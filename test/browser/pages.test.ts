// Every page people use, in Chromium at a desktop width (1,400 px) and a phone's (390 px): no
// axe-core violation of serious or critical impact, the stylesheet applied under the pages' own
// CSP, no page wider than the window and no table wider than its page, and on the audit log the
// "Who, for whom" cells reading as lines of words, not one word a line. A screenshot of each
// page at each width lands in test-artifacts/pages/.
//
// The pages come from the routers: every GET route the page routers declare must be opened by
// at least one visit below, so a new page fails this test until it has a visit (add it to
// `visits`, with the person who sees it and a real URL).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import * as oauth from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { newConnectionLink } from '../../src/connect/routes.ts';
import { STYLESHEET_PATH } from '../../src/web/html.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { ACCESS_TOKEN, JWT, details, exchange } from '../support/exchange.ts';
import { seedOrg } from '../support/writ.ts';
import { launchChromium } from './chromium.ts';
import { approvalWorld, askApproval, payment, TOOL } from '../approvals/support.ts';

const SCREENSHOTS = resolve(import.meta.dirname, '../../test-artifacts/pages');
const WIDTHS = [{ name: 'desktop', width: 1400, height: 900 }, { name: 'phone', width: 390, height: 844 }] as const;
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const READ = 'github.issues.get';
const NOTES = 'demo.notes.create';

/** Who opens the page: nobody signed in, John (a member), Alice (an admin), or a person part-way through an agent's authorization. */
type Who = 'anonymous' | 'john' | 'alice' | 'authorizing';

interface Visit {
  /** Names the screenshots. */
  name: string;
  who: Who;
  /** The page's URL; or, for pages reached through others, a walk there that ends on it. */
  url: string | ((page: Page) => Promise<void>);
  /** The status the page answers with (or the statuses it may); refusals are pages too. */
  status?: number | number[];
  /**
   * The page route this visit opens, when the page belongs to a feature a build may not serve yet:
   * the visit is skipped, and says so, while no page router declares it.
   */
  needs?: string;
  /** Checks of this page's own content, at each width. */
  check?: (page: Page, width: number) => Promise<void>;
}

interface AxeViolation { id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[] }> }

/** axe-core's violations of serious or critical impact, as lines a person can act on. */
async function axeViolations(page: Page): Promise<string[]> {
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: Document, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 5).join(', ')})`);
}

/** What is wider than it may be: the page itself, and any table wider than the `main` it sits in. */
async function overflow(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) out.push(`the page scrolls sideways: ${root.scrollWidth} px of content in ${root.clientWidth} px`);
    const main = document.querySelector('main')!;
    const style = getComputedStyle(main);
    const room = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    document.querySelectorAll('table').forEach((table, i) => {
      if (table.scrollWidth > table.clientWidth || table.offsetWidth > room + 1) {
        // The columns' widths, to see which one will not give way.
        const cells = [...(table.querySelector('tbody tr') ?? table).children].map((c) => `${Math.round(c.getBoundingClientRect().width)}`);
        out.push(`table ${i + 1} ("${table.querySelector('th')?.textContent?.trim()}") is ${Math.max(table.scrollWidth, table.offsetWidth)} px wide in ${Math.round(room)} px (columns ${cells.join(', ')} px)`);
      }
    });
    return out;
  });
}

/** Each cell of the column headed `header`: its words and the lines they are drawn on. */
async function columnLines(page: Page, header: string): Promise<Array<{ words: number; lines: number; text: string }>> {
  return page.evaluate((header) => {
    const out: Array<{ words: number; lines: number; text: string }> = [];
    for (const table of document.querySelectorAll('table')) {
      const heads = [...table.querySelectorAll('thead th')];
      const index = heads.findIndex((th) => th.textContent?.trim() === header);
      if (index < 0) continue;
      for (const row of table.querySelectorAll('tbody tr')) {
        const cell = row.children[index];
        if (!cell) continue;
        const range = document.createRange();
        range.selectNodeContents(cell);
        const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        const text = cell.textContent?.trim() ?? '';
        out.push({ words: text.split(/\s+/).filter(Boolean).length, lines: tops.size, text });
      }
    }
    return out;
  }, header);
}

/**
 * Opens a page at each width (`open` brings the page there) and holds it to everything this file
 * checks: the stylesheet applied and nothing blocked by the CSP, one h1, no serious or critical
 * axe-core violation, nothing wider than it may be, the page's own `check`; then a screenshot.
 */
async function inspect(context: BrowserContext, name: string, open: (page: Page) => Promise<void>, check?: Visit['check']): Promise<void> {
  const page = await context.newPage();
  const blocked: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
  try {
    for (const size of WIDTHS) {
      await page.setViewportSize({ width: size.width, height: size.height });
      await open(page);
      const where = `${name} at ${size.width} px`;
      const styled = await page.evaluate((path) => [...document.styleSheets].some((s) => s.href?.endsWith(path) && s.cssRules.length > 0), STYLESHEET_PATH);
      assert.ok(styled, `${where}: the stylesheet is applied`);
      assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1, `${where}: one h1`);
      assert.deepEqual(await axeViolations(page), [], `${where}: axe-core`);
      assert.deepEqual(await overflow(page), [], `${where}: layout`);
      await check?.(page, size.width);
      mkdirSync(SCREENSHOTS, { recursive: true });
      await page.screenshot({ path: join(SCREENSHOTS, `${name}-${size.width}.png`), fullPage: true });
    }
    assert.deepEqual(blocked, [], `${name}: the CSP blocked nothing the page needs`);
  } finally {
    await page.close();
  }
}

/** A browser context that has axe-core in every page, added through the browser's own channel, which the pages' CSP (no script at all) does not govern. */
async function axeContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.addInitScript({ content: AXE });
  return context;
}

/** Signs in through the account page's form, as a person does. */
async function signIn(context: BrowserContext, issuer: string, org: string, user: { username: string; password: string }): Promise<void> {
  const page = await context.newPage();
  await page.goto(`${issuer}/account?org=${org}`);
  await page.getByLabel('Username').fill(user.username);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${issuer}/account`);
  await page.close();
}

test('every page passes axe-core and keeps its layout at 1,400 px and 390 px', async (t: TestContext) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { name: 'XCorp', tools: [READ, NOTES, 'notion.pages.create'] });
  const org = seeded.org.id;
  const { issuer } = writ;
  const alice = { username: 'alice', password: 'admin horse battery staple' };
  assert.equal((await writ.admin('POST', `/orgs/${org}/users`, { ...alice, roles: ['admin'] })).status, 201);
  const mkAgent = async (name: string) => (await writ.admin('POST', `/orgs/${org}/agents`, { name, tools: [READ] })).json as { client_id: string; client_secret: string };

  // John delegates, connects the demo service, and his agent passes the authority down a chain
  // of three, uses it once and is refused once: every kind of row the pages show.
  const reading = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [READ], resources: ['github:repo:acme/*'] }] });
  const writing = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [NOTES], expires_at: new Date(Date.now() + 30 * 86400_000).toISOString() }] });
  const connected = await openConnectLink(writing.browser, newConnectionLink(issuer, org, 'demo'), { providerUser: 'john' });
  assert.match(connected.text, /is connected/);
  const pending = (await writ.admin('POST', `/orgs/${org}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id })).json as { id: string };
  const triage = await mkAgent('Triage sub-agent');
  const reader = await mkAgent('Reader sub-sub-agent');
  const a1 = await exchange(writ, seeded.agent, { subject_token: reading.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([READ], { resources: ['github:repo:acme/*'] }) });
  const b1 = await exchange(writ, triage, { subject_token: a1.json.access_token, subject_token_type: JWT });
  const c1 = await exchange(writ, reader, { subject_token: b1.json.access_token, subject_token_type: JWT });
  assert.deepEqual([a1.status, b1.status, c1.status], [200, 200, 200]);
  const note = await exchange(writ, seeded.agent, { subject_token: writing.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([NOTES], { constraints: { title: { eq: 'Weekly report' } } }) });
  assert.equal(note.status, 200, JSON.stringify(note.json));
  const call = (title: string) => fetch(`${issuer}/v1/tools/${NOTES}/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${note.json.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { title, body: 'x' } }),
  });
  assert.equal((await call('Weekly report')).status, 200);
  assert.equal((await call('Something else')).status, 403);

  const config = await agentClient(writ, seeded.agent);
  const authorizeUrl = async () => oauth.buildAuthorizationUrl(config, {
    redirect_uri: seeded.redirect_uri, code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()),
    code_challenge_method: 'S256', authorization_details: JSON.stringify([{ type: 'tool_access', tools: [NOTES] }]),
  }).toString();

  const visits: Visit[] = [
    // Nobody signed in.
    { name: 'account-sign-in', who: 'anonymous', url: `${issuer}/account?org=${org}` },
    { name: 'console-choose-org', who: 'anonymous', url: `${issuer}/console` },
    { name: 'authorize-sign-in', who: 'authorizing', url: async (page) => { await page.goto(await authorizeUrl()); } },
    {
      name: 'authorize-consent', who: 'authorizing',
      url: async (page) => {
        await page.goto(await authorizeUrl());
        // Signed in by the first width's walk, the second goes straight to consent.
        if (await page.getByLabel('Username').count()) {
          await page.getByLabel('Username').fill(seeded.user.username);
          await page.getByLabel('Password').fill(seeded.user.password);
          await page.getByRole('button', { name: 'Sign in' }).click();
        }
        await page.getByRole('button', { name: 'Approve' }).waitFor();
      },
    },
    { name: 'authorize-error', who: 'anonymous', url: `${issuer}/authorize?client_id=nope`, status: 400 },
    { name: 'sign-out-confirm', who: 'anonymous', url: `${issuer}/session/end` },
    // With single sign-on, a page that asks for the work email; without it, the error naming ?org=.
    { name: 'account-choose-org', who: 'anonymous', url: `${issuer}/account`, status: [200, 400] },
    { name: 'error', who: 'anonymous', url: `${issuer}/connect`, status: 400 },
    { name: 'not-found', who: 'anonymous', url: `${issuer}/account/nowhere`, status: 404 },
    { name: 'connect-callback-refused', who: 'anonymous', url: `${issuer}/connect/callback?state=nope`, status: 400 },
    { name: 'interaction-sso-refused', who: 'anonymous', url: `${issuer}/interaction/nope/sso`, status: 400, needs: '/interaction/:uid/sso' },
    { name: 'sso-start-unknown', who: 'anonymous', url: `${issuer}/sso/start?email=someone@unknown.example`, status: 404, needs: '/sso/start' },
    { name: 'sso-callback-refused', who: 'anonymous', url: `${issuer}/sso/callback`, status: 403, needs: '/sso/callback' },
    // John, a member.
    {
      name: 'account', who: 'john', url: `${issuer}/account`,
      check: async (page) => {
        const accounts = page.locator('section', { has: page.getByRole('heading', { name: 'Your connected accounts' }) });
        assert.equal(await accounts.getByRole('row').filter({ hasText: 'active' }).getByRole('button', { name: /^Disconnect demo/ }).count(), 1);
        assert.equal(await accounts.getByRole('row').filter({ hasText: 'pending' }).getByRole('link', { name: 'Reconnect demo' }).getAttribute('href'), `/connect/${pending.id}?org=${org}`);
        assert.equal(await page.getByRole('navigation', { name: 'Your account' }).getByRole('link', { name: 'Admin console' }).count(), 0, 'a member has no console link');
      },
    },
    { name: 'connections', who: 'john', url: `${issuer}/connect` },
    { name: 'connect-new', who: 'john', url: `${issuer}${newConnectionLink('', org, 'demo')}` },
    { name: 'connect-account', who: 'john', url: `${issuer}/connect/${pending.id}?org=${org}` },
    {
      // The whole connect flow in the browser, through the demo provider's sign-in and consent, to Writ's page at its end.
      name: 'connect-done', who: 'john',
      url: async (page) => {
        await page.goto(`${issuer}${newConnectionLink('', org, 'demo')}`);
        await page.getByRole('button', { name: /^Continue to/ }).click();
        await page.waitForURL((url) => url.origin === demo.url || url.pathname === '/connect/callback');
        if (await page.getByLabel('Username').count()) {
          await page.getByLabel('Username').fill('john');
          await page.getByLabel('Password').fill('demo');
          await page.getByRole('button', { name: 'Sign in' }).click();
        }
        // The provider asks for consent the first time only.
        const done = (url: URL) => url.pathname === '/connect/callback';
        const approve = page.getByRole('button', { name: 'Approve' });
        // Whichever comes first; the other wait is dropped (its later rejection is nobody's concern).
        const quiet = (p: Promise<unknown>) => p.catch(() => undefined);
        await Promise.race([quiet(page.waitForURL(done)), quiet(approve.waitFor())]);
        if (!done(new URL(page.url()))) await approve.click();
        await page.waitForURL(done);
        assert.match(await page.locator('h1').innerText(), /is connected/);
      },
    },
    { name: 'console-not-admin', who: 'john', url: `${issuer}/console`, status: 403 },
    { name: 'account-approvals', who: 'john', url: `${issuer}/account/approvals`, needs: '/account/approvals' },
    // Alice, an admin.
    { name: 'console-overview', who: 'alice', url: `${issuer}/console` },
    { name: 'console-policies', who: 'alice', url: `${issuer}/console/policies` },
    {
      name: 'console-approvals', who: 'alice', url: `${issuer}/console/approvals`, needs: '/console/approvals',
      check: async (page) => assert.equal(await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Approvals' }).getAttribute('aria-current'), 'page'),
    },
    { name: 'console-people', who: 'alice', url: `${issuer}/console/people`, needs: '/console/people' },
    { name: 'console-mcp', who: 'alice', url: `${issuer}/console/mcp`, needs: '/console/mcp' },
    { name: 'console-sso', who: 'alice', url: `${issuer}/console/sso`, needs: '/console/sso' },
    {
      name: 'console-dry-run', who: 'alice',
      url: async (page) => {
        await page.goto(`${issuer}/console/policies`);
        await page.getByLabel('Agent', { exact: true }).selectOption(seeded.agent.client_id);
        await page.getByLabel(/^Tools/).fill(NOTES);
        await page.getByRole('button', { name: 'Explain' }).click();
        await page.getByRole('heading', { name: /^Answer:/ }).waitFor();
      },
    },
    {
      name: 'console-audit', who: 'alice', url: `${issuer}/console/audit`,
      check: async (page, width) => {
        const refused = page.getByRole('row').filter({ hasText: 'tool.denied' });
        assert.match(await refused.innerText(), /Refused \(constraint_failed\): the input field "title" is outside the capability's constraints/);
        if (width < 1000) return;
        // At a desktop width the longest chain reads in a line or two, not a word a line.
        const cells = await columnLines(page, 'Who, for whom');
        assert.ok(cells.some((c) => /Reader sub-sub-agent for agent Triage/.test(c.text)), 'the audit log shows the chain of three');
        for (const c of cells) if (c.words >= 4) assert.ok(c.lines * 4 <= c.words + 3, `"${c.text}" takes ${c.lines} lines for ${c.words} words`);
      },
    },
    { name: 'console-audit-grant', who: 'alice', url: `${issuer}/console/audit?type=token.exchanged&agent_id=${reader.client_id}` },
  ];

  await t.test('every page the routers declare is visited', () => {
    const opened = visits.filter((v) => typeof v.url === 'string').map((v) => new URL(v.url as string).pathname);
    // Reached by walking there (the visits with a function).
    const walked = ['/interaction/:uid'];
    const missing = writ.pageRoutes.filter((r) => r.method === 'GET' && !walked.includes(r.path))
      .filter((r) => !opened.some((path) => new RegExp(`^${r.path.replace(/:[A-Za-z_]+/g, '[^/]+').replace(/\/$/, '')}/?$`).test(path)));
    assert.deepEqual(missing, [], 'each of these pages needs a visit in test/browser/pages.test.ts');
  });

  const contexts = new Map<Who, BrowserContext>();
  for (const who of ['anonymous', 'john', 'alice', 'authorizing'] as const) {
    const context = await axeContext(browser);
    if (who === 'john') await signIn(context, issuer, org, seeded.user);
    if (who === 'alice') await signIn(context, issuer, org, alice);
    contexts.set(who, context);
  }

  const served = new Set(writ.pageRoutes.filter((r) => r.method === 'GET').map((r) => r.path.replace(/\/$/, '')));
  for (const visit of visits) {
    if (visit.needs && !served.has(visit.needs)) {
      await t.test(visit.name, { skip: `no page router declares GET ${visit.needs} in this build` }, () => {});
      continue;
    }
    await t.test(visit.name, async () => {
      const expected = [visit.status ?? 200].flat();
      await inspect(contexts.get(visit.who)!, visit.name, async (page) => {
        if (typeof visit.url === 'string') {
          const res = await page.goto(visit.url);
          assert.ok(expected.includes(res?.status() ?? 0), `${visit.name} answers ${res?.status()}, not ${expected.join(' or ')}: ${await page.locator('h1').allInnerTexts()}`);
        } else {
          await visit.url(page);
        }
      }, async (page, width) => {
        // A signed-in person's page has the header: where to go, who they are, Sign out.
        if ((visit.who === 'john' || visit.who === 'alice') && expected.includes(200)) {
          const header = page.locator('header.site');
          assert.equal(await header.getByRole('navigation').count(), 1, `${visit.name}: a header navigation`);
          assert.ok(await header.getByRole('button', { name: 'Sign out' }).isVisible(), `${visit.name}: Sign out in view`);
        }
        await visit.check?.(page, width);
      });
    });
  }
});

test('a call waiting for approval reads and lays out well on the approver\'s page at 1,400 px and 390 px', async (t: TestContext) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const w = await approvalWorld(t);
  if (!w.writ.pageRoutes.some((r) => r.method === 'GET' && r.path.replace(/\/$/, '') === '/account/approvals')) {
    t.skip('no page router declares GET /account/approvals in this build');
    return;
  }
  const asked = await askApproval(w, {
    login_hint_token: w.johnToken, authorization_details: payment('inv_1042', 4200), binding_message: 'INV-1042 4200.00', requested_expiry: '300',
  });
  assert.equal(asked.status, 200, asked.text);
  const john = await axeContext(browser);
  await signIn(john, w.writ.issuer, w.org_id, w.xcorp.user);
  await inspect(john, 'account-approvals-pending', async (page) => { await page.goto(`${w.writ.issuer}/account/approvals`); }, async (page) => {
    const text = await page.locator('main').innerText();
    for (const shown of ['INV-1042 4200.00', TOOL, 'inv_1042', '4200']) assert.ok(text.includes(shown), `the page shows ${shown}`);
    assert.ok(await page.getByRole('button', { name: /Approve/ }).first().isVisible(), 'an Approve button in view');
    assert.equal(await page.getByRole('navigation', { name: 'Your account' }).getByRole('link', { name: 'Approvals' }).getAttribute('aria-current'), 'page');
  });
});
