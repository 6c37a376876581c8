// Every object a resource id is read through is closed: a sibling key could otherwise name one
// resource to the capability check and another to the provider.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CatalogLoadError, ConnectorCatalog, loadShippedDefinitions } from '../../src/connectors/catalog.ts';
import { resourceFor, ToolInputError } from '../../src/connectors/request.ts';
import { resourcePaths } from '../../src/connectors/resource-path.ts';
import { describeIssues, orgConnectorRegistrationSchema } from '../../src/connectors/schema.ts';
import { SqliteOrgConnectorStore } from '../../src/storage/sqlite/org-connectors.ts';
import { newVault, openVaultStore, tempDir } from '../vault/helpers.ts';
import { sampleInput, smuggledInputs } from '../support/tool-inputs.ts';

const catalogDir = new URL('../../src/connectors/catalog/', import.meta.url);
const shipped = loadShippedDefinitions({ demoProviderUrl: 'http://127.0.0.1:4000' });
const catalog = new ConnectorCatalog({ demoProviderUrl: 'http://127.0.0.1:4000' });
const withPaths = shipped.flatMap((d) => Object.entries(d.tools)
  .filter(([, t]) => resourcePaths(t.resource).length > 0)
  .map(([key, t]) => ({ name: `${d.name}.${key}`, tool: t })));

test('the shipped catalog has tools whose resource is read from the input, nested ones among them', () => {
  assert.ok(withPaths.length >= 10, `${withPaths.length} tools`);
  const nested = withPaths.filter(({ tool }) => resourcePaths(tool.resource).some((p) => p.length > 1)).map((x) => x.name).sort();
  assert.deepEqual(nested, ['linear.issues.create', 'notion.pages.create']);
});

// Read from the JSON Schema itself, not through the schema module's check, so that removing the
// check from one shipped file or from the loader is seen here.
test('every object on every shipped resource path is closed and requires the next key', () => {
  for (const { name, tool } of withPaths) {
    for (const path of resourcePaths(tool.resource)) {
      let node: any = tool.input_schema;
      for (const key of path) {
        assert.equal(node.type, 'object', `${name}: ${path.join('.')}`);
        assert.equal(node.additionalProperties, false, `${name}: the object holding "${key}" on ${path.join('.')} is not closed`);
        assert.ok(node.required.includes(key), `${name}: "${key}" on ${path.join('.')} is not required`);
        for (const keyword of ['anyOf', 'oneOf', 'allOf', 'patternProperties', 'unevaluatedProperties', 'not', 'if', '$ref']) {
          assert.ok(!(keyword in node), `${name}: ${keyword} on ${path.join('.')}`);
        }
        node = node.properties[key];
      }
    }
  }
});

test('a smuggled sibling at every level of every shipped resource path is refused by input validation', async () => {
  let cases = 0;
  for (const { name, tool } of withPaths) {
    const catalogTool = (await catalog.getTool('org_1', name))!;
    const clean = sampleInput(tool.input_schema);
    assert.doesNotThrow(() => catalog.validateInput(catalogTool, clean), `${name}: the sample input is valid`);
    assert.ok(resourceFor(tool, clean), name);
    for (const { at, key, input } of smuggledInputs(tool.input_schema, tool.resource!)) {
      cases++;
      assert.throws(() => catalog.validateInput(catalogTool, input), (err: unknown) => err instanceof ToolInputError,
        `${name}: "${key}" beside ${at.length ? at.join('.') : 'the input'} was accepted`);
    }
  }
  assert.ok(cases >= withPaths.length * 2, `${cases} cases`);
});

test('Notion pages.create: a database_id beside the approved page_id is refused', async () => {
  const create = (await catalog.getTool('org_1', 'notion.pages.create'))!;
  const input = { parent: { page_id: 'approved', database_id: 'other' }, properties: {} };
  assert.throws(() => catalog.validateInput(create, input), /database_id/);
});

const readShipped = (file: string) => JSON.parse(readFileSync(new URL(file, catalogDir), 'utf8')) as Record<string, any>;

