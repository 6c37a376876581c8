// The README's by-hand walkthrough, run as written against `npm run dev`, with headless Chromium
// doing John's part in the browser: connecting his notes account and approving the consent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot } from '../browser/chromium.ts';

const ROOT = join(import.meta.dirname, '../..');

function walkthrough(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  assert.ok(section, 'README has the walkthrough block');
  return section[1]!;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The README's command, as a person runs it, in its own process group so the test ends all of it. */
function npmRunDev(env: Record<string, string>): { child: ChildProcess; ready: Promise<string>; log: () => string } {
  const child = spawn('npm', ['run', '--silent', 'dev'], { cwd: ROOT, env, detached: true });
  let log = '';
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      log += d;
      if (/The demo notes provider is connected/.test(log)) resolve(log);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`npm run dev exited (${code}):\n${log}`)));
  });
  return { child, ready, log: () => log };
}

/** John at the keyboard: signs in wherever he is asked (Writ or the notes provider) and approves. */
async function actAsJohn(page: Page, issuer: string, start: string, done: () => Promise<boolean>): Promise<void> {
  await page.goto(start);
  for (let step = 0; step < 8; step++) {
    if (await done()) return;
    const password = page.locator('input[name="password"]');
    if (await password.count()) {
      await page.fill('input[name="username"]', 'john');
      await password.fill(new URL(page.url()).origin === issuer ? 'correct horse battery' : 'demo');
    }
    const approve = page.locator('button[name="decision"][value="approve"]');
    // Any form's button but Deny and the header's Sign out.
    const button = (await approve.count()) ? approve : page.locator('form:not([action="/account/signout"]) button[type="submit"]:not(.deny)').first();
    assert.ok(await button.count(), `John's browser found nothing to do at ${page.url()}: ${(await page.textContent('body'))?.trim().slice(0, 300)}`);
    await Promise.all([page.waitForEvent('load'), button.click()]);
  }
  assert.ok(await done(), `John's browser stopped at ${page.url()}`);
}

const hasTools = [['jq', '--version'], ['openssl', 'version'], ['curl', '--version']].every(([tool, flag]) => spawnSync(tool!, [flag!]).status === 0);

test('the README walkthrough runs as written against npm run dev and ends in a tool call', { skip: hasTools ? false : 'jq, openssl or curl is not installed (.ci/run installs them)' }, async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-readme-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { PATH: process.env.PATH!, HOME: process.env.HOME!, PORT: String(port), WRIT_DATA_DIR: dataDir };
  const dev = npmRunDev(env);
  t.after(() => { try { process.kill(-dev.child.pid!, 'SIGTERM'); } catch { /* already gone */ } });
  await dev.ready;

  const page = await browser.newPage();
  // Nothing listens at the agent's redirect URI (Chromium does not even try port 9); the address the
  // browser was sent to is what John pastes back.
  let callback: string | undefined;
  const seen = (request: { url(): string; isNavigationRequest(): boolean }) => {
    if (request.isNavigationRequest() && request.url().startsWith('http://127.0.0.1:9/')) callback = request.url();
  };
  page.on('request', seen);
  page.on('requestfailed', seen);

  // The CLI reads the admin token from the data dir, as the README says.
  const script = spawn('bash', ['-euo', 'pipefail', '-c', walkthrough()], { cwd: ROOT, env: { PATH: env.PATH, HOME: env.HOME, WRIT_URL: issuer, WRIT_DATA_DIR: dataDir } });
  let stdout = '';
  let stderr = '';
  script.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => script.on('exit', resolve));
  t.after(() => { if (script.exitCode === null) script.kill(); });
  const steps: string[] = [];
  for await (const line of createInterface({ input: script.stdout })) {
    stdout += `${line}\n`;
    if (line.startsWith(`${issuer}/connect/`)) {
      steps.push('connect');
      await actAsJohn(page, issuer, line, async () => /is connected/.test(await page.content()));
      await screenshot(page, 'readme-connected');
      script.stdin.write('\n');
    } else if (line.startsWith(`${issuer}/authorize?`)) {
      steps.push('consent');
      await actAsJohn(page, issuer, line, async () => callback !== undefined);
      script.stdin.write(`${callback}\n`);
    }
  }
  const status = await exited;
  assert.equal(status, 0, `${stdout}\n${stderr}\n--- npm run dev ---\n${dev.log()}`);
  assert.deepEqual(steps, ['connect', 'consent'], 'the person connected the account, then approved');
  assert.match(stdout, /^org org_\S+, user usr_\S+, agent agt_\S+$/m);
  assert.match(stdout, /^ALLOW/m, 'the policy check answers allow');
  assert.match(stdout, /"title": "Q3 plan"/, 'the tool call returned the note the provider stored');
  assert.match(stdout, /tool\.executed/);
  assert.match(stdout, /chain intact/);
  // What the person saw in the terminal running npm run dev: the server's lines, no library's chatter.
  assert.doesNotMatch(dev.log(), /biscuit-wasm loading|Unsupported runtime/);
});
