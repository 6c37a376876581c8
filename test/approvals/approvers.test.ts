// Who may decide is the policy's answer, on every surface: a named group's members on their own
// approvals page, an org admin in the console, and nobody else — not the user the call is for,
// when the rule names someone else, and not another org's people.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpClient, parseForm, type HttpClient } from '../support/http.ts';
import { approvalWorld, askApproval, auditOf, payment, pollToken, type ApprovalWorld } from './support.ts';

const POLICY = `version: 1
rules:
  - id: invoices
    description: Agents may pay invoices.
    effect: allow
    match: { tools: ["billing.invoices.pay"] }
  - id: finance-approves-large
    description: Finance approves payments over 5,000.
    effect: require_approval
    match: { tools: ["billing.invoices.pay"] }
    when: { amount: { gt: 5000 } }
    approvers: { group: finance }
    fresh_sign_in: 10m
  - id: admins-approve-all
    description: An admin approves every payment.
    effect: require_approval
    match: { tools: ["billing.invoices.pay"] }
    approvers: org_admin
`;

async function signedIn(w: ApprovalWorld, username: string, password: string): Promise<HttpClient> {
  const browser = httpClient();
  const page = await browser.request(`${w.writ.issuer}/account?org=${w.org_id}&next=/account/approvals`);
  const form = parseForm(page.text, '/account/signin');
  const res = await browser.request(new URL(form.action, page.url), { form: { ...form.hidden, username, password } });
  assert.equal(res.status, 303, res.text.slice(0, 300));
  return browser;
}

async function decideOnPage(browser: HttpClient, url: string, id: string, decision: 'approve' | 'deny') {
  const page = await browser.request(url);
  assert.equal(page.status, 200, page.text.slice(0, 300));
  const form = parseForm(page.text, `/${id}`);
  return browser.request(new URL(form.action, page.url), { form: { ...form.hidden, decision } });
}

test('group and admin approvers: each decides where the policy names them, nobody else', async (t) => {
  const w = await approvalWorld(t, { policy: POLICY });
  const mk = async (username: string, roles?: string[]) =>
    (await w.writ.admin('POST', `/orgs/${w.org_id}/users`, { username, password: `${username} horse battery staple`, ...(roles ? { roles } : {}) })).json as { id: string };
  const alice = await mk('alice');
  const carol = await mk('carol', ['admin']);
  const dave = await mk('dave', ['admin']);
  assert.equal((await w.writ.admin('PUT', `/orgs/${w.org_id}/approval-settings`, { groups: { finance: [alice.id, dave.id] } })).status, 200);

  // Over 5,000: finance and an admin, so one person who is both (dave). Up to 5,000: any admin.
  const big = await askApproval(w, { login_hint_token: w.johnToken, authorization_details: payment('inv_1043', 9800), binding_message: 'BIG' });
  const small = await askApproval(w, { login_hint_token: w.johnToken, authorization_details: payment('inv_1042', 4200), binding_message: 'SMALL' });
  assert.equal(big.status, 200, big.text);
  assert.equal(small.status, 200, small.text);
  const requests = (await w.writ.admin('GET', `/orgs/${w.org_id}/approvals`)).json.approvals as any[];
  const bigId = requests.find((r) => r.binding_message === 'BIG').id;
  const smallId = requests.find((r) => r.binding_message === 'SMALL').id;
  assert.deepEqual(requests.find((r) => r.id === bigId).requirement.approvers, [{ group: 'finance' }, 'org_admin']);

  const john = await signedIn(w, 'john', w.xcorp.user.password);
  const johnsPage = await john.request(`${w.writ.issuer}/account/approvals`);
  assert.match(johnsPage.text, /No calls are waiting for approval/, 'the user the call is for is not its approver here');
  const forged = await john.request(`${w.writ.issuer}/account/approvals/${bigId}`, { form: { csrf: 'guessed', decision: 'approve' } });
  assert.equal(forged.status, 403, 'a hand-made post does not approve either');

  const aliceBrowser = await signedIn(w, 'alice', 'alice horse battery staple');
  const alicesPage = await aliceBrowser.request(`${w.writ.issuer}/account/approvals`);
  assert.doesNotMatch(alicesPage.text, new RegExp(bigId), 'finance alone is not enough when an admin must approve too');
  assert.equal((await aliceBrowser.request(`${w.writ.issuer}/console/approvals`)).status, 403, 'the console is for admins');

  const carolBrowser = await signedIn(w, 'carol', 'carol horse battery staple');
  const console = await carolBrowser.request(`${w.writ.issuer}/console/approvals`);
  assert.equal(console.status, 200);
  assert.match(console.text, /BIG/, 'the console lists every request of the org');
  assert.throws(() => parseForm(console.text, `/${bigId}`), 'no button for a request carol may not decide');
  const carolDecides = await decideOnPage(carolBrowser, `${w.writ.issuer}/console/approvals`, smallId, 'approve');
  assert.equal(carolDecides.status, 303, carolDecides.text.slice(0, 300));

  const daveBrowser = await signedIn(w, 'dave', 'dave horse battery staple');
  const daveDecides = await decideOnPage(daveBrowser, `${w.writ.issuer}/console/approvals`, bigId, 'deny');
  assert.equal(daveDecides.status, 303, daveDecides.text.slice(0, 300));

  assert.equal((await pollToken(w, small.json.auth_req_id)).status, 200);
  assert.equal((await pollToken(w, big.json.auth_req_id)).json.error, 'access_denied');
  const approvedBy = (await auditOf(w, 'approval.approved')).map((e) => e.details.approver);
  const deniedBy = (await auditOf(w, 'approval.denied')).map((e) => e.details.approver);
  assert.deepEqual([approvedBy, deniedBy], [[carol.id], [dave.id]]);

  await t.test('another org\'s admin sees and decides nothing here', async () => {
    const other = (await w.writ.admin('POST', '/orgs', { name: 'YCorp' })).json;
    await w.writ.admin('POST', `/orgs/${other.id}/users`, { username: 'mallory', password: 'mallory horse battery', roles: ['admin'] });
    const mallory = httpClient();
    const page = await mallory.request(`${w.writ.issuer}/account?org=${other.id}&next=/console/approvals`);
    const form = parseForm(page.text, '/account/signin');
    await mallory.request(new URL(form.action, page.url), { form: { ...form.hidden, username: 'mallory', password: 'mallory horse battery' } });
    const consolePage = await mallory.request(`${w.writ.issuer}/console/approvals`);
    assert.equal(consolePage.status, 200);
    assert.doesNotMatch(consolePage.text, /BIG|SMALL/);
    const cross = await mallory.request(`${w.writ.issuer}/console/approvals/${smallId}`, { form: { csrf: 'guessed', decision: 'deny' } });
    assert.ok(cross.status === 403 || cross.status === 404, `refused (${cross.status})`);
    assert.equal((await auditOf(w, 'approval.denied')).length, 1, 'nothing more was decided');
  });
});
