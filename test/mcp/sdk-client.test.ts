// The official MCP TypeScript SDK client, unmodified, against a running Writ: 401 from /mcp →
// protected resource metadata → authorization server metadata → registration (a Client ID
// Metadata Document served over https by this test, or RFC 7591 dynamic registration) → the person
// signs in and consents in Chromium → tokens for the resource → tools/list → tools/call of a demo
// tool with the person's vaulted credential, on the audit trail with the MCP client as the agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpClient } from '../support/http.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';
import { seedOrg } from '../support/writ.ts';
import { launchChromium, screenshot } from '../browser/chromium.ts';
import { callbackServer, connect, documentServer, fetchTrusting, MemoryClientProvider, recordingFetch, selfSignedCertificate, signInAndApprove } from './support.ts';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const TOOLS = ['demo.notes.create', 'demo.notes.list'];

for (const registration of ['metadata document', 'dynamic registration'] as const) {
  test(`the MCP SDK client through Writ with ${registration}: discovery, consent in Chromium, tools/list, tools/call on the audit trail`, async (t) => {
    const browser = await launchChromium(t);
    if (!browser) return;
    const tls = selfSignedCertificate();
    const callback = await callbackServer();
    t.after(() => callback.close());
    const documents = await documentServer(tls, {
      '/mcp-client.json': (_req, res, base) => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' });
        res.end(JSON.stringify({
          client_id: `${base}/mcp-client.json`, client_name: 'Notes assistant', redirect_uris: [callback.url],
          grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none',
        }));
      },
    });
    t.after(() => documents.close());
    // The metadata document's host is on the operator's egress allow-list (it is on loopback), and
    // Writ fetches it through a fetch that trusts this run's certificate: NODE_EXTRA_CA_CERTS is
    // read at process start, so the test hands Writ its own fetch instead (WritOptions.metadataFetch).
    const { writ, demo } = await startWritWithDemo({
      env: { WRIT_ALLOW_PRIVATE_EGRESS: `127.0.0.1,${documents.host}` }, writ: { metadataFetch: fetchTrusting(tls.cert) },
    });
    t.after(async () => { await writ.stop(); await demo.close(); });
    const seeded = await seedOrg(writ, { name: 'XCorp', tools: TOOLS });
    const org = seeded.org.id as string;
    assert.equal((await writ.admin('PUT', `/orgs/${org}/mcp`, { accept: 'any', tools: TOOLS })).status, 200);

    const mcpUrl = new URL(`${writ.issuer}/mcp`);
    const provider = new MemoryClientProvider({
      redirectUrl: callback.url, name: 'Notes assistant',
      ...(registration === 'metadata document' ? { clientMetadataUrl: `${documents.base}/mcp-client.json` } : {}),
    });
    const context = await browser.newContext();
    const page = await context.newPage();

    await t.test('401 names the protected resource metadata; the metadata names Writ', async () => {
      const res = await fetch(mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', new RegExp(`resource_metadata="${writ.issuer}/.well-known/oauth-protected-resource/mcp"`));
      const prm = await (await fetch(`${writ.issuer}/.well-known/oauth-protected-resource/mcp`)).json();
      assert.equal(prm.resource, `${writ.issuer}/mcp`);
      assert.deepEqual(prm.authorization_servers, [writ.issuer]);
      const as = await (await fetch(`${writ.issuer}/.well-known/oauth-authorization-server`)).json();
      assert.equal(as.client_id_metadata_document_supported, true);
      assert.equal(as.authorization_response_iss_parameter_supported, true);
      assert.deepEqual(as.code_challenge_methods_supported, ['S256']);
      assert.ok(as.token_endpoint_auth_methods_supported.includes('none'));
      assert.equal(as.registration_endpoint, `${writ.issuer}/reg`);
    });

    const consentTexts: string[] = [];
    const authorize = (url: URL) => {
      assert.equal(url.searchParams.get('resource'), `${writ.issuer}/mcp`);
      assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
      return signInAndApprove(page, url, { org: 'XCorp', username: seeded.user.username, password: seeded.user.password }, callback.url, (text) => consentTexts.push(text));
    };
    const transcript: string[] = [];
    const { client } = await connect(mcpUrl, provider, (url) => {
      transcript.push('browser: GET /authorize (client_id, redirect_uri, code_challenge S256, scope, resource) -> sign-in, consent -> redirect with code and iss');
      return authorize(url);
    }, recordingFetch(transcript));
    t.after(() => client.close());

    await t.test('registration and consent', async () => {
      if (registration === 'metadata document') {
        assert.equal(provider.client?.client_id, `${documents.base}/mcp-client.json`);
        assert.equal(provider.registrations, 0);
        assert.match(consentTexts[0]!, /its metadata document: https:\/\/localhost:\d+\/mcp-client\.json/);
      } else {
        assert.match(String(provider.client?.client_id), /^mcp_client_/);
        assert.equal(provider.registrations, 1);
      }
      assert.match(consentTexts[0]!, /Notes assistant/);
      assert.match(consentTexts[0]!, /as john of XCorp/);
      assert.match(consentTexts[0]!, /Your answer goes to 127\.0\.0\.1:\d+/);
      assert.match(consentTexts[0]!, /on this\s+computer \(localhost\)/);
      // RFC 9207: the authorization response names its issuer.
      assert.equal(callback.received.find((u) => u.pathname === '/callback')?.searchParams.get('iss'), writ.issuer);
      assert.ok(provider.saved?.access_token);
      assert.ok(provider.saved?.refresh_token, 'a public client gets a rotating refresh token');
      await screenshot(page, `mcp-consent-${registration.replace(' ', '-')}`);
    });

    await t.test('tools/list shows what the grant covers, with the connectors\' descriptions and schemas', async () => {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((x) => x.name).sort(), TOOLS);
      const create = tools.find((x) => x.name === 'demo.notes.create')!;
      assert.ok(create.description);
      assert.equal(create.inputSchema.type, 'object');
      assert.ok(create.inputSchema.properties && 'title' in create.inputSchema.properties);
    });

    await t.test('tools/call before the demo account is connected: a tool error carrying the connect link', async () => {
      const result = await client.callTool({ name: 'demo.notes.create', arguments: { title: 'first', body: 'x' } });
      assert.equal(result.isError, true);
      const error = JSON.parse((result.content as Array<{ text: string }>)[0]!.text).error;
      assert.equal(error.code, 'not_connected');
      assert.match(error.connect_url, /\/connect\//);
    });

    await t.test('tools/call runs with the person\'s vaulted credential and lands on the audit trail with the MCP client as agent', async () => {
      const created = await writ.admin('POST', `/orgs/${org}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
      assert.equal(created.status, 201, created.text);
      const done = await openConnectLink(httpClient(), created.json.authorization_url, {
        writUser: { username: seeded.user.username, password: seeded.user.password }, providerUser: seeded.user.username,
      });
      assert.match(done.text, /is connected/);
      const result = await client.callTool({ name: 'demo.notes.create', arguments: { title: 'from MCP', body: 'written through Writ' } });
      assert.notEqual(result.isError, true, JSON.stringify(result));
      const note = JSON.parse((result.content as Array<{ text: string }>)[0]!.text);
      assert.equal(note.title, 'from MCP');
      assert.equal(note.owner, seeded.user.username, 'the provider saw the person\'s own token');
      const events = (await writ.admin('GET', `/orgs/${org}/audit?type=tool.executed`)).json.events;
      assert.equal(events.length, 1);
      const agentId = events[0].actor.agent_id as string;
      assert.match(agentId, /^mcp_/);
      assert.equal(events[0].subject.user_id, seeded.user.id);
      assert.equal(events[0].subject.tool, 'demo.notes.create');
      const agent = (await writ.admin('GET', `/orgs/${org}/agents/${agentId}`)).json;
      assert.equal(agent.name, 'Notes assistant');
      assert.equal(agent.kind, 'mcp_client');
      assert.deepEqual(agent.tools, TOOLS);
    });

    await t.test('the person revokes the provider account: a tool error with the reconnect link, not a protocol error', async () => {
      demo.revokeUserGrants(seeded.user.username);
      const result = await client.callTool({ name: 'demo.notes.list', arguments: {} });
      assert.equal(result.isError, true);
      const error = JSON.parse((result.content as Array<{ text: string }>)[0]!.text).error;
      assert.equal(error.code, 'auth_revoked');
      assert.match(error.reconnect_url, new RegExp(`/connect/acct_[^?]+\\?org=${org}`));
    });

    await t.test('the session transcript is the one docs/mcp.md shows', async () => {
      const text = transcript.join('\n');
      const artifacts = resolve(import.meta.dirname, '../../test-artifacts');
      mkdirSync(artifacts, { recursive: true });
      const name = registration === 'metadata document' ? 'cimd' : 'dcr';
      writeFileSync(resolve(artifacts, `mcp-transcript-${name}.txt`), `${text}\n`);
      const docs = readFileSync(resolve(import.meta.dirname, '../../docs/mcp.md'), 'utf8');
      assert.ok(docs.includes(`<!-- transcript:${name} -->\n\`\`\`text\n${text}\n\`\`\``), `docs/mcp.md shows test-artifacts/mcp-transcript-${name}.txt`);
    });
  });
}
