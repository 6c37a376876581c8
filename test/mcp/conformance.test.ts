// The MCP conformance suite (@modelcontextprotocol/conformance, server mode) against POST /mcp.
//
// The suite's client speaks no OAuth, and /mcp refuses every request without a token for it. The
// suite therefore talks to a loopback forwarder that adds a real token, obtained the way any client
// gets one (registration, the person's sign-in and consent, PKCE); Writ's checks are untouched.
//
// Scenarios that apply: server-initialize, ping, tools-list. Those that do not:
// - tools-call-*, json-schema-2020-12, elicitation-*: they call tools of the suite's reference
//   server (test_simple_text, …); /mcp lists the connectors' tools the grant covers;
// - logging-set-level, completion-complete, resources-*, prompts-*: /mcp offers tools only and
//   does not declare those capabilities;
// - server-sse-polling, server-sse-multiple-streams: /mcp is stateless with JSON answers, no streams;
// - dns-rebinding-protection: it is for unauthenticated localhost servers and expects any localhost
//   Origin to be accepted; /mcp is authenticated and accepts no Origin but Writ's own (its refusal of
//   a foreign Origin is tested below).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startWritWithDemo } from '../support/connect.ts';
import { seedOrg } from '../support/writ.ts';
import { httpClient, parseForm } from '../support/http.ts';

const SUITE = resolve(import.meta.dirname, '../../node_modules/@modelcontextprotocol/conformance/dist/index.js');
const SCENARIOS = ['server-initialize', 'ping', 'tools-list'];

function runSuite(url: string, scenario: string, out: string): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    process.once('exit', () => rmSync(out, { recursive: true, force: true }));
    execFile(process.execPath, [SUITE, 'server', '--url', url, '--scenario', scenario, '-o', out], { env: { PATH: process.env.PATH ?? '' } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: `${stdout}${stderr}` });
    });
  });
}

test('the MCP conformance suite, server mode, against /mcp', async (t) => {
  const redirect = 'http://127.0.0.1:9/callback';
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { name: 'XCorp', tools: ['demo.notes.list', 'demo.notes.create'] });
  assert.equal((await writ.admin('PUT', `/orgs/${seeded.org.id}/mcp`, { accept: 'any', tools: ['demo.notes.list', 'demo.notes.create'] })).status, 200);

  // A token the way any MCP client gets one: registration, sign-in and consent, code with PKCE.
  const registered = await (await fetch(`${writ.issuer}/reg`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'Conformance', redirect_uris: [redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
  })).json();
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${writ.issuer}/authorize`);
  authorize.search = new URLSearchParams({
    client_id: registered.client_id, redirect_uri: redirect, response_type: 'code', state: 's', resource: `${writ.issuer}/mcp`,
    scope: 'tool:demo.notes.list tool:demo.notes.create', code_challenge_method: 'S256', code_challenge: createHash('sha256').update(verifier).digest('base64url'),
  }).toString();
  const browser = httpClient();
  const atCallback = (location: string) => location.startsWith(redirect);
  let page = await browser.follow(authorize, { stop: atCallback });
  for (let step = 0; step < 4 && !(page.location && atCallback(page.location)); step++) {
    const form = parseForm(page.text);
    const action = new URL(form.action, page.url);
    const fields = action.pathname.endsWith('/login')
      ? { ...form.hidden, org: 'XCorp', username: seeded.user.username, password: seeded.user.password }
      : { ...form.hidden, decision: 'approve' };
    const posted = await browser.request(action, { form: fields });
    page = await browser.follow(posted.location!, { stop: atCallback });
  }
  const code = new URL(page.location!).searchParams.get('code')!;
  const tokens = await (await fetch(`${writ.issuer}/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirect, code_verifier: verifier, client_id: registered.client_id, resource: `${writ.issuer}/mcp` }),
  })).json();
  assert.ok(tokens.access_token, JSON.stringify(tokens));

  // The loopback forwarder: the suite's requests, with the client's token added.
  const target = new URL(`${writ.issuer}/mcp`);
  const forwarder = createServer((req, res) => {
    const headers = { ...req.headers, host: target.host, authorization: `Bearer ${tokens.access_token}` };
    const upstream = httpRequest({ hostname: target.hostname, port: target.port, path: target.pathname, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((done) => forwarder.listen(0, '127.0.0.1', done));
  t.after(() => new Promise<void>((done) => { forwarder.close(() => done()); forwarder.closeAllConnections(); }));
  const url = `http://127.0.0.1:${(forwarder.address() as AddressInfo).port}/mcp`;

  for (const scenario of SCENARIOS) {
    await t.test(scenario, async () => {
      const out = mkdtempSync(join(tmpdir(), 'writ-mcp-conformance-'));
      const run = await runSuite(url, scenario, out);
      const checks = readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('checks.json'))
        .flatMap((f) => JSON.parse(readFileSync(join(out, String(f)), 'utf8')) as Array<{ id: string; status: string; errorMessage?: string }>);
      assert.ok(checks.length > 0, run.output);
      assert.deepEqual(checks.filter((c) => c.status !== 'SUCCESS').map((c) => `${c.id}: ${c.errorMessage}`), [], run.output);
      assert.equal(run.code, 0, run.output);
    });
  }

  await t.test('without the forwarder\'s token the suite gets nowhere: /mcp still asks for one', async () => {
    const out = mkdtempSync(join(tmpdir(), 'writ-mcp-conformance-'));
    const run = await runSuite(`${writ.issuer}/mcp`, 'server-initialize', out);
    assert.notEqual(run.code, 0, run.output);
  });

  await t.test('a foreign Origin is refused (DNS-rebinding protection), with a valid token', async () => {
    const res = await fetch(url, {
      method: 'POST', headers: { origin: 'http://evil.example.com', 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    assert.equal(res.status, 403);
  });
});
