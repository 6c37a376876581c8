// The invoice story with a person in the loop (docs/approvals.md). A payment over 1,000 needs the
// approval of the person it is paid for: the agent's token exchange is refused with the way to
// ask; the agent asks by OpenID CIBA for one exact call; John approves it in Chromium on
// /account/approvals after a fresh sign-in; the agent's poll yields a capability that pays that
// invoice that amount once. Denial and expiry each end with their CIBA error and audit event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromium, screenshot } from '../browser/chromium.ts';
import { ACCESS_TOKEN, exchange } from '../support/exchange.ts';
import { executeRaw } from '../stories/helpers.ts';
import { approvalWorld, askApproval, auditOf, claimsOf, payment, pollToken, TOOL, type ApprovalWorld } from './support.ts';

const POLL_WAIT_MS = 5_000;

async function signIn(page: Page, w: ApprovalWorld): Promise<void> {
  await page.goto(`${w.writ.issuer}/account/approvals?org=${w.org_id}`);
  await page.getByLabel('Username').fill('john');
  await page.getByLabel('Password').fill(w.xcorp.user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/account\/approvals$/);
}

/** The request's section on the page, found by its binding message. */
const requestSection = (page: Page, message: string) => page.locator('section.approval', { hasText: message });

test('the invoice story: approval asked, given in Chromium after a fresh sign-in, spent once for exactly that payment', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const w = await approvalWorld(t);
  const pay = (cap: string, invoice_id: string, amount: number) => executeRaw(w.writ, TOOL, cap, { input: { invoice_id, amount } });

  await t.test('an exchange for more than 1,000 is refused with the way to ask for approval', async () => {
    const res = await exchange(w.writ, w.xcorp.agent, {
      subject_token: w.johnToken, subject_token_type: ACCESS_TOKEN,
      authorization_details: JSON.stringify([{ type: 'tool_access', tools: [TOOL], resources: ['billing:invoice:inv_1042'], constraints: { amount: { max: 4200 } } }]),
    });
    assert.equal(res.json.error, 'access_denied');
    assert.match(res.json.error_description, /approval required \(rule large-payments-need-approval\)/);
    assert.ok(res.json.error_description.includes(`${w.writ.issuer}/backchannel`), res.json.error_description);
    const [refusal] = await auditOf(w, 'token.exchange_denied');
    assert.match(refusal.details.reason, /approval required/);
    // A capability that cannot pay more than 1,000 needs nobody's approval.
    const small = await exchange(w.writ, w.xcorp.agent, {
      subject_token: w.johnToken, subject_token_type: ACCESS_TOKEN,
      authorization_details: JSON.stringify([{ type: 'tool_access', tools: [TOOL], resources: ['billing:invoice:inv_1042'], constraints: { amount: { max: 1000 } } }]),
    });
    assert.equal(small.status, 200, JSON.stringify(small.json));
  });

  const discovery = await (await fetch(`${w.writ.issuer}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>;
  await t.test('the metadata advertises the CIBA endpoint, its modes and the details type', () => {
    assert.equal(discovery.backchannel_authentication_endpoint, `${w.writ.issuer}/backchannel`);
    assert.deepEqual(discovery.backchannel_token_delivery_modes_supported, ['poll', 'ping']);
    assert.equal(discovery.backchannel_user_code_parameter_supported, false);
    assert.ok((discovery.grant_types_supported as string[]).includes('urn:openid:params:grant-type:ciba'));
    assert.deepEqual(discovery.authorization_details_types_supported, ['tool_access']);
  });

  await t.test('an approval is asked for one exact call only', async () => {
    for (const detail of [
      [{ type: 'tool_access', tools: [TOOL], resources: ['billing:invoice:*'], constraints: { amount: { eq: 4200 } } }],
      [{ type: 'tool_access', tools: [TOOL], resources: ['billing:invoice:inv_1042'], constraints: { amount: { max: 4200 } } }],
      [{ type: 'tool_access', tools: [TOOL], resources: ['billing:invoice:inv_1042'] }],
    ]) {
      const res = await askApproval(w, { login_hint_token: w.johnToken, authorization_details: JSON.stringify(detail) });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json.error, 'invalid_authorization_details', res.text);
    }
    const byIdToken = await askApproval(w, { id_token_hint: 'eyJhbGciOiJub25lIn0.e30.', authorization_details: payment('inv_1042', 4200) });
    assert.equal(byIdToken.json.error, 'invalid_request', byIdToken.text);
    const unknownUser = await askApproval(w, { login_hint: 'nobody', authorization_details: payment('inv_1042', 4200) });
    assert.equal(unknownUser.json.error, 'unknown_user_id', unknownUser.text);
    const notAToken = await askApproval(w, { login_hint_token: 'not-a-token', authorization_details: payment('inv_1042', 4200) });
    assert.equal(notAToken.json.error, 'invalid_grant', notAToken.text);
    assert.equal((await w.writ.admin('GET', `/orgs/${w.org_id}/approvals`)).json.approvals.length, 0, 'nothing was recorded');
  });

  const asked = await askApproval(w, {
    login_hint_token: w.johnToken, authorization_details: payment('inv_1042', 4200), binding_message: 'INV-1042 4200.00', requested_expiry: '300',
  });
  assert.equal(asked.status, 200, asked.text);
  assert.equal(asked.json.expires_in, 300);
  assert.equal(asked.json.interval, 5);
  const auth_req_id = asked.json.auth_req_id as string;

  await t.test('the agent polls: pending, then slow_down when it polls too fast', async () => {
    assert.equal((await pollToken(w, auth_req_id)).json.error, 'authorization_pending');
    assert.equal((await pollToken(w, auth_req_id)).json.error, 'slow_down');
    w.advance(POLL_WAIT_MS);
    assert.equal((await pollToken(w, auth_req_id)).json.error, 'authorization_pending');
    const [requested] = await auditOf(w, 'approval.requested');
    assert.equal(requested.subject.user_id, w.xcorp.user.id);
    assert.deepEqual(requested.details.arguments, { invoice_id: 'inv_1042', amount: 4200 });
  });

  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();

  await t.test('John signs in and sees the call, every argument and the message on his approvals page', async () => {
    await signIn(page, w);
    const section = requestSection(page, 'INV-1042 4200.00');
    await section.waitFor();
    const text = await section.innerText();
    for (const expected of [TOOL, 'billing:invoice:inv_1042', '"inv_1042"', '4200', 'Content agent', 'INV-1042 4200.00']) {
      assert.ok(text.includes(expected), `the page shows ${expected}: ${text}`);
    }
    await screenshot(page, 'approvals-pending-390');
  });

  await t.test('John approves; the poll yields a single-use capability for exactly that call', async () => {
    await requestSection(page, 'INV-1042 4200.00').getByRole('button', { name: 'Approve' }).click();
    await page.getByText('No calls are waiting for approval.').waitFor();
    const [approved] = await auditOf(w, 'approval.approved');
    assert.equal(approved.details.approver, w.xcorp.user.id);
    assert.equal(approved.actor.user_id, w.xcorp.user.id);

    w.advance(POLL_WAIT_MS);
    const res = await pollToken(w, auth_req_id);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.token_type, 'Bearer');
    assert.ok(res.json.expires_in <= 60, `lives within the policy's minute (${res.json.expires_in}s)`);
    const claims = claimsOf(res.json.access_token);
    assert.equal(claims.single_use, true);
    assert.equal(claims.sub, w.xcorp.user.id);
    assert.match(claims.parent_jti, /^apr_/);
    assert.deepEqual(claims.authorization_details[0].resources, ['billing:invoice:inv_1042']);
    assert.equal(claims.authorization_details[0].constraints.amount.eq, 4200);
    assert.equal(claims.authorization_details[0].constraints.invoice_id.eq, 'inv_1042');

    w.advance(POLL_WAIT_MS);
    const again = await pollToken(w, auth_req_id);
    assert.equal(again.json.error, 'invalid_grant', 'one approval, one capability');

    const cap = res.json.access_token as string;
    const other = await pay(cap, 'inv_1042', 4199);
    assert.equal(other.json.error.code, 'constraint_failed', other.text);
    const otherInvoice = await pay(cap, 'inv_1043', 4200);
    assert.equal(otherInvoice.json.error.code, 'insufficient_scope', otherInvoice.text);
    const paid = await pay(cap, 'inv_1042', 4200);
    assert.equal(paid.status, 200, paid.text);
    assert.deepEqual(w.billing.invoices.get('inv_1042')!.paid, [4200]);
    const twice = await pay(cap, 'inv_1042', 4200);
    assert.equal(twice.json.error.code, 'invalid_token');
    assert.equal(twice.json.error.reason, 'spent');
    assert.equal(w.billing.calls.length, 1, 'the billing service saw the one approved payment');

    const [executed] = await auditOf(w, 'tool.executed');
    assert.equal(executed.subject.approval_id, claims.parent_jti, 'tool.executed names the approval');
  });

  await t.test('a denial ends the agent\'s wait with access_denied, on the record with the approver', async () => {
    const denied = await askApproval(w, { login_hint: 'john', authorization_details: payment('inv_1043', 9800), binding_message: 'INV-1043 9800.00' });
    assert.equal(denied.status, 200, denied.text);
    await page.goto(`${w.writ.issuer}/account/approvals`);
    const section = requestSection(page, 'INV-1043 9800.00');
    await section.getByLabel(/Reason/).fill('not this month');
    await section.getByRole('button', { name: 'Deny' }).click();
    await page.getByText('No calls are waiting for approval.').waitFor();
    w.advance(POLL_WAIT_MS);
    const res = await pollToken(w, denied.json.auth_req_id);
    assert.equal(res.json.error, 'access_denied');
    assert.match(res.json.error_description, /not this month/);
    const [event] = await auditOf(w, 'approval.denied');
    assert.equal(event.details.approver, w.xcorp.user.id);
    assert.equal(event.details.reason, 'not this month');
    assert.deepEqual(w.billing.invoices.get('inv_1043')!.paid, []);
  });

  await t.test('a sign-in older than the policy allows is asked for the password again', async () => {
    const asked = await askApproval(w, { login_hint: 'john', authorization_details: payment('inv_1043', 1500), binding_message: 'INV-1043 1500.00' });
    assert.equal(asked.status, 200, asked.text);
    w.advance(6 * 60_000);
    await page.goto(`${w.writ.issuer}/account/approvals`);
    const section = requestSection(page, 'INV-1043 1500.00');
    await section.getByRole('button', { name: 'Approve' }).click();
    await requestSection(page, 'INV-1043 1500.00').getByRole('alert').waitFor();
    assert.match(await requestSection(page, 'INV-1043 1500.00').getByRole('alert').innerText(), /enter your password/);
    assert.equal((await auditOf(w, 'approval.approved')).length, 1, 'nothing was approved without the password');
    await requestSection(page, 'INV-1043 1500.00').getByLabel(/Your password/).fill(w.xcorp.user.password);
    await requestSection(page, 'INV-1043 1500.00').getByRole('button', { name: 'Approve' }).click();
    await page.getByText('No calls are waiting for approval.').waitFor();
    assert.equal((await auditOf(w, 'approval.approved')).length, 2);
  });

  await t.test('a request nobody decides expires: expired_token, and approval.expired on the record', async () => {
    const late = await askApproval(w, { login_hint: 'john', authorization_details: payment('inv_1043', 2000), binding_message: 'INV-1043 2000.00', requested_expiry: '60' });
    assert.equal(late.status, 200, late.text);
    assert.equal(late.json.expires_in, 60);
    w.advance(61_000);
    const res = await pollToken(w, late.json.auth_req_id);
    assert.equal(res.json.error, 'expired_token', res.text);
    const expired = await auditOf(w, 'approval.expired');
    assert.equal(expired.length, 1);
    assert.equal(expired[0].subject.user_id, w.xcorp.user.id);
    await page.goto(`${w.writ.issuer}/account/approvals`);
    assert.match(await page.locator('main').innerText(), /expired without a decision/);
    await screenshot(page, 'approvals-decided-390');
  });
});
