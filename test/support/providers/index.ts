// Writ with local stand-ins for Notion, GitHub, Slack, Linear, Google (Gmail and Calendar) and
// HubSpot, reached through
// WRIT_CONNECTOR_ENDPOINTS exactly as a GitHub Enterprise Server deployment would be: the
// shipped connector definitions are used unchanged but for their base URLs.
import type { WritOptions } from '../../../src/app/writ.ts';
import { freePort, openConnectLink } from '../connect.ts';
import type { HttpClient } from '../http.ts';
import { startTestWrit, type TestWrit } from '../writ.ts';
import type { OAuthClient } from './base.ts';
import { startGitHub, type LocalGitHub } from './github.ts';
import { startLinear, type LocalLinear } from './linear.ts';
import { startNotion, type LocalNotion, type NotionWorkspace } from './notion.ts';
import { startSlack, type LocalSlack } from './slack.ts';
import { startGoogle, type LocalGoogle } from './google.ts';
import { startHubSpot, type LocalHubSpot } from './hubspot.ts';

export { billingConnector, startBilling } from './billing.ts';

export const PROVIDER_CLIENTS = {
  notion: { client_id: 'writ-notion-integration', client_secret: 'notion-client-secret-0123456789' },
  github: { client_id: 'Iv1.writgithubapp', client_secret: 'github-client-secret-0123456789' },
  slack: { client_id: '1234567890.writ', client_secret: 'slack-client-secret-0123456789' },
  linear: { client_id: 'writ-linear-app', client_secret: 'linear-client-secret-0123456789' },
  // One Google OAuth client serves both Google connectors, as one Cloud project would.
  google: { client_id: '123456789012-writ.apps.googleusercontent.com', client_secret: 'GOCSPX-google-client-secret-0123' },
  hubspot: { client_id: '0f1e2d3c-writ-hubspot-app', client_secret: 'hubspot-client-secret-0123456789' },
} as const;

export interface ProviderOptions {
  notion?: { workspaces: NotionWorkspace[] };
  github?: true;
  slack?: { team: { id: string; name: string }; channels: string[] };
  linear?: { teams: Array<{ id: string; key: string }> };
  /** Gmail and Google Calendar. */
  google?: true;
  hubspot?: true;
  env?: Record<string, string>;
  writ?: WritOptions;
}

export interface WritWithProviders {
  writ: TestWrit;
  notion: LocalNotion | undefined;
  github: LocalGitHub | undefined;
  slack: LocalSlack | undefined;
  linear: LocalLinear | undefined;
  google: LocalGoogle | undefined;
  hubspot: LocalHubSpot | undefined;
  close(): Promise<void>;
}

