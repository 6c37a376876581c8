// What the stories share: the agent's SDK client, a raw executor call for requests the SDK
// would never send, and the one-click actions a person takes on their own pages.
import assert from 'node:assert/strict';
import { WritClient } from '../../src/client/index.ts';
import { parseForm, type HttpClient } from '../support/http.ts';
import type { TestWrit } from '../support/writ.ts';

export function sdk(writ: TestWrit, agent: { client_id: string; client_secret: string }): WritClient {
  return new WritClient({ issuer: writ.issuer, clientId: agent.client_id, clientSecret: agent.client_secret, maxRetries: 0 });
}

/** `POST /v1/tools/{tool}/execute` as any HTTP client could send it, extra headers and query included. */
export async function executeRaw(writ: TestWrit, tool: string, capability: string, body: unknown, options: { headers?: Record<string, string>; query?: string } = {}) {
  const res = await fetch(`${writ.issuer}/v1/tools/${tool}/execute${options.query ?? ''}`, {
    method: 'POST', headers: { authorization: `Bearer ${capability}`, 'content-type': 'application/json', ...options.headers }, body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as any, text };
}

/** The person's one click on `/account`: the revoke button of the grant given to this agent. */
export async function revokeOnAccountPage(browser: HttpClient, writ: TestWrit, grant_id: string): Promise<void> {
  const page = await browser.request(`${writ.issuer}/account`);
  assert.equal(page.status, 200, page.text.slice(0, 300));
  const form = parseForm(page.text, `/account/grants/${grant_id}/revoke`);
  const posted = await browser.request(new URL(form.action, page.url), { form: form.hidden });
  assert.ok(posted.status === 303 || posted.status === 200, `revoke answered ${posted.status}`);
}

/** The person's one click on `/connect`: disconnect this account. */
export async function disconnectOnConnectPage(browser: HttpClient, writ: TestWrit, account_id: string): Promise<void> {
  const page = await browser.request(`${writ.issuer}/connect`);
  assert.equal(page.status, 200, page.text.slice(0, 300));
  const form = parseForm(page.text, `/connect/${account_id}/disconnect`);
  const posted = await browser.request(new URL(form.action, page.url), { form: form.hidden });
  assert.equal(posted.status, 303, posted.text.slice(0, 300));
}

/** The grant id a delegated access token is bound to, from Writ's introspection. */
export async function grantOf(writ: TestWrit, agent: { client_id: string; client_secret: string }, token: string): Promise<string> {
  const res = await fetch(`${writ.issuer}/introspect`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  const json = await res.json() as { active: boolean; auth_event_id?: string; grant_id?: string };
  assert.equal(json.active, true);
  const id = json.auth_event_id ?? json.grant_id;
  assert.ok(id, `introspection names no grant: ${JSON.stringify(json)}`);
  return id;
}
