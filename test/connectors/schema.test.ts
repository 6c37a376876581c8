import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { TOOL_NAME } from '../../src/rights/rights.ts';
import { CatalogLoadError, loadShippedDefinitions } from '../../src/connectors/catalog.ts';
import { connectorDefinitionSchema, describeIssues, orgConnectorRegistrationSchema } from '../../src/connectors/schema.ts';

const catalogDir = new URL('../../src/connectors/catalog/', import.meta.url);
const shippedFiles = readdirSync(catalogDir).filter((f) => f.endsWith('.json'));
const read = (file: string) => JSON.parse(readFileSync(new URL(file, catalogDir), 'utf8')) as Record<string, any>;

test('every shipped definition validates, and every tool name is a valid capability tool name', () => {
  const defs = loadShippedDefinitions({ demoProviderUrl: 'http://127.0.0.1:4000' });
  assert.deepEqual(defs.map((d) => d.name).sort(), ['demo', 'github', 'gmail', 'google_calendar', 'hubspot', 'linear', 'notion', 'slack']);
  for (const d of defs) {
    assert.ok(d.allowed_hosts.includes(new URL(d.api_base_url).host), d.name);
    for (const key of Object.keys(d.tools)) assert.match(`${d.name}.${key}`, TOOL_NAME);
  }
  const demo = defs.find((d) => d.name === 'demo')!;
  assert.equal(demo.auth.type === 'oauth2' && demo.auth.token_url, 'http://127.0.0.1:4000/token');
  assert.equal(demo.api_base_url, 'http://127.0.0.1:4000/api');
});

const brokenCases: Array<[string, (d: Record<string, any>) => void, RegExp]> = [
  ['unknown top-level field', (d) => { d.extra = true; }, /extra|Unrecognized/i],
  ['http token URL', (d) => { d.auth.token_url = 'http://oauth2.googleapis.com/token'; }, /auth\.token_url: must be an https URL/],
  ['path placeholder not in input', (d) => { d.tools['messages.get'].path = '/users/me/messages/{nope}'; }, /placeholder \{nope\}/],
  ['optional path placeholder', (d) => { d.tools['messages.get'].input_schema.required = []; }, /placeholder \{id\} must name a required/],
  ['tool scope not among auth scopes', (d) => { d.tools['messages.send'].scopes = ['https://mail.google.com/']; }, /not among auth\.scopes/],
  ['GET with a body', (d) => { d.tools['messages.list'].body = 'input'; }, /GET tools send no body/],
  ['uppercase tool key', (d) => { d.tools['Messages.Send'] = d.tools['messages.send']; }, /tools\.Messages\.Send: tool keys are dotted lowercase/],
  ['dot-dot path segment', (d) => { d.tools['messages.send'].path = '/users/../admin'; }, /no \. or \.\. segments/],
  ['reserved header', (d) => { d.default_headers = { Authorization: 'Bearer x' }; }, /may not set this header/],
  ['allowed_hosts without the API host', (d) => { d.allowed_hosts = ['evil.example']; }, /must include the api_base_url host/],
  ['required field missing from properties', (d) => { d.tools['messages.send'].input_schema.required.push('ghost'); }, /"ghost" is not in properties/],
  ['input schema not an object', (d) => { d.tools['messages.send'].input_schema.type = 'array'; }, /input_schema\.type/],
];

for (const [name, mutate, expected] of brokenCases) {
  test(`a broken definition is rejected with a clear error: ${name}`, () => {
    const d = read('gmail.json');
    mutate(d);
    const result = connectorDefinitionSchema().safeParse(d);
    assert.equal(result.success, false);
    assert.match(describeIssues(result.error!), expected);
  });
}

test('a broken shipped file stops the catalog loading, naming the file and the field', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-catalog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const d = read('slack.json');
  delete d.auth.token_url;
  writeFileSync(join(dir, 'slack.json'), JSON.stringify(d));
  assert.throws(() => loadShippedDefinitions({ catalogDir: pathToFileURL(dir + '/') }), (err: unknown) =>
    err instanceof CatalogLoadError && /slack\.json/.test(err.message) && /auth\.token_url/.test(err.message));
});

test('property: the schema never throws on arbitrary input, and a rejection always says what is wrong', () => {
  const schema = connectorDefinitionSchema();
  const base = read('github.json');
  // Arbitrary JSON, and the real definition with one field replaced by arbitrary JSON.
  const mutated = fc.tuple(fc.constantFrom(...pathsOf(base)), fc.jsonValue()).map(([path, value]) => setAt(structuredClone(base), path, value));
  fc.assert(fc.property(fc.oneof(fc.jsonValue(), mutated), (value) => {
    const result = schema.safeParse(value);
    if (!result.success) {
      const text = describeIssues(result.error);
      // Every issue names where it is (or the root, when the value is not an object) and what is wrong.
      for (const issue of result.error.issues) {
        assert.ok(issue.message.length > 0 && !/^Invalid key in record$/.test(issue.message), text);
        assert.ok(issue.path.length > 0 || issue.code === 'unrecognized_keys' || value === null || typeof value !== 'object' || Array.isArray(value), text);
      }
    }
  }), { numRuns: 400 });
});

test('the org registration body is validated by the same schema family', () => {
  const body = {
    display_name: 'Acme Notes',
    auth: {
      type: 'oauth2', authorization_url: 'https://notes.acme.example/oauth/authorize', token_url: 'https://notes.acme.example/oauth/token',
      revocation_url: 'https://notes.acme.example/oauth/revoke', client_id: 'acme-client', client_secret: 's3cret',
      token_endpoint_auth_method: 'client_secret_basic', scopes: ['notes:write'],
    },
    api_base_url: 'https://api.acme.example/v1',
    tools: { 'notes.create': { description: 'Create a note', method: 'POST', path: '/notes', scopes: ['notes:write'], input_schema: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] } } },
  };
  assert.equal(orgConnectorRegistrationSchema.safeParse(body).success, true);
  const httpApi = orgConnectorRegistrationSchema.safeParse({ ...body, api_base_url: 'http://api.acme.example/v1' });
  assert.match(describeIssues(httpApi.error!), /api_base_url: must be an https URL/);
  const noClient = orgConnectorRegistrationSchema.safeParse({ ...body, auth: { ...body.auth, client_id: undefined } });
  assert.match(describeIssues(noClient.error!), /auth\.client_id/);
});

function pathsOf(value: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) { out.push([...prefix, k]); pathsOf(v, [...prefix, k], out); }
  }
  return out;
}

function setAt(root: any, path: string[], value: unknown): unknown {
  let node = root;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]!] = value;
  return root;
}
