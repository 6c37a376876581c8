// Starts a real Writ on loopback (port 0) over a fresh data dir, and talks to its admin API.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startWrit, type RunningWrit, type WritOptions } from '../../src/app/writ.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/core/log.ts';

export interface TestWrit extends RunningWrit {
  dataDir: string;
  adminToken: string;
  masterKey: string;
  /** Every log line the server wrote. */
  logs: string[];
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }>;
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export async function startTestWrit(options: { dataDir?: string; env?: Record<string, string>; writ?: WritOptions } = {}): Promise<TestWrit> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'writ-test-'));
  const adminToken = options.env?.WRIT_ADMIN_TOKEN ?? 'test-admin-token-' + 'x'.repeat(32);
  const masterKey = options.env?.WRIT_MASTER_KEY ?? `v1:${randomBytes(32).toString('base64url')}`;
  // WRIT_TEST_STORE=mongodb (with MONGODB_URI) runs every end-to-end test on MongoDB, one database
  // per data dir, so a restart on the same data dir finds the same database.
  const mongo = process.env.WRIT_TEST_STORE === 'mongodb' && process.env.MONGODB_URI
    ? { WRIT_STORE: 'mongodb', MONGODB_URI: mongoUriFor(process.env.MONGODB_URI, dataDir) } : {};
  const config = loadConfig({
    PORT: '0', WRIT_DATA_DIR: dataDir, WRIT_ADMIN_TOKEN: adminToken, WRIT_MASTER_KEY: masterKey,
    // The demo connector is in every test server's catalog, so agents may name its tools; nothing
    // listens at this address (tests that call the provider start one and give its URL).
    NODE_ENV: 'test', WRIT_LOG_LEVEL: 'debug', WRIT_DEMO_PROVIDER_URL: 'http://127.0.0.1:9', ...mongo, ...options.env,
  });
  const logs: string[] = [];
  const writ = await startWrit(config, { logger: createLogger({ level: 'debug', sink: (line) => logs.push(line) }), ...options.writ });
  return {
    ...writ,
    dataDir,
    adminToken,
    masterKey,
    logs,
    async admin(method, path, body) {
      const res = await fetch(`${writ.issuer}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: any;
      try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
      return { status: res.status, json, text };
    },
    async stop({ keepData = false } = {}) {
      await writ.close();
      if (!keepData && !options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function mongoUriFor(base: string, dataDir: string): string {
  const url = new URL(base);
  url.pathname = `/writ_test_${basename(dataDir).replace(/[^A-Za-z0-9_]/g, '_')}`;
  return url.toString();
}

/** A minimal org connector (API key, https) whose tools are the given names, for agents' ceilings. */
export function apiKeyConnector(tools: string[], api_base_url = 'https://api.example.com') {
  return {
    display_name: 'Test service', api_base_url, auth: { type: 'api_key', header: 'X-Api-Key' },
    tools: Object.fromEntries(tools.map((t) => [t, { description: `${t}.`, method: 'POST', path: `/${t.replaceAll('.', '/')}`, input_schema: { type: 'object' } }])),
  };
}

/**
 * An org with one user and one interactive agent, created through the admin API. `connectors` are
 * registered first, so the agent's ceiling may name their tools (unknown tools are refused).
 */
export async function seedOrg(writ: TestWrit, opts: { name?: string; username?: string; password?: string; tools?: string[]; redirect_uri?: string; connectors?: Record<string, unknown> } = {}) {
  const org = (await writ.admin('POST', '/orgs', { name: opts.name ?? 'XCorp' })).json;
  for (const [name, definition] of Object.entries(opts.connectors ?? {})) {
    const put = await writ.admin('PUT', `/orgs/${org.id}/connectors/${name}`, definition);
    if (put.status !== 200) throw new Error(`seedOrg: connector ${name}: ${put.text}`);
  }
  const password = opts.password ?? 'correct horse battery';
  const user = (await writ.admin('POST', `/orgs/${org.id}/users`, { username: opts.username ?? 'john', password })).json;
  const redirect_uri = opts.redirect_uri ?? 'http://127.0.0.1:9/callback';
  const created = await writ.admin('POST', `/orgs/${org.id}/agents`, {
    name: 'Content agent', redirect_uris: [redirect_uri], tools: opts.tools ?? ['demo.notes.create', 'demo.notes.get', 'notion.pages.create'],
  });
  if (created.status !== 201) throw new Error(`seedOrg: agent: ${created.text}`);
  const agent = created.json;
  return { org, user: { ...user, password }, agent, redirect_uri };
}

/** The parts of TestWrit the shared helpers use, over a Writ running in another process. */
export function remoteWrit(issuer: string, adminToken: string): TestWrit {
  return {
    issuer,
    adminToken,
    async admin(method: string, path: string, body?: unknown) {
      const res = await fetch(`${issuer}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await res.text();
      let json: any;
      try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
      return { status: res.status, json, text };
    },
  } as unknown as TestWrit;
}
