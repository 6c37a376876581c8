import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { startWrit, type RunningWrit } from '../app/writ.ts';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../core/log.ts';
import { startDemoProvider, type DemoProvider } from './provider/index.ts';
import { WritClient } from '../client/index.ts';
import { httpClient, parseForms, type HttpClient, type HttpResponse } from './browser.ts';

// `npm run demo`: the whole story offline, one clear line per step. Writ and the bundled notes
// provider start in this process on loopback; an org admin sets up XCorp, John delegates to a
// notes agent and connects his notes account, the agent exchanges its delegation for a
// capability and creates a note, and the audit log shows who did what for whom.

export interface DemoOptions {
  /** Drive the sign-in, consent and connect pages headlessly instead of waiting for a person. */
  auto: boolean;
  write: (line: string) => void;
  /** Keep Writ running at the end (for a person to look around). */
  keep?: boolean;
}

const JOHN = { username: 'john', password: 'correct horse battery' };

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** The agent's redirect_uri: a one-shot local receiver for the authorization response. */
async function callbackReceiver(): Promise<{ url: string; next: Promise<URL>; close(): void }> {
  let deliver!: (url: URL) => void;
  const next = new Promise<URL>((resolve) => { deliver = resolve; });
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('Writ demo: the agent received the answer. You can close this tab.\n');
    deliver(new URL(req.url ?? '/', 'http://127.0.0.1'));
  });
  const port = await listen(server);
  return { url: `http://127.0.0.1:${port}/callback`, next, close: () => server.close() };
}

/**
 * Fills in whatever page comes next, as John would: Writ's sign-in and consent on Writ's origin,
 * the notes provider's sign-in and consent on its own.
 */
async function walk(browser: HttpClient, issuer: string, start: string, stop: (location: string) => boolean): Promise<HttpResponse> {
  let res = await browser.follow(start, { stop });
  for (let step = 0; step < 8 && !(res.location && stop(res.location)); step++) {
    if (res.status !== 200) return res;
    const atWrit = new URL(res.url).origin === new URL(issuer).origin;
    // The page's own form, not the Sign out in the header of a signed-in page.
    const form = parseForms(res.text).find((f) => new URL(f.action, res.url).pathname !== '/account/signout');
    if (!form) return res;
    let fields: Record<string, string>;
    if (/\/(login|signin)$/.test(new URL(form.action, res.url).pathname)) {
      fields = atWrit ? { ...form.hidden, ...JOHN } : { ...form.hidden, username: 'john', password: 'demo' };
    } else if (/\/confirm$/.test(new URL(form.action, res.url).pathname)) {
      fields = atWrit ? { ...form.hidden, decision: 'approve' } : { ...form.hidden };
    } else {
      return res;
    }
    const posted = await browser.request(new URL(form.action, res.url), { form: fields });
    res = posted.location && !stop(posted.location) ? await browser.follow(posted.location, { stop }) : posted;
  }
  return res;
}

function decodeSegment(segment: string): unknown {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
}

