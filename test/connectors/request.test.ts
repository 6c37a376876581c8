import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConnectorCatalog, type ToolWithConnector } from '../../src/connectors/catalog.ts';
import { checkEgress, EgressError, isForbiddenAddress, resolveEgress } from '../../src/connectors/egress.ts';
import { buildRequest, credentialHeaders, resourceFor, ToolInputError } from '../../src/connectors/request.ts';
import { SqliteOrgConnectorStore } from '../../src/storage/sqlite/org-connectors.ts';
import { newVault, openVaultStore, tempDir } from '../vault/helpers.ts';

const catalog = new ConnectorCatalog({ demoProviderUrl: 'http://127.0.0.1:4000' });

async function tool(name: string) {
  const t = await catalog.getTool('org_1', name);
  assert.ok(t, name);
  return t;
}

/** The upstream request as the executor builds it: from the connector read with the tool. */
function requestFor(t: ToolWithConnector, input: Record<string, unknown>, on: ConnectorCatalog = catalog) {
  return buildRequest(t.catalogConnector.definition, t.definition, input, on.egress);
}

test('path values are encoded as one segment: ../, ?, #, %2F and CRLF never change the path', async () => {
  const get = await tool('github.issues.get');
  const req = requestFor(get, { owner: '../../admin', repo: 'x?y=1#frag', issue_number: 7 });
  const url = new URL(req.url);
  assert.equal(url.host, 'api.github.com');
  assert.equal(url.pathname, '/repos/..%2F..%2Fadmin/x%3Fy%3D1%23frag/issues/7');
  assert.equal(url.search, '');
  assert.equal(url.hash, '');

  const note = await tool('demo.notes.get');
  const crlf = new URL(requestFor(note, { id: '%2F..\r\nHost: evil' }).url);
  assert.equal(crlf.pathname, '/api/notes/%252F..%0D%0AHost%3A%20evil');
  for (const id of ['..', '.', '']) {
    assert.throws(() => requestFor(note, { id }), ToolInputError);
  }
  assert.throws(() => requestFor(note, { id: { toString: () => 'x' } }), ToolInputError);
});

test('property: whatever the input, the URL stays on the base path with the template segments intact', async () => {
  const get = await tool('github.issues.get');
  const connector = (await catalog.getConnector('org_1', 'github'))!.definition;
  fc.assert(fc.property(fc.string(), fc.string(), fc.integer({ min: 1 }), (owner, repo, n) => {
    let req;
    try {
      req = buildRequest(connector, get.definition, { owner, repo, issue_number: n });
    } catch (err) {
      assert.ok(err instanceof ToolInputError);
      return;
    }
    const url = new URL(req.url);
    assert.equal(url.origin, 'https://api.github.com');
    assert.equal(url.search + url.hash, '');
    const segments = url.pathname.split('/');
    assert.equal(segments.length, 6);
    assert.equal(segments[1], 'repos');
    assert.equal(decodeURIComponent(segments[2]!), owner);
    assert.equal(decodeURIComponent(segments[3]!), repo);
    assert.equal(segments[4], 'issues');
  }), { numRuns: 500 });
});

test('query fields become query parameters, path fields leave the body, GraphQL tools send { query, variables }', async () => {
  const list = await tool('google_calendar.events.list');
  const r1 = requestFor(list, { calendarId: 'primary', maxResults: 5, q: 'a&b=c' });
  const u = new URL(r1.url);
  assert.equal(u.pathname, '/calendar/v3/calendars/primary/events');
  assert.equal(u.searchParams.get('q'), 'a&b=c');
  assert.equal(u.searchParams.get('maxResults'), '5');
  assert.equal(r1.body, undefined);

  const create = await tool('github.issues.create');
  const r2 = requestFor(create, { owner: 'acme', repo: 'web', title: 'Bug', labels: ['p1'] });
  assert.deepEqual(JSON.parse(r2.body!), { title: 'Bug', labels: ['p1'] });
  assert.equal(r2.headers['content-type'], 'application/json');
  assert.equal(r2.headers['x-github-api-version'], '2022-11-28');

  const linear = await tool('linear.issues.create');
  const r3 = requestFor(linear, { input: { teamId: 'T1', title: 'x' } });
  const body = JSON.parse(r3.body!);
  assert.match(body.query, /issueCreate/);
  assert.deepEqual(body.variables, { input: { teamId: 'T1', title: 'x' } });
});

