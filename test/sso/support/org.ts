// One org on single sign-on through a real upstream provider (./idp.ts), with an HTTP-only sign-in
// (no browser) and the admin API's view of its users and audit record.
import assert from 'node:assert/strict';
import { httpClient } from '../../support/http.ts';
import { seedOrg, startTestWrit } from '../../support/writ.ts';
import { startIdp, type IdpAccount } from './idp.ts';

export async function ssoOrg(t: { after(fn: () => unknown): void }, options: { name: string; domain: string; accounts: IdpAccount[] }) {
  const writ = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1' } });
  t.after(() => writ.stop());
  const org = await seedOrg(writ, { name: options.name });
  const client_id = `writ-${options.name.toLowerCase()}`;
  const client_secret = `${options.name.toLowerCase()}-secret-at-the-idp`;
  const idp = await startIdp({ accounts: options.accounts, clients: [{ client_id, client_secret, redirect_uris: [`${writ.issuer}/sso/callback`] }] });
  t.after(() => idp.close());
  assert.equal((await writ.admin('PUT', `/orgs/${org.org.id}/identity-provider`, { issuer: idp.issuer, client_id, client_secret, domains: [options.domain] })).status, 200);

  /** A sign-in at the provider as `username`, followed back to Writ: the page it ends on. */
  const signIn = async (username: string) => {
    const browser = httpClient();
    const page = await browser.follow(`${writ.issuer}/sso/start?org=${org.org.id}&next=/account`);
    assert.ok(page.url.startsWith(idp.issuer), page.url);
    const posted = await browser.request(page.url, { form: { username } });
    return browser.follow(posted.location!);
  };
  const users = async () => (await writ.admin('GET', `/orgs/${org.org.id}/users`)).json.users as any[];
  const audit = async (type: string) => (await writ.admin('GET', `/orgs/${org.org.id}/audit?type=${type}`)).json.events as any[];
  return { writ, org, idp, signIn, users, audit };
}
