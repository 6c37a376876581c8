// What the approval tests share: XCorp's billing service and connector (story 4's), John's
// delegation, a Writ whose clock the test moves, the policy that asks John to approve payments
// over 1,000, and the agent's side of OpenID CIBA over real HTTP.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { join } from 'node:path';
import { delegate } from '../support/delegation.ts';
import { startBilling } from '../support/providers/index.ts';
import { billingConnector, type LocalBilling } from '../support/providers/billing.ts';
import { seedOrg, startTestWrit, type TestWrit } from '../support/writ.ts';

export const TOOL = 'billing.invoices.pay';
export const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
export const API_KEY = 'sk_live_xcorp_billing_0123456789abcdef';

export const APPROVAL_POLICY = `version: 1
rules:
  - id: invoices
    description: Agents may pay invoices, up to 10,000, with capabilities that live a minute.
    effect: allow
    match: { tools: ["billing.invoices.pay"] }
    constraints:
      max_ttl: 60
      arguments:
        "billing.invoices.pay":
          amount: { max: 10000 }
  - id: large-payments-need-approval
    description: A payment over 1,000 needs the approval of the person it is paid for.
    effect: require_approval
    match: { tools: ["billing.invoices.pay"] }
    when:
      amount: { gt: 1000 }
    approvers: user
    max_wait: 10m
    fresh_sign_in: 5m
`;


export interface ApprovalWorld {
  writ: TestWrit;
  billing: LocalBilling;
  xcorp: Awaited<ReturnType<typeof seedOrg>>;
  org_id: string;
  /** John's delegated access token (the agent's `login_hint_token`). */
  johnToken: string;
  /** Moves Writ's clock on. */
  advance(ms: number): void;
  /** The policy directory Writ watches. */
  policies: string;
}

/** XCorp, John, the billing connector and his key, and the agent John delegated paying to. */
export async function approvalWorld(t: { after(fn: () => unknown): void }, options: { env?: Record<string, string>; allowHosts?: string[]; policy?: string } = {}): Promise<ApprovalWorld> {
  const billing = await startBilling({ apiKey: API_KEY, invoices: [{ id: 'inv_1042', amount_due: 4200 }, { id: 'inv_1043', amount_due: 9800 }] });
  t.after(() => billing.close());
  const policies = mkdtempSync(join(tmpdir(), 'writ-approval-policies-'));
  copyFileSync(join(import.meta.dirname, '../../policies/default.yaml'), join(policies, 'default.yaml'));
  writeFileSync(join(policies, 'invoices.yaml'), options.policy ?? APPROVAL_POLICY);
  let skew = 0;
  const clock = { now: () => Date.now() + skew };
  const allow = [new URL(billing.url).host, ...(options.allowHosts ?? [])].join(',');
  const writ = await startTestWrit({ env: { WRIT_POLICIES: policies, WRIT_ALLOW_PRIVATE_EGRESS: allow, ...options.env }, writ: { clock } });
  t.after(() => writ.stop());
  const xcorp = await seedOrg(writ, { name: 'XCorp', username: 'john', tools: [TOOL], connectors: { billing: billingConnector(billing.url) } });
  const org_id = xcorp.org.id;
  const account = await writ.admin('POST', `/orgs/${org_id}/connected-accounts`, { connector: 'billing', user_id: xcorp.user.id, api_key: API_KEY });
  assert.equal(account.status, 201, account.text);
  const john = await delegate(writ, xcorp, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
  return { writ, billing, xcorp, org_id, johnToken: john.tokens!.access_token, advance: (ms) => { skew += ms; }, policies };
}

const basic = (c: { client_id: string; client_secret: string }) =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;

async function form(url: string, client: { client_id: string; client_secret: string }, params: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST', headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params),
  });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

/** The exact call a person approves: one invoice, one amount. */
export const payment = (invoice: string, amount: number) => JSON.stringify([{
  type: 'tool_access', tools: [TOOL], resources: [`billing:invoice:${invoice}`],
  constraints: { invoice_id: { eq: invoice }, amount: { eq: amount } },
}]);

/** The agent asks for approval at the backchannel authentication endpoint (CIBA §7.1). */
export function askApproval(w: ApprovalWorld, params: Record<string, string>) {
  return form(`${w.writ.issuer}/backchannel`, w.xcorp.agent, { scope: 'openid', ...params });
}

/** One poll of the token endpoint (CIBA §10.1). */
export function pollToken(w: ApprovalWorld, auth_req_id: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
  return form(`${w.writ.issuer}/token`, w.xcorp.agent, { grant_type: CIBA_GRANT, auth_req_id, ...extra }, headers);
}

/** The claims of a JWT, unverified (the executor verifies). */
export function claimsOf(jwt: string): Record<string, any> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}

export async function auditOf(w: ApprovalWorld, type: string): Promise<any[]> {
  const res = await w.writ.admin('GET', `/orgs/${w.org_id}/audit?type=${type}`);
  assert.equal(res.status, 200, res.text);
  return res.json.events;
}

export interface Received { path: string; headers: Record<string, string | string[] | undefined>; body: string }

/**
 * An https endpoint on 127.0.0.1 (ping and webhook URLs must be https) with a self-signed
 * certificate this process trusts. `answer` decides each status; every request is kept.
 */
export async function httpsReceiver(t: { after(fn: () => unknown): void }, answer: (r: Received, index: number) => number = () => 204) {
  const dir = mkdtempSync(join(tmpdir(), 'writ-receiver-tls-'));
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  setDefaultCACertificates([...getCACertificates('default'), cert]);
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  const server = createHttpsServer({ key, cert }, (req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      const r = { path: req.url ?? '', headers: req.headers, body };
      received.push(r);
      res.statusCode = answer(r, received.length - 1);
      res.end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    received,
    /** Resolves once `count` requests have arrived. */
    async waitFor(count: number): Promise<Received[]> {
      while (received.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
      return received;
    },
  };
}