test('resource ids are derived from the input by the tool template', async () => {
  assert.equal(resourceFor((await tool('notion.pages.create')).definition, { parent: { page_id: '8a1f' }, properties: {} }), 'notion:page:8a1f');
  assert.equal(resourceFor((await tool('github.issues.create')).definition, { owner: 'acme', repo: 'web', title: 't' }), 'github:repo:acme/web');
  const create = (await tool('github.issues.create')).definition;
  const page = (await tool('notion.pages.create')).definition;
  assert.throws(() => resourceFor(create, { owner: 'acme', repo: '*', title: 't' }), ToolInputError);
  assert.throws(() => resourceFor(page, { properties: {} }), ToolInputError);
});

test('tool input is validated against its JSON Schema', async () => {
  const send = await tool('gmail.messages.send');
  const email = { to: 'ann@customer.com', cc: ['bob@customer.com'], subject: 's', body: 'b' };
  assert.deepEqual(catalog.validateInput(send, email), email);
  assert.throws(() => catalog.validateInput(send, {}), /to/);
  assert.throws(() => catalog.validateInput(send, { ...email, raw: 'abc' }), ToolInputError, 'a whole message is not accepted: the executor writes it');
  for (const address of ['ann@customer.com, eve@attacker.example', 'Ann <ann@customer.com>', 'ann@customer.com\r\nBcc: eve@attacker.example', 'ann', '@customer.com']) {
    assert.throws(() => catalog.validateInput(send, { ...email, to: address }), ToolInputError, address);
    assert.throws(() => catalog.validateInput(send, { ...email, bcc: [address] }), ToolInputError, address);
  }
});

test('egress: only the connector hosts, only https, never private, loopback, link-local or metadata addresses', async () => {
  const hosts = ['api.example.com', '*.files.example.com'];
  const refused = (url: string, code: string, opts = {}) =>
    assert.throws(() => checkEgress(new URL(url), [...hosts, new URL(url).host], opts), (e: unknown) => e instanceof EgressError && e.reason === code, url);
  checkEgress(new URL('https://api.example.com/x'), hosts);
  checkEgress(new URL('https://a.files.example.com/x'), hosts);
  assert.throws(() => checkEgress(new URL('https://files.example.com/x'), hosts), { reason: 'host_not_allowed' });
  assert.throws(() => checkEgress(new URL('https://api.example.com.evil.net/x'), hosts), { reason: 'host_not_allowed' });
  assert.throws(() => checkEgress(new URL('https://api.example.com:8443/x'), hosts), { reason: 'host_not_allowed' });
  refused('http://api.example.com/x', 'scheme');
  for (const url of ['https://127.0.0.1/', 'https://2130706433/', 'https://[::1]/', 'https://10.1.2.3/', 'https://192.168.0.10/',
    'https://172.20.0.1/', 'https://[fe80::1]/', 'https://[::ffff:127.0.0.1]/', 'https://[fd12::1]/', 'https://localhost/', 'https://0.0.0.0/']) {
    refused(url, 'private_address');
  }
  refused('https://169.254.169.254/latest/meta-data/', 'metadata');
  refused('https://metadata.google.internal/computeMetadata/v1/', 'metadata');
  // The operator allow-list exempts a host (and permits http to it).
  checkEgress(new URL('http://127.0.0.1:4000/api/notes'), ['127.0.0.1:4000'], { allowPrivateHosts: ['127.0.0.1:4000'] });
  assert.equal(isForbiddenAddress('8.8.8.8'), false);
  assert.equal(isForbiddenAddress('2606:4700::1111'), false);

  // Names that resolve to private addresses are refused before connecting.
  await assert.rejects(resolveEgress(new URL('https://api.example.com/'), hosts, { lookup: async () => [{ address: '10.0.0.5' }] }), { reason: 'private_address' });
  await resolveEgress(new URL('https://api.example.com/'), hosts, { lookup: async () => [{ address: '93.184.215.14' }] });
});

