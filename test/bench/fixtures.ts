// A Writ with one org, one user and one agent holding a consented delegation: the subject token
// every exchange burst trades in. Set up through the real HTTP flows (admin API, sign-in, consent).
import { delegate } from '../support/delegation.ts';
import { ACCESS_TOKEN, BISCUIT, JWT, TOKEN_EXCHANGE, type Client } from '../support/exchange.ts';
import { seedOrg, type TestWrit } from '../support/writ.ts';

export const GRANTED = [{ type: 'tool_access', tools: ['notion.pages.create', 'demo.notes.create'], resources: ['notion:page:8a1f*', 'demo:notebook:team'] }];
export const REQUESTED = [{ type: 'tool_access', tools: ['notion.pages.create'], resources: ['notion:page:8a1f00'] }];
export const REQUEST = { tool: 'notion.pages.create', resource: 'notion:page:8a1f00' };

/** Where to send exchanges: any Writ reachable over loopback, in-process or a child. */
export interface ExchangeTarget {
  url: string;
  issuer: string;
  executorResource: string;
  org_id: string;
  client: Client;
  subject: string;
}

/** The part of a running Writ the fixtures need: its issuer and its admin API. */
export type AdminReachable = Pick<TestWrit, 'issuer' | 'admin' | 'executorResource'>;

export async function delegatedTarget(writ: AdminReachable & { url?: string }): Promise<ExchangeTarget> {
  const asTest = writ as TestWrit;
  const seeded = await seedOrg(asTest);
  const run = await delegate(asTest, seeded, { authorization_details: GRANTED });
  if (!run.tokens) throw new Error(`delegation did not complete: ${run.last.status}`);
  return {
    url: writ.url ?? writ.issuer,
    issuer: writ.issuer,
    executorResource: writ.executorResource,
    org_id: seeded.org.id,
    client: seeded.agent,
    subject: run.tokens.access_token,
  };
}

export type CapabilityFormat = 'jwt' | 'biscuit';

/** The token request of one exchange, as autocannon sends it. */
export function exchangeRequest(target: ExchangeTarget, format: CapabilityFormat) {
  const body = new URLSearchParams({
    grant_type: TOKEN_EXCHANGE,
    subject_token: target.subject,
    subject_token_type: ACCESS_TOKEN,
    requested_token_type: format === 'jwt' ? JWT : BISCUIT,
    authorization_details: JSON.stringify(REQUESTED),
  }).toString();
  const basic = Buffer.from(`${encodeURIComponent(target.client.client_id)}:${encodeURIComponent(target.client.client_secret)}`).toString('base64');
  return {
    url: `${target.url}/token`,
    method: 'POST' as const,
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body,
  };
}

/** One exchange from this process (for minting the tokens a measurement needs). */
export async function exchangeOnce(target: ExchangeTarget, format: CapabilityFormat): Promise<string> {
  const req = exchangeRequest(target, format);
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body });
  const json = await res.json() as { access_token?: string; error?: string };
  if (!res.ok || !json.access_token) throw new Error(`exchange failed: ${res.status} ${json.error}`);
  return json.access_token;
}
