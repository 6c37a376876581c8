// Drives Writ's authorization endpoint the way a person would: the agent's client (openid-client)
// builds the request, a browser with a cookie jar fills in the sign-in and consent forms.
import * as oauth from 'openid-client';
import { httpClient, parseForm, type HttpClient, type HttpResponse } from './http.ts';
import type { TestWrit } from './writ.ts';

export interface Seeded {
  org: { id: string };
  user: { id: string; username: string; password: string };
  agent: { client_id: string; client_secret: string };
  redirect_uri: string;
}

export async function agentClient(writ: TestWrit, agent: { client_id: string; client_secret: string }): Promise<oauth.Configuration> {
  return oauth.discovery(new URL(writ.issuer), agent.client_id, agent.client_secret, undefined, {
    execute: [oauth.allowInsecureRequests], algorithm: 'oauth2',
  });
}

export interface DelegationRun {
  config: oauth.Configuration;
  browser: HttpClient;
  /** The last page response before the redirect to the client, for error cases. */
  last: HttpResponse;
  callback?: URL;
  tokens?: oauth.TokenEndpointResponse & oauth.TokenEndpointResponseHelpers;
}

export interface DelegateOptions {
  authorization_details?: unknown[];
  scope?: string;
  username?: string;
  password?: string;
  decision?: 'approve' | 'deny';
  /** Drop the CSRF token from the sign-in or consent form. */
  dropCsrf?: 'login' | 'consent';
  browser?: HttpClient;
}

export async function delegate(writ: TestWrit, seeded: Seeded, options: DelegateOptions = {}): Promise<DelegationRun> {
  const config = await agentClient(writ, seeded.agent);
  const browser = options.browser ?? httpClient();
  const verifier = oauth.randomPKCECodeVerifier();
  const state = oauth.randomState();
  const params: Record<string, string> = {
    redirect_uri: seeded.redirect_uri,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    scope: options.scope ?? '',
  };
  if (!params.scope) delete params.scope;
  if (options.authorization_details) params.authorization_details = JSON.stringify(options.authorization_details);
  const url = oauth.buildAuthorizationUrl(config, params);

  const isCallback = (location: string) => location.startsWith(seeded.redirect_uri);
  let last = await browser.follow(url, { stop: isCallback });
  for (let step = 0; step < 4 && !(last.location && isCallback(last.location)); step++) {
    if (last.status !== 200 && last.status !== 401) break;
    const form = parseForm(last.text);
    const fields: Record<string, string> = { ...form.hidden };
    const action = new URL(form.action, last.url);
    if (action.pathname.endsWith('/login')) {
      if (options.dropCsrf === 'login') delete fields.csrf;
      fields.username = options.username ?? seeded.user.username;
      fields.password = options.password ?? seeded.user.password;
    } else if (action.pathname.endsWith('/confirm')) {
      if (options.dropCsrf === 'consent') delete fields.csrf;
      fields.decision = options.decision ?? 'approve';
    }
    const posted = await browser.request(action, { form: fields });
    if (posted.status !== 303) { last = posted; break; }
    last = await browser.follow(posted.location!, { stop: isCallback });
    if (last.status === 303 && last.location && isCallback(last.location)) break;
  }
  const run: DelegationRun = { config, browser, last };
  if (last.location && isCallback(last.location)) {
    run.callback = new URL(last.location);
    if (run.callback.searchParams.has('code')) {
      run.tokens = await oauth.authorizationCodeGrant(config, run.callback, { pkceCodeVerifier: verifier, expectedState: state });
    }
  }
  return run;
}