test('a tool whose URL would leave the allowed hosts is refused at build time', async () => {
  const get = await tool('github.issues.get');
  const connector = (await catalog.getConnector('org_1', 'github'))!.definition;
  assert.throws(() => buildRequest(connector, get.definition, { owner: 'a', repo: 'b', issue_number: 1 }, { baseUrl: 'https://evil.example' }), { reason: 'host_not_allowed' });
});

test('credential headers follow the connector auth, and refuse header injection', () => {
  assert.deepEqual(credentialHeaders({ type: 'api_key', header: 'X-Api-Key' }, { type: 'api_key', api_key: 'k1' }), { 'x-api-key': 'k1' });
  assert.deepEqual(credentialHeaders({ type: 'api_key', prefix: 'Token ' }, { type: 'api_key', api_key: 'k1' }), { authorization: 'Token k1' });
  assert.throws(() => credentialHeaders({ type: 'api_key' }, { type: 'api_key', api_key: 'k\r\nX: y' }), TypeError);
});

test('org connectors: registered per org, tools named <name>.<tool>, client secret sealed and never shown', async (t) => {
  const { db, store } = openVaultStore(t, join(tempDir(t), 'v.sqlite'));
  const vault = newVault(store);
  const orgConnectors = new SqliteOrgConnectorStore(db);
  const orgCatalog = new ConnectorCatalog({ vault, orgConnectors, oauthClients: { github: { client_id: 'gh-client', client_secret: 'gh-secret' } } });
  const body = {
    display_name: 'Acme Notes',
    auth: {
      type: 'oauth2', authorization_url: 'https://notes.acme.example/oauth/authorize', token_url: 'https://notes.acme.example/oauth/token',
      revocation_url: 'https://notes.acme.example/oauth/revoke', client_id: 'acme-client', client_secret: 'acme-client-secret-value',
      token_endpoint_auth_method: 'client_secret_basic', scopes: ['notes:write'],
    },
    api_base_url: 'https://api.acme.example/v1',
    tools: { 'notes.create': { description: 'Create a note', method: 'POST', path: '/notes', scopes: ['notes:write'], input_schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] } } },
  };
  const view = await orgCatalog.registerOrgConnector('org_A', 'acme_notes', body);
  assert.deepEqual(view.tools, ['acme_notes.notes.create']);
  assert.equal(view.client_secret_set, true);
  assert.ok(!JSON.stringify(view).includes('acme-client-secret-value'));
  const stored = (await orgConnectors.getOrgConnector('org_A', 'acme_notes'))!;
  assert.ok(!JSON.stringify(stored).includes('acme-client-secret-value'));

  assert.ok(await orgCatalog.getTool('org_A', 'acme_notes.notes.create'));
  assert.equal(await orgCatalog.getTool('org_B', 'acme_notes.notes.create'), undefined, 'another org does not see it');
  assert.ok((await orgCatalog.listTools('org_A')).some((x) => x.name === 'acme_notes.notes.create'));
  assert.ok(!(await orgCatalog.listTools('org_B')).some((x) => x.name === 'acme_notes.notes.create'));

  const provider = (await orgCatalog.oauthProvider('org_A', 'acme_notes'))!;
  assert.equal(provider.client_secret, 'acme-client-secret-value');
  assert.equal(provider.client_id, 'acme-client');
  assert.equal((await orgCatalog.oauthProvider('org_A', 'github'))?.client_id, 'gh-client');
  assert.equal(await orgCatalog.oauthProvider('org_A', 'slack'), undefined, 'no client configured');

  await assert.rejects(orgCatalog.registerOrgConnector('org_A', 'github', body), { code: 'conflict' });
  // A private base URL is valid data, but no request is ever built to it.
  await orgCatalog.registerOrgConnector('org_A', 'intranet', { ...body, api_base_url: 'https://10.0.0.1/v1' });
  const intranet = (await orgCatalog.getTool('org_A', 'intranet.notes.create'))!;
  assert.throws(() => requestFor(intranet, { title: 'x' }, orgCatalog), { reason: 'private_address' });
  await assert.rejects(orgCatalog.registerOrgConnector('org_A', 'bad', { ...body, tools: {} }), (e: { code: string; description: string }) =>
    e.code === 'invalid_request' && /at least one tool/.test(e.description));
});
