// An org admin in a real browser: signs in to the console, revokes a grant, asks the policy a
// dry-run question, and reads the audit log through a filter, with delegation chains in words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'openid-client';
import { delegate } from '../support/delegation.ts';
import { ACCESS_TOKEN, JWT, details, exchange } from '../support/exchange.ts';
import { apiKeyConnector, seedOrg, startTestWrit } from '../support/writ.ts';
import { accessibilityProblems, launchChromium, screenshot } from './chromium.ts';

const POLICIES = join(import.meta.dirname, '../../policies');
const READ = 'github.issues.get';

function policyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'writ-policies-'));
  copyFileSync(join(POLICIES, 'default.yaml'), join(dir, 'default.yaml'));
  copyFileSync(join(POLICIES, 'examples/invoices.yaml'), join(dir, 'invoices.yaml'));
  return dir;
}

/** The line of `id: <rule>` in a policy file, as the console should cite it. */
function lineOf(file: string, rule: string): number {
  return readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes(`id: ${rule}`)) + 1;
}

test('an org admin revokes, dry-runs and filters the audit log in the console', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const dir = policyDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const writ = await startTestWrit({ env: { WRIT_POLICIES: dir } });
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { name: 'XCorp', tools: [READ, 'demo.notes.create', 'stripe.invoices.delete'], connectors: { stripe: apiKeyConnector(['invoices.delete']) } });
  const org = seeded.org.id;
  const mkAgent = async (name: string) => (await writ.admin('POST', `/orgs/${org}/agents`, { name, tools: [READ] })).json as { client_id: string; client_secret: string };
  const triage = await mkAgent('Triage sub-agent');
  const reader = await mkAgent('Reader sub-sub-agent');
  const alice = (await writ.admin('POST', `/orgs/${org}/users`, { username: 'alice', password: 'admin horse battery staple', roles: ['admin'] })).json;

  // John delegates twice; the first delegation is passed down a chain of three agents.
  const kept = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [READ], resources: ['github:repo:acme/*'] }] });
  const doomed = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const doomedGrant = (await oauth.tokenIntrospection(doomed.config, doomed.tokens!.access_token)).auth_event_id as string;
  const a1 = await exchange(writ, seeded.agent, { subject_token: kept.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([READ], { resources: ['github:repo:acme/*'] }) });
  const b1 = await exchange(writ, triage, { subject_token: a1.json.access_token, subject_token_type: JWT });
  const c1 = await exchange(writ, reader, { subject_token: b1.json.access_token, subject_token_type: JWT });
  assert.deepEqual([a1.status, b1.status, c1.status], [200, 200, 200]);

  const context = await browser.newContext();
  const page = await context.newPage();

  await t.test('signing in from /console lands on the console', async () => {
    await page.goto(`${writ.issuer}/console?org=${org}`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in to XCorp');
    assert.deepEqual(await accessibilityProblems(page), []);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill('admin horse battery staple');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${writ.issuer}/console`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'XCorp: agents and grants');
  });

  await t.test('the overview: agents with ceilings, grants, connected accounts', async () => {
    const agents = page.getByRole('table').filter({ has: page.getByRole('columnheader', { name: 'Ceiling' }) });
    const triageRow = agents.getByRole('row').filter({ hasText: 'Triage sub-agent' });
    assert.match(await triageRow.innerText(), new RegExp(`${triage.client_id}[\\s\\S]*${READ.replace(/\./g, '\\.')}`));
    assert.match(await page.locator('section', { has: page.getByRole('heading', { name: 'Connected accounts' }) }).innerText(), /No provider accounts are connected/);
    assert.ok(await page.getByRole('link', { name: 'Your own agents' }).isVisible());
    assert.deepEqual(await accessibilityProblems(page, { strict: true }), []);
    await screenshot(page, 'console-overview');
  });

  await t.test('Revoke stops every token of that grant and only that grant', async () => {
    await page.getByRole('button', { name: new RegExp(`^Revoke grant ${doomedGrant} `) }).click();
    await page.waitForURL((url) => url.pathname === '/console' && url.searchParams.get('revoked') === doomedGrant);
    assert.match(await page.getByRole('status').innerText(), new RegExp(`Grant ${doomedGrant} was revoked`));
    assert.equal(await page.getByRole('button', { name: new RegExp(`^Revoke grant ${doomedGrant} `) }).count(), 0);
    assert.equal((await oauth.tokenIntrospection(doomed.config, doomed.tokens!.access_token)).active, false);
    assert.equal((await oauth.tokenIntrospection(kept.config, kept.tokens!.access_token)).active, true);
    const events = (await writ.admin('GET', `/orgs/${org}/audit?type=grant.revoked`)).json.events;
    assert.equal(events.length, 1);
    assert.deepEqual(events[0].actor, { kind: 'user', user_id: alice.id, role: 'admin' });
  });

  await t.test('the policies in force, with file:line, and the dry-run form', async () => {
    await page.getByRole('link', { name: 'Policies' }).click();
    await page.waitForURL(`${writ.issuer}/console/policies`);
    const rules = await page.getByRole('table').first().innerText();
    assert.match(rules, new RegExp(`default-allow-granted[\\s\\S]*default\\.yaml:${lineOf(join(dir, 'default.yaml'), 'default-allow-granted')}`));
    assert.match(rules, new RegExp(`invoices-no-deletes[\\s\\S]*invoices\\.yaml:${lineOf(join(dir, 'invoices.yaml'), 'invoices-no-deletes')}`));
    assert.deepEqual(await accessibilityProblems(page, { strict: true }), []);

    await page.getByLabel('Agent', { exact: true }).selectOption(seeded.agent.client_id);
    await page.getByLabel('Acting for').selectOption({ label: 'user john' });
    await page.getByLabel(/^Tools/).fill('stripe.invoices.delete');
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.waitForURL(`${writ.issuer}/console/policies/dry-run`);
    const denied = await page.locator('section[aria-labelledby="dry-run-result"]').innerText();
    assert.match(denied, /Answer: denied for agent Content agent/);
    assert.match(denied, /rule invoices-no-deletes denies tool stripe\.invoices\.delete/);
    // The form keeps what was asked, for the next question.
    assert.equal(await page.getByLabel(/^Tools/).inputValue(), 'stripe.invoices.delete');
    assert.deepEqual(await accessibilityProblems(page, { strict: true }), []);
    await screenshot(page, 'console-dry-run');

    await page.getByLabel(/^Tools/).fill('demo.notes.create');
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.getByRole('heading', { name: /^Answer: allowed/ }).waitFor();
    assert.match(await page.locator('section[aria-labelledby="dry-run-result"]').innerText(), /tool demo\.notes\.create allowed by rule default-allow-granted/);
  });

  await t.test('the audit log, filtered, says who acted through which agents for whom', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.waitForURL(`${writ.issuer}/console/audit`);
    assert.deepEqual(await accessibilityProblems(page, { strict: true }), []);
    await page.getByLabel('Event type').selectOption('token.exchanged');
    await page.getByRole('button', { name: 'Show events' }).click();
    await page.waitForURL((url) => url.pathname === '/console/audit' && url.searchParams.get('type') === 'token.exchanged');
    const rows = page.getByRole('table').getByRole('row');
    assert.equal(await rows.count(), 1 + 3, 'a header and the three exchanges');
    const newest = await rows.nth(1).innerText();
    assert.match(newest, /agent Reader sub-sub-agent for agent Triage sub-agent for agent Content agent, acting for user john of org XCorp/);
    assert.match(newest, /github\.issues\.get/);
    assert.match(await rows.nth(3).innerText(), /agent Content agent, acting for user john of org XCorp/);
    assert.equal(await page.getByLabel('Event type').inputValue(), 'token.exchanged');
    await screenshot(page, 'console-audit');

    // Narrow further by agent: only the exchange the reader made.
    await page.getByLabel('Agent').selectOption(reader.client_id);
    await page.getByRole('button', { name: 'Show events' }).click();
    await page.waitForURL((url) => url.searchParams.get('agent_id') === reader.client_id);
    assert.equal(await rows.count(), 2);

    await page.goto(`${writ.issuer}/console/audit?type=grant.revoked`);
    assert.match(await page.getByRole('table').innerText(), /user alice \(admin, from the console\)[\s\S]*revoked by an administrator from the console/);
  });
});
