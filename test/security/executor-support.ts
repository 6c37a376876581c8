// Shared ground for the executor's adversarial and fault suites: a real Writ with the bundled demo
// provider, a user who delegated the demo tools and connected their demo account, and a ledger
// of what was spent upstream and recorded, so every refusal can also prove that nothing was sent.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate, type DelegationRun } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';
import type { DemoProvider } from '../../src/demo/provider/index.ts';
import { Vault } from '../../src/vault/service.ts';
import { LocalKeyProvider, parseMasterKeyRing } from '../../src/vault/crypto.ts';
import type { Seeded } from './support.ts';

export const DEMO_TOOLS = ['demo.notes.create', 'demo.notes.get', 'demo.notes.list'];

export interface ExecuteAnswer { status: number; json: any; text: string; headers: Headers }

/** `POST /v1/tools/:tool/execute` with a capability; `headers` may replace the Authorization header. */
export async function execute(writ: TestWrit, tool: string, capability: string, input: unknown, options: { headers?: Record<string, string>; query?: string; scheme?: string } = {}): Promise<ExecuteAnswer> {
  const res = await fetch(`${writ.issuer}/v1/tools/${tool}/execute${options.query ?? ''}`, {
    method: 'POST',
    headers: { authorization: `${options.scheme ?? 'Bearer'} ${capability}`, 'content-type': 'application/json', ...options.headers },
    body: JSON.stringify({ input }),
  });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text) as any, text, headers: res.headers };
}

export interface Connected {
  run: DelegationRun;
  account_id: string;
  /** A capability for one tool, minted by a real token exchange. */
  capability(tool: string, extra?: Record<string, string>): Promise<string>;
}

/** The user delegates the demo tools and connects their demo account through Writ's link. */
export async function connectDemo(writ: TestWrit, seeded: Seeded, tools = DEMO_TOOLS): Promise<Connected> {
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools }] });
  assert.ok(run.tokens, 'delegation completed');
  const created = await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
  assert.equal(created.status, 201, created.text);
  const page = await openConnectLink(run.browser, created.json.authorization_url, { providerUser: seeded.user.username });
  assert.match(page.text, /is connected/);
  return {
    run, account_id: created.json.id as string,
    async capability(tool, extra = {}) {
      const res = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([tool]), ...extra });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      return res.json.access_token as string;
    },
  };
}

export interface DemoScene extends Connected {
  writ: TestWrit;
  demo: DemoProvider;
  seeded: Seeded;
  stop(): Promise<void>;
}

export async function demoScene(options: { env?: Record<string, string>; accessTokenTtlSeconds?: number } = {}): Promise<DemoScene> {
  const { writ, demo } = await startWritWithDemo(options);
  const seeded = await seedOrg(writ, { tools: DEMO_TOOLS });
  const connected = await connectDemo(writ, seeded);
  return { writ, demo, seeded, ...connected, async stop() { await writ.stop(); await demo.close(); } };
}

/** What was spent upstream and recorded: the numbers a refusal must leave as they were. */
export interface Spent { apiCalls: number; notes: number; executed: number; denied: number }

export async function spent(writ: TestWrit, demo: DemoProvider, org: string): Promise<Spent> {
  const count = async (type: string) => (await writ.admin('GET', `/orgs/${org}/audit?type=${type}&limit=1000`)).json.events.length as number;
  return { apiCalls: demo.stats.apiCalls, notes: demo.notes.length, executed: await count('tool.executed'), denied: await count('tool.denied') };
}

/** The user's provider credentials, read from the vault, to prove they never leave it. */
export async function providerSecrets(writ: TestWrit, org: string, account_id: string): Promise<string[]> {
  const vault = new Vault({ store: writ.store.vault, keys: new LocalKeyProvider(parseMasterKeyRing(writ.masterKey)) });
  const { credential } = await vault.readCredential(org, account_id);
  assert.equal(credential.type, 'oauth2');
  return [credential.access_token, credential.refresh_token].filter((s): s is string => typeof s === 'string');
}

export async function accountStatus(writ: TestWrit, org: string, account_id: string): Promise<string> {
  const accounts = (await writ.admin('GET', `/orgs/${org}/connected-accounts`)).json.connected_accounts as Array<{ id: string; status: string }>;
  return accounts.find((a) => a.id === account_id)!.status;
}

/** A plain HTTP server on loopback that records every request it receives. */
export interface Recorder {
  url: string;
  port: number;
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

export async function recorder(answer: (req: IncomingMessage, res: import('node:http').ServerResponse) => void = (_req, res) => res.end('{}')): Promise<Recorder> {
  const requests: Recorder['requests'] = [];
  const server: Server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    answer(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`, port, requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