export async function startWritWithProviders(options: ProviderOptions): Promise<WritWithProviders> {
  const port = await freePort();
  const redirect_uris = [`http://localhost:${port}/connect/callback`];
  const client = (name: keyof typeof PROVIDER_CLIENTS): OAuthClient => ({ ...PROVIDER_CLIENTS[name], redirect_uris });
  const notion = options.notion ? await startNotion({ clients: [client('notion')], workspaces: options.notion.workspaces }) : undefined;
  const github = options.github ? await startGitHub({ clients: [client('github')] }) : undefined;
  const slack = options.slack ? await startSlack({ clients: [client('slack')], ...options.slack }) : undefined;
  const linear = options.linear ? await startLinear({ clients: [client('linear')], teams: options.linear.teams }) : undefined;
  const google = options.google ? await startGoogle({ clients: [client('google')] }) : undefined;
  const hubspot = options.hubspot ? await startHubSpot({ clients: [client('hubspot')] }) : undefined;

  const endpoints: Record<string, Record<string, string>> = {};
  const clients: Record<string, { client_id: string; client_secret: string }> = {};
  const hosts: string[] = [];
  if (notion) {
    endpoints.notion = { api_base_url: `${notion.url}/v1`, authorization_url: `${notion.url}/v1/oauth/authorize`, token_url: `${notion.url}/v1/oauth/token`, revocation_url: `${notion.url}/v1/oauth/revoke` };
    clients.notion = PROVIDER_CLIENTS.notion;
    hosts.push(new URL(notion.url).host);
  }
  if (github) {
    endpoints.github = { api_base_url: github.apiUrl, authorization_url: `${github.url}/login/oauth/authorize`, token_url: `${github.url}/login/oauth/access_token` };
    clients.github = PROVIDER_CLIENTS.github;
    hosts.push(new URL(github.url).host);
  }
  if (slack) {
    endpoints.slack = { api_base_url: `${slack.url}/api`, authorization_url: `${slack.url}/oauth/v2/authorize`, token_url: `${slack.url}/api/oauth.v2.access` };
    clients.slack = PROVIDER_CLIENTS.slack;
    hosts.push(new URL(slack.url).host);
  }
  if (linear) {
    endpoints.linear = { api_base_url: linear.url, authorization_url: `${linear.url}/oauth/authorize`, token_url: `${linear.url}/oauth/token` };
    clients.linear = PROVIDER_CLIENTS.linear;
    hosts.push(new URL(linear.url).host);
  }
  if (google) {
    const auth = { authorization_url: `${google.url}/o/oauth2/v2/auth`, token_url: `${google.url}/token`, revocation_url: `${google.url}/revoke` };
    endpoints.gmail = { api_base_url: `${google.url}/gmail/v1`, ...auth };
    endpoints.google_calendar = { api_base_url: `${google.url}/calendar/v3`, ...auth };
    clients.gmail = PROVIDER_CLIENTS.google;
    clients.google_calendar = PROVIDER_CLIENTS.google;
    hosts.push(new URL(google.url).host);
  }
  if (hubspot) {
    endpoints.hubspot = { api_base_url: hubspot.url, authorization_url: `${hubspot.url}/oauth/authorize`, token_url: `${hubspot.url}/oauth/v1/token` };
    clients.hubspot = PROVIDER_CLIENTS.hubspot;
    hosts.push(new URL(hubspot.url).host);
  }
  const extraHosts = options.env?.WRIT_ALLOW_PRIVATE_EGRESS ? options.env.WRIT_ALLOW_PRIVATE_EGRESS.split(',') : [];
  const writ = await startTestWrit({
    env: {
      ...options.env,
      PORT: String(port),
      WRIT_ALLOW_PRIVATE_EGRESS: [...hosts, ...extraHosts].join(','),
      WRIT_CONNECTOR_ENDPOINTS: JSON.stringify(endpoints),
      WRIT_CONNECTOR_CLIENTS: JSON.stringify(clients),
    },
    ...(options.writ ? { writ: options.writ } : {}),
  });
  return {
    writ, notion, github, slack, linear, google, hubspot,
    async close() {
      await writ.stop();
      for (const p of [notion, github, slack, linear, google, hubspot]) await p?.close();
    },
  };
}

/**
 * A connected account made the way an admin and a person would: the admin asks for a link, the
 * owner's browser (signed in to Writ, or signing in with `writUser`) opens it and consents at
 * the provider as `providerUser`. Returns the account id.
 */
export async function connectAccount(writ: TestWrit, browser: HttpClient, params: {
  org_id: string; connector: string; user_id?: string; providerUser: string; writUser?: { username: string; password: string };
}): Promise<string> {
  const created = await writ.admin('POST', `/orgs/${params.org_id}/connected-accounts`, { connector: params.connector, ...(params.user_id ? { user_id: params.user_id } : { owner: 'org' }) });
  if (created.status !== 201) throw new Error(`connected-accounts answered ${created.status}: ${created.text}`);
  const page = await openConnectLink(browser, created.json.authorization_url, { providerUser: params.providerUser, ...(params.writUser ? { writUser: params.writUser } : {}) });
  if (page.status !== 200 || !/is connected/.test(page.text)) throw new Error(`connecting ${params.connector} ended at ${page.url} (${page.status}): ${page.text.slice(0, 300)}`);
  return created.json.id as string;
}
