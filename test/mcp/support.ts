// What the MCP tests share: an MCP client's own side (an OAuthClientProvider kept in memory, its
// loopback redirect), an https server for Client ID Metadata Documents with a self-signed
// certificate that only the test's own fetch trusts, and the person's sign-in and consent in Chromium.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { accessibilityProblems, launchChromium } from '../browser/chromium.ts';
import type { TestContext } from 'node:test';
import { startWritWithDemo } from '../support/connect.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

/** The MCP client's loopback redirect: records the callbacks it receives. */
export async function callbackServer() {
  const received: URL[] = [];
  const server = createHttpServer((req, res) => {
    received.push(new URL(req.url ?? '/', `http://${req.headers.host}`));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="en"><title>MCP client</title><main><h1>You can close this window</h1></main></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  return { url, received, close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
}

/** An OAuthClientProvider as an MCP host application keeps one, in memory. */
export class MemoryClientProvider implements OAuthClientProvider {
  readonly redirectUrl: string;
  readonly clientMetadata: OAuthClientMetadata;
  readonly clientMetadataUrl: string | undefined;
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrls: URL[] = [];
  registrations = 0;
  invalidations: string[] = [];

  constructor(options: { redirectUrl: string; name: string; clientMetadataUrl?: string }) {
    this.redirectUrl = options.redirectUrl;
    this.clientMetadataUrl = options.clientMetadataUrl;
    this.clientMetadata = {
      client_name: options.name, redirect_uris: [options.redirectUrl], grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'], token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() { return this.client; }
  saveClientInformation(info: OAuthClientInformationMixed) {
    if (!this.clientMetadataUrl) this.registrations += 1;
    this.client = info;
  }
  tokens() { return this.saved; }
  saveTokens(tokens: OAuthTokens) { this.saved = tokens; }
  redirectToAuthorization(url: URL) { this.authorizationUrls.push(url); }
  saveCodeVerifier(verifier: string) { this.verifier = verifier; }
  codeVerifier() { return this.verifier; }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    this.invalidations.push(scope);
    if (scope === 'all' || scope === 'client') this.client = undefined;
    if (scope === 'all' || scope === 'tokens') this.saved = undefined;
  }
}

/**
 * A fetch that records what the MCP client asks and what it is answered, one line per request:
 * method, path (JSON-RPC method for POST /mcp) and status. Ports and ids are left out so the lines
 * are the same on every run.
 */
export function recordingFetch(lines: string[]): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    let what = url.pathname;
    if (typeof init?.body === 'string' && init.body.startsWith('{')) {
      try { what += ` ${(JSON.parse(init.body) as { method?: string }).method ?? ''}`.trimEnd(); } catch { /* not JSON */ }
    } else if (init?.body instanceof URLSearchParams) {
      what += ` grant_type=${init.body.get('grant_type')}`;
    }
    const challenge = res.headers.get('www-authenticate');
    lines.push(`${init?.method ?? 'GET'} ${what} -> ${res.status}${challenge ? ` (WWW-Authenticate: ${challenge.replace(/http:\/\/[^/"]+/g, '…').replace(/"[^"]*\.well-known[^"]*"/, (m) => m)})` : ''}`);
    return res;
  }) as typeof fetch;
}

/** A self-signed certificate for `localhost`, made with openssl for this run. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'writ-mcp-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An https server for metadata documents; `routes` answer by path. */
export async function documentServer(tls: { key: string; cert: string }, routes: Record<string, (req: IncomingMessage, res: ServerResponse, base: string) => void>) {
  const server = createHttpsServer(tls, (req, res) => {
    const route = routes[new URL(req.url ?? '/', 'https://localhost').pathname];
    if (!route) { res.writeHead(404).end(); return; }
    route(req, res, base);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `https://localhost:${(server.address() as AddressInfo).port}`;
  return { base, host: `localhost:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }) };
}

/**
 * The fetch Writ is given for metadata documents in these tests: node:https trusting this run's
 * certificate, and nothing else. Writ's egress check runs before it is called.
 */
export function fetchTrusting(cert: string): typeof fetch {
  return ((input: string | URL, init: RequestInit = {}) => new Promise<Response>((resolve, reject) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => { headers[k] = v; });
    const req = httpsRequest(new URL(String(input)), { method: init.method ?? 'GET', headers, ca: cert, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
      const responseHeaders = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') responseHeaders.set(k, v);
      const status = res.statusCode ?? 500;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers: responseHeaders })));
    });
    req.on('error', reject);
    req.end();
  })) as typeof fetch;
}

/** The person's side in Chromium: sign in naming their org, read the consent, approve; returns the code. */
export async function signInAndApprove(page: Page, authorizationUrl: URL, person: { org: string; username: string; password: string }, callback: string, check?: (consent: string) => void): Promise<string> {
  await page.goto(authorizationUrl.href);
  if (await page.getByLabel('Organisation').count()) {
    assert.deepEqual(await accessibilityProblems(page), [], 'the sign-in page');
    await page.getByLabel('Organisation').fill(person.org);
    await page.getByLabel('Username').fill(person.username);
    await page.getByLabel('Password').fill(person.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  await page.getByRole('button', { name: 'Approve' }).waitFor({ timeout: 10_000 }).catch(async (err: Error) => {
    throw new Error(`no consent page: ${(await page.locator('body').innerText()).slice(0, 400)}`, { cause: err });
  });
  assert.deepEqual(await accessibilityProblems(page), [], 'the consent page');
  check?.(await page.locator('main').innerText());
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL((url) => url.href.startsWith(callback));
  const at = new URL(page.url());
  const code = at.searchParams.get('code');
  if (!code) throw new Error(`no code at the callback: ${at.search}`);
  return code;
}

/** Connects the SDK client, sending the person through Chromium when the SDK asks for authorization. */
export async function connect(mcpUrl: URL, provider: MemoryClientProvider, authorize: (url: URL) => Promise<string>, fetchFn?: typeof fetch) {
  const options = { authProvider: provider, ...(fetchFn ? { fetch: fetchFn } : {}) };
  let transport = new StreamableHTTPClientTransport(mcpUrl, options);
  let client = new Client({ name: 'writ-test-host', version: '1.0.0' });
  try {
    await client.connect(transport);
    return { client, transport, authorized: false };
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err;
  }
  const url = provider.authorizationUrls.at(-1)!;
  const code = await authorize(url);
  await transport.finishAuth(code);
  transport = new StreamableHTTPClientTransport(mcpUrl, options);
  client = new Client({ name: 'writ-test-host', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport, authorized: true };
}


/**
 * What most MCP browser tests start from: Chromium, the client's callback, a Writ (with the demo
 * provider when asked), an org "XCorp" with its person, accepting any external client with
 * `tools` as the ceiling, and that person's side in the browser. Undefined (the test skipped) without Chromium.
 */
export async function mcpTestbed(t: TestContext, options: { tools: string[]; demo?: boolean }) {
  const browser = await launchChromium(t);
  if (!browser) return undefined;
  const callback = await callbackServer();
  t.after(() => callback.close());
  const started = options.demo ? await startWritWithDemo() : { writ: await startTestWrit(), demo: undefined };
  const { writ, demo } = started;
  t.after(async () => { await writ.stop(); await demo?.close(); });
  const seeded = await seedOrg(writ, { name: 'XCorp', redirect_uri: callback.url, ...(options.demo ? { tools: ['demo.notes.create', 'demo.notes.list'] } : {}) });
  const org = seeded.org.id as string;
  assert.equal((await writ.admin('PUT', `/orgs/${org}/mcp`, { accept: 'any', tools: options.tools })).status, 200);
  const page = await (await browser.newContext()).newPage();
  const person = { org: 'XCorp', username: seeded.user.username as string, password: seeded.user.password as string };
  const consents: string[] = [];
  /** The person signs in and approves; each consent page's text is kept in `consents`. */
  const authorize = (url: URL) => signInAndApprove(page, url, person, callback.url, (text) => consents.push(text));
  return { writ, demo, seeded, org, callback, page, person, consents, authorize, mcpUrl: new URL(`${writ.issuer}/mcp`) };
}
