// Shared ground for the tests of the pages people use: two orgs on a Writ with the demo provider,
// signing in through the real forms, and a snapshot of everything a page could write.
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { accountRoutes } from '../../src/as/account.ts';
import { interactionRoutes } from '../../src/as/interactions.ts';
import { connectRoutes, connectLink, newConnectionLink } from '../../src/connect/routes.ts';
import { consoleRoutes } from '../../src/console/routes.ts';
import { approvalPages } from '../../src/approvals/pages.ts';
import { startWritWithDemo } from '../support/connect.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { httpClient, parseForm, parseForms, type HttpClient, type HttpResponse } from '../support/http.ts';
import { seedOrg, type TestWrit } from '../support/writ.ts';
import { GRANTED } from './support.ts';

export const EVIL = 'https://evil.example';

/** Everything a page could write for these orgs: audit events, grants, connected accounts (with their pending authorization). */
export async function stored(writ: TestWrit, orgs: string[]): Promise<string> {
  const out: unknown[] = [];
  for (const org of orgs) {
    const events = await writ.audit.query(org, { limit: 10_000 });
    const grants = await writ.store.grants.listGrants(org);
    const accounts = await writ.store.vault.listAccounts(org);
    out.push({
      events: events.map((e) => `${e.seq} ${e.type}`),
      grants: grants.map((g) => `${g.id} ${g.revoked_at ?? ''}`),
      accounts: accounts.map((a) => `${a.id} ${a.status} ${a.updated_at} ${a.sealed_connect ? 'started' : ''}`),
    });
  }
  return JSON.stringify(out);
}

export async function signInPage(writ: TestWrit, browser: HttpClient, org: string, next?: string) {
  const page = await browser.request(`${writ.issuer}/account?org=${org}${next ? `&next=${encodeURIComponent(next)}` : ''}`);
  assert.equal(page.status, 200);
  return { page, form: parseForm(page.text, '/account/signin') };
}

export async function signIn(writ: TestWrit, browser: HttpClient, org: string, user: { username: string; password: string }) {
  const { page, form } = await signInPage(writ, browser, org);
  const posted = await browser.request(new URL(form.action, page.url), { form: { ...form.hidden, username: user.username, password: user.password } });
  assert.equal(posted.status, 303, posted.text.slice(0, 200));
  return browser;
}

export const sessionCookie = (res: HttpResponse) => res.headers.getSetCookie().filter((c) => c.startsWith('writ_session=') && !/writ_session=;/.test(c));

/** Two orgs on a Writ with the demo provider: the victim Alice at XCorp, the attacker Mallory at Evil Inc. */
export async function world() {
  const { writ, demo } = await startWritWithDemo();
  const xcorp = await seedOrg(writ, { name: 'XCorp' });
  const alice = (await writ.admin('POST', `/orgs/${xcorp.org.id}/users`, { username: 'alice', password: 'alice password 1', roles: ['admin'] })).json;
  const victim = { ...xcorp, user: { ...alice, password: 'alice password 1' } };
  const attacker = await seedOrg(writ, { name: 'Evil Inc', username: 'mallory', password: 'mallory password 1' });
  return { writ, demo, victim, attacker, orgs: [victim.org.id, attacker.org.id], async stop() { await writ.stop(); await demo.close(); } };
}


// ---- Every route of the pages ----------------------------------------------------------------

export interface Route { method: string; path: string }

/** Every route the page routers declare; building them only registers routes. */
export function pageRoutes(): Route[] {
  const routers = [accountRoutes({} as never), interactionRoutes({} as never), connectRoutes({} as never), consoleRoutes({} as never), ...approvalPages({} as never)];
  return routers.flatMap((r) => (r as unknown as { stack: Array<{ path: string; methods: string[] }> }).stack
    .flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: layer.path }))));
}

const pattern = (path: string) => new RegExp(`^${path.replace(/:[A-Za-z_]+/g, '[^/]+')}$`);

/** A live scene with a real value for every route parameter and a valid form for every form. */
export async function pagesScene(w: Awaited<ReturnType<typeof world>>) {
  const { writ, victim, attacker } = w;
  const org = victim.org.id;
  await delegate(writ, victim, { authorization_details: GRANTED, username: 'alice', password: 'alice password 1' });
  const grant = (await writ.store.grants.listGrants(org))[0]!;
  const account = (await writ.admin('POST', `/orgs/${org}/connected-accounts`, { connector: 'demo', user_id: victim.user.id })).json;
  const browser = await signIn(writ, httpClient(), org, { username: 'alice', password: 'alice password 1' });

  // Two authorizations in this browser: one at its sign-in form, one at its consent form.
  const config = await agentClient(writ, victim.agent);
  const authorize = async () => browser.follow(oauth.buildAuthorizationUrl(config, {
    redirect_uri: victim.redirect_uri, code_challenge: await oauth.calculatePKCECodeChallenge(oauth.randomPKCECodeVerifier()),
    code_challenge_method: 'S256', authorization_details: JSON.stringify(GRANTED),
  }));
  const loginPage = await authorize();
  const second = await authorize();
  const secondForm = parseForm(second.text, '/login');
  const loggedIn = await browser.request(new URL(secondForm.action, second.url), { form: { ...secondForm.hidden, username: 'alice', password: 'alice password 1' } });
  const consentPage = await browser.follow(loggedIn.location!);

  const pages = await Promise.all([
    browser.request(`${writ.issuer}/account`), browser.request(`${writ.issuer}/account?org=${attacker.org.id}`),
    browser.request(`${writ.issuer}/connect`), browser.request(`${writ.issuer}${newConnectionLink('', org, 'demo')}`),
    browser.request(connectLink(writ.issuer, org, account.id)), browser.request(`${writ.issuer}/console`), browser.request(`${writ.issuer}/console/policies`),
  ]);
  const forms = [...pages, loginPage, consentPage].flatMap((p) => parseForms(p.text).filter((f) => f.method === 'post').map((f) => ({ ...f, url: new URL(f.action, p.url) })));
  // What a person would type into each form besides its hidden fields.
  const typed: Record<string, Record<string, string>> = {
    '/account/signin': { username: attacker.user.username, password: attacker.user.password },
    '/interaction/:uid/login': { username: 'alice', password: 'alice password 1' },
    '/interaction/:uid/confirm': { decision: 'approve' },
    '/console/policies/dry-run': { agent_id: victim.agent.client_id, tools: 'demo.notes.create' },
  };
  const ids: Record<string, string> = { ':account_id': account.id, ':id': grant.id, ':uid': new URL(loginPage.url).pathname.split('/')[2]! };
  /** The request a page of this site would make for `route`, with real ids and a valid form. */
  const requestFor = (route: Route): { url: URL; form: Record<string, string> } => {
    const form = forms.find((f) => pattern(route.path).test(f.url.pathname));
    if (form) return { url: form.url, form: { ...form.hidden, ...typed[route.path] } };
    return { url: new URL(route.path.replace(/:[A-Za-z_]+/g, (p) => ids[p] ?? 'x') + `?org=${org}`, writ.issuer), form: typed[route.path] ?? {} };
  };
  return { browser, org, account, grant, requestFor, ids, forms };
}
