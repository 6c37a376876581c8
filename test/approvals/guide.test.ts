// docs/guides/approved-payment.md, run as written: its policy block is the policy Writ runs, its
// shell block is run by bash (curl, jq and the writ CLI as the agent and the admin), and headless
// Chromium does John's part when the script prints his approvals page. The answers the guide
// says to expect are the answers the script printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { launchChromium, screenshot } from '../browser/chromium.ts';
import { APPROVAL_POLICY, approvalWorld } from './support.ts';

const ROOT = join(import.meta.dirname, '../..');
const GUIDE = readFileSync(join(ROOT, 'docs/guides/approved-payment.md'), 'utf8');

function block(name: string, lang: string): string {
  const found = new RegExp(`<!-- ${name}:start -->\\s*\`\`\`${lang}\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`).exec(GUIDE);
  assert.ok(found, `the guide has its ${name} block`);
  return found[1]!;
}

const hasTools = [['jq', '--version'], ['curl', '--version']].every(([tool, flag]) => spawnSync(tool!, [flag!]).status === 0);

test('the approved-payment guide runs as written', { skip: hasTools ? false : 'jq or curl is not installed (.ci/run installs them)' }, async (t) => {
  assert.equal(block('approval-policy', 'yaml').replace(/^#.*\n/, ''), APPROVAL_POLICY, 'the guide shows the policy the test runs');
  const browser = await launchChromium(t);
  if (!browser) return;
  const w = await approvalWorld(t);
  const work = mkdtempSync(join(tmpdir(), 'writ-guide-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const env = {
    PATH: process.env.PATH!, HOME: process.env.HOME!, ROOT, WRIT: w.writ.issuer, WRIT_URL: w.writ.issuer, WRIT_ADMIN_TOKEN: w.writ.adminToken,
    ADMIN: `Authorization: Bearer ${w.writ.adminToken}`, W: `${w.writ.issuer}/admin/v1`, JSON: 'content-type: application/json',
    ORG: w.org_id, JOHN: w.xcorp.user.id, CLIENT_ID: w.xcorp.agent.client_id, CLIENT_SECRET: w.xcorp.agent.client_secret, JOHN_TOKEN: w.johnToken,
  };
  const script = `writ() { (cd "$ROOT" && npm run --silent writ -- "$@"); }\n${block('approval', 'sh')}`;
  const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: work, env });
  t.after(() => { if (child.exitCode === null) child.kill(); });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  let approvedInBrowser = false;
  for await (const line of createInterface({ input: child.stdout })) {
    stdout += `${line}\n`;
    if (line === `${w.writ.issuer}/account/approvals?org=${w.org_id}`) {
      const page = await browser.newPage();
      await page.goto(line);
      await page.getByLabel('Username').fill('john');
      await page.getByLabel('Password').fill(w.xcorp.user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('section.approval', { hasText: 'INV-1042 4200.00' }).getByRole('button', { name: 'Approve' }).click();
      await page.getByText('No calls are waiting for approval.').waitFor();
      await screenshot(page, 'guide-approved-payment');
      approvedInBrowser = true;
      // A person takes longer than the poll interval; the test moves Writ's clock instead.
      w.advance(5_000);
      child.stdin.write('\n');
    }
  }
  assert.equal(await exited, 0, `${stdout}\n${stderr}`);
  assert.ok(approvedInBrowser, 'the script asked John');
  const lines = stdout.replace(/\n$/, '').split('\n');
  assert.match(lines[0]!, /^ALLOW AFTER APPROVAL \(policy sha256:\w+\)$/);
  assert.match(lines[1]!, /^ {2}- approval required by rule large-payments-need-approval for tool billing\.invoices\.pay \(amount > 1000 is possible\), from the user the agent acts for: /);
  assert.equal(lines[2], '  - rule large-payments-need-approval needs no approval here: the capability\'s constraints on amount rule the condition out');
  assert.equal(lines[3], `approval required (rule large-payments-need-approval): ask for it by OpenID CIBA at ${w.writ.issuer}/backchannel with authorization_details naming the exact arguments`);
  assert.deepEqual(lines.slice(4, 6), ['{"expires_in":600,"interval":5}', 'authorization_pending']);
  assert.deepEqual(lines.slice(7, 12), ['{"token_type":"Bearer","expires_in":60}', 'constraint_failed', 'insufficient_scope', 'paid', 'invalid_token']);
  const record = lines.slice(12).map((l) => l.split('\t'));
  assert.deepEqual(record.map(([type]) => type), ['approval.requested', 'approval.approved', 'tool.executed']);
  assert.match(record[0]![1]!, /^apr_/);
  assert.ok(record.every(([, id]) => id === record[0]![1]), 'one approval throughout');
});