test('a shipped definition with an open object on a resource path stops the catalog loading', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-catalog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const notion = readShipped('notion.json');
  delete notion.tools['pages.create'].input_schema.properties.parent.additionalProperties;
  writeFileSync(join(dir, 'notion.json'), JSON.stringify(notion));
  assert.throws(() => loadShippedDefinitions({ catalogDir: pathToFileURL(dir + '/') }), (err: unknown) =>
    err instanceof CatalogLoadError && /notion\.json/.test(err.message)
    && /tools\.pages\.create\.input_schema\.properties\.parent: "parent" is on the resource path, so it must set additionalProperties: false/.test(err.message));
});

const orgTool = (input_schema: Record<string, unknown>, resource = 'acme:folder:{parent.folder_id}') => ({
  display_name: 'Acme Docs',
  auth: { type: 'api_key' },
  api_base_url: 'https://api.acme.example/v1',
  tools: { 'docs.create': { description: 'Create a doc', method: 'POST', path: '/docs', input_schema, body: 'input', resource } },
});
const closedParent = { type: 'object', properties: { folder_id: { type: 'string' } }, required: ['folder_id'], additionalProperties: false };
const closedInput = (parent: Record<string, unknown>) => ({ type: 'object', properties: { parent, title: { type: 'string' } }, required: ['parent'], additionalProperties: false });

test('an org connector must close every object on its resource paths', () => {
  assert.equal(orgConnectorRegistrationSchema.safeParse(orgTool(closedInput(closedParent))).success, true);
  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['open nested object', closedInput({ ...closedParent, additionalProperties: undefined }), /properties\.parent: "parent" is on the resource path, so it must set additionalProperties: false/],
    ['additionalProperties: true', closedInput({ ...closedParent, additionalProperties: true }), /must set additionalProperties: false/],
    ['open input', { ...closedInput(closedParent), additionalProperties: undefined }, /input_schema: the input is on the resource path/],
    ['patternProperties', closedInput({ ...closedParent, patternProperties: { '^db': { type: 'string' } } }), /may not use patternProperties/],
    ['anyOf alternatives', closedInput({ ...closedParent, anyOf: [{ required: ['folder_id'] }, { required: ['database_id'] }] }), /may not use anyOf/],
    ['optional resource key', closedInput({ ...closedParent, properties: { folder_id: { type: 'string' }, database_id: { type: 'string' } }, required: [] }), /"parent\.folder_id" names the resource, so it must be required/],
    ['parent of no object type', closedInput({ type: 'string' }), /must be an object schema/],
  ];
  for (const [name, schema, expected] of refused) {
    const result = orgConnectorRegistrationSchema.safeParse(orgTool(JSON.parse(JSON.stringify(schema))));
    assert.equal(result.success, false, name);
    assert.match(describeIssues(result.error!), expected, name);
  }
});

test('an org connector stored before the check is closed when read, not refused', async (t) => {
  const { db, store } = openVaultStore(t, join(tempDir(t), 'v.sqlite'));
  const orgConnectors = new SqliteOrgConnectorStore(db);
  const orgCatalog = new ConnectorCatalog({ vault: newVault(store), orgConnectors });
  await orgCatalog.registerOrgConnector('org_A', 'acme_docs', orgTool(closedInput(closedParent)));
  // As an older release stored it: nothing closed, the resource key optional.
  const record = (await orgConnectors.getOrgConnector('org_A', 'acme_docs'))!;
  const open = structuredClone(record.definition) as any;
  delete open.tools['docs.create'].input_schema.additionalProperties;
  delete open.tools['docs.create'].input_schema.properties.parent.additionalProperties;
  open.tools['docs.create'].input_schema.properties.parent.required = [];
  await orgConnectors.putOrgConnector('org_A', { ...record, definition: open, updated_at: new Date(Date.now() + 1000).toISOString() });

  const tool = (await orgCatalog.getTool('org_A', 'acme_docs.docs.create'))!;
  assert.doesNotThrow(() => orgCatalog.validateInput(tool, { parent: { folder_id: 'f1' }, title: 'x' }));
  for (const input of [{ parent: { folder_id: 'f1', database_id: 'd2' } }, { parent: { folder_id: 'f1' }, folder_id: 'f2' }, { parent: {} }]) {
    assert.throws(() => orgCatalog.validateInput(tool, input), ToolInputError, JSON.stringify(input));
  }
});