export async function runDemo(options: DemoOptions): Promise<{ note: unknown; auditTypes: string[] }> {
  const say = options.write;
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-demo-'));
  // Ctrl-C (or a SIGTERM) while the demo waits for a person must not leave the generated admin
  // token and master key behind in the temporary directory: remove it, then end as interrupted.
  const interrupted = (signal: NodeJS.Signals) => {
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const receiver = await callbackReceiver();
  const portProbe = createServer();
  const writPort = await listen(portProbe);
  await new Promise((r) => portProbe.close(r));
  const issuer = `http://localhost:${writPort}`;
  const demoClient = { client_id: 'writ-demo', client_secret: randomBytes(24).toString('base64url') };

  let provider: DemoProvider | undefined;
  let writ: RunningWrit | undefined;
  try {
    provider = await startDemoProvider({ clients: [{ ...demoClient, redirect_uris: [`${issuer}/connect/callback`] }] });
    say(`1. The demo notes provider (a real OAuth server with a notes API) listens at ${provider.url}`);
    const config = loadConfig({
      PORT: String(writPort), WRIT_DATA_DIR: dataDir, WRIT_DEMO_PROVIDER_URL: provider.url, WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1',
      WRIT_CONNECTOR_CLIENTS: JSON.stringify({ demo: demoClient }), WRIT_POLICIES: join(import.meta.dirname, '../../policies'),
    });
    writ = await startWrit(config, { logger: createLogger({ level: 'warn', sink: () => {} }) });
    say(`2. Writ listens at ${writ.issuer} (data and generated development secrets in ${dataDir})`);

    const admin = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${issuer}/admin/v1${path}`, {
        method, headers: { authorization: `Bearer ${config.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : null,
      });
      const json = (await res.json()) as Record<string, any>;
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const org = await admin('POST', '/orgs', { name: 'XCorp' });
    const user = await admin('POST', `/orgs/${org.id}/users`, { username: JOHN.username, password: JOHN.password });
    const agent = await admin('POST', `/orgs/${org.id}/agents`, { name: 'Notes agent', redirect_uris: [receiver.url], tools: ['demo.notes.create', 'demo.notes.list'] });
    say(`3. An org admin created org XCorp (${org.id}), user john (${user.id}) and the agent "Notes agent" (${agent.client_id}) whose ceiling is demo.notes.create, demo.notes.list`);

    // Flow 1: delegation with authorization code + PKCE and tool_access details.
    const verifier = randomBytes(32).toString('base64url');
    const state = randomBytes(16).toString('base64url');
    const authorize = new URL(`${issuer}/authorize`);
    authorize.search = new URLSearchParams({
      response_type: 'code', client_id: agent.client_id, redirect_uri: receiver.url, state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
      authorization_details: JSON.stringify([{ type: 'tool_access', tools: ['demo.notes.create'] }]),
    }).toString();
    const browser = httpClient();
    let callback: URL;
    if (options.auto) {
      const res = await walk(browser, issuer, authorize.toString(), (l) => l.startsWith(receiver.url));
      if (!res.location) throw new Error(`the consent did not complete (${res.status})`);
      await fetch(res.location);
      callback = await receiver.next;
      say('4. John signed in and approved: "Notes agent of XCorp may use demo.notes.create on any resource" (driven headlessly: --auto)');
    } else {
      say(`4. Open this link in a browser, sign in as ${JOHN.username} / ${JOHN.password}, read the consent and approve:\n   ${authorize}`);
      callback = await receiver.next;
      say('   John approved.');
    }
    if (callback.searchParams.get('state') !== state || !callback.searchParams.get('code')) throw new Error(`consent answered ${callback.search}`);
    const tokenRes = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${agent.client_id}:${agent.client_secret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, redirect_uri: receiver.url, code_verifier: verifier }),
    });
    const tokens = (await tokenRes.json()) as { access_token: string; expires_in: number };
    if (!tokenRes.ok) throw new Error(`token endpoint: ${JSON.stringify(tokens)}`);
    const grant = (await admin('GET', `/orgs/${org.id}/grants`)).grants[0];
    say(`5. The agent holds a delegated access token for ${tokens.expires_in} s, bound to grant ${grant.id}`);

    // Flow 5: connect John's notes account; the provider's tokens go straight into the vault.
    const account = await admin('POST', `/orgs/${org.id}/connected-accounts`, { connector: 'demo', user_id: user.id });
    if (options.auto) {
      const page = await walk(browser, issuer, account.authorization_url, () => false);
      if (!/is connected/.test(page.text)) throw new Error(`connecting failed (${page.status})`);
      say('6. John connected his demo notes account through Writ\'s link (provider sign-in john / demo); its tokens are sealed in the vault');
    } else {
      say(`6. Open this link in the same browser and connect John's notes account (provider sign-in: john / demo):\n   ${account.authorization_url}`);
      for (;;) {
        const accounts = (await admin('GET', `/orgs/${org.id}/connected-accounts`)).connected_accounts as Array<{ id: string; status: string }>;
        if (accounts.find((a) => a.id === account.id)?.status === 'active') break;
        await new Promise((r) => setTimeout(r, 500));
      }
      say('   Connected; the tokens are sealed in the vault.');
    }

    // Flows 3 and 6: token exchange, then the executor spends the vaulted credential.
    const client = new WritClient({ issuer, clientId: agent.client_id, clientSecret: agent.client_secret });
    const capability = await client.exchange({ subjectToken: tokens.access_token, tool: 'demo.notes.create' });
    const [header, payload] = capability.token.split('.');
    const claims = decodeSegment(payload!) as Record<string, unknown>;
    say(`7. Token exchange gave the agent a capability for one tool, ${capability.expiresIn} s of life. Decoded (the signature is left out):`);
    say(JSON.stringify({ header: decodeSegment(header!), claims }, null, 2).replace(/^/gm, '   '));
    const note = await client.execute('demo.notes.create', { title: 'Q3 plan', body: 'Drafted by the notes agent for John' }, capability);
    say(`8. The agent ran demo.notes.create through the executor. The provider stored, as John (it saw John's own token):`);
    say(JSON.stringify(note, null, 2).replace(/^/gm, '   '));
    say(`   The provider holds ${provider.notes.length} note(s); the agent never saw a provider credential.`);

    const events = (await admin('GET', `/orgs/${org.id}/audit?limit=50`)).events as Array<{ seq: number; type: string; actor: Record<string, unknown>; subject: Record<string, unknown> }>;
    say('9. The audit trail of XCorp, oldest first (hash-chained):');
    for (const e of [...events].reverse()) {
      const who = e.actor.kind === 'agent' ? `agent ${e.actor.agent_id}` : e.actor.kind === 'user' ? `user ${e.actor.user_id}` : String(e.actor.kind);
      const about = ['user_id', 'grant_id', 'capability_id', 'tool', 'account_id'].filter((k) => e.subject[k]).map((k) => `${k}=${e.subject[k]}`).join(' ');
      say(`   #${e.seq} ${e.type.padEnd(22)} by ${who}${about ? `  ${about}` : ''}`);
    }
    const verified = await admin('POST', `/orgs/${org.id}/audit/verify`);
    say(`   chain verified: ${verified.ok} (${verified.events_checked} events)`);
    if (options.keep) {
      say(`\nWrit keeps running at ${issuer}; admin token: cat ${dataDir}/admin-token. Ctrl-C to stop.`);
      await new Promise(() => {});
    }
    return { note, auditTypes: events.map((e) => e.type) };
  } finally {
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
    receiver.close();
    await writ?.close();
    await provider?.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
