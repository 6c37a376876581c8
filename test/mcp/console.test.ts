// An org admin decides in the console which external MCP clients the org accepts, and their ceiling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { accessibilityProblems, launchChromium, screenshot } from '../browser/chromium.ts';

test('the console\'s MCP clients page sets the org\'s answer to external MCP clients', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { name: 'XCorp' });
  const org = seeded.org.id as string;
  await writ.admin('POST', `/orgs/${org}/users`, { username: 'alice', password: 'admin horse battery staple', roles: ['admin'] });
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${writ.issuer}/console?org=${org}`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('admin horse battery staple');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${writ.issuer}/console`);
  await page.getByRole('link', { name: 'MCP clients' }).click();
  await page.waitForURL(`${writ.issuer}/console/mcp`);
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'XCorp: MCP clients');
  assert.equal(await page.getByLabel('No external MCP client').isChecked(), true);
  assert.deepEqual(await accessibilityProblems(page, { strict: true }), []);

  await t.test('a list without clients is refused and changes nothing', async () => {
    await page.getByLabel('Only the clients listed below').check();
    await page.getByRole('button', { name: 'Save' }).click();
    assert.match(await page.getByRole('alert').innerText(), /at least one client/);
    assert.equal((await writ.admin('GET', `/orgs/${org}/mcp`)).json.accept, 'none');
  });

  await t.test('saved: listed clients and the ceiling, on the audit log as the admin', async () => {
    await page.getByLabel(/Listed clients/).fill('https://app.example/client.json\ndesk.example');
    await page.getByLabel(/Tools MCP clients may ever be granted/).fill('demo.notes.list\ndemo.notes.create');
    await page.getByRole('button', { name: 'Save' }).click();
    assert.match(await page.getByRole('status').innerText(), /Saved/);
    const settings = (await writ.admin('GET', `/orgs/${org}/mcp`)).json;
    assert.equal(settings.accept, 'listed');
    assert.deepEqual(settings.clients, ['https://app.example/client.json', 'desk.example']);
    assert.deepEqual(settings.tools, ['demo.notes.list', 'demo.notes.create']);
    const events = (await writ.admin('GET', `/orgs/${org}/audit?type=mcp.settings_updated`)).json.events;
    assert.equal(events.length, 1);
    assert.equal(events[0].actor.kind, 'user');
    await screenshot(page, 'console-mcp');
  });
});
