// The served OpenAPI document against the real server: every admin and revocation route is
// documented, and real responses from a full run conform to the documented response schemas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminRoutes } from '../../src/admin/routes.ts';
import { mcpAdminRoutes } from '../../src/admin/mcp.ts';
import { revocationRoutes } from '../../src/revocation/routes.ts';
import { accountAdminRoutes } from '../../src/admin/accounts.ts';
import { executorRoutes } from '../../src/executor/routes.ts';
import { connectRoutes } from '../../src/connect/routes.ts';
import { lifecycleAdminRoutes } from '../../src/admin/lifecycle.ts';
import { approvalAdminRoutes } from '../../src/approvals/admin.ts';
import { evidenceAdminRoutes } from '../../src/admin/evidence.ts';
import { checkpointRoutes } from '../../src/audit/routes.ts';
import { identityProviderAdminRoutes } from '../../src/admin/identity-provider.ts';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, BISCUIT } from '../support/exchange.ts';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { openApiDocument, responseShapes } from '../../src/ops/openapi.ts';

// OpenAPI 3.1 schemas are JSON Schema 2020-12: ajv validates the answers against them, each with
// the document's components beside it so its local $refs resolve. Formats are annotations here.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
function validateJson(doc: object, schema: Record<string, unknown>, value: unknown): string[] {
  const validate = ajv.compile({ ...schema, components: (doc as { components?: unknown }).components });
  return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}

type Doc = { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> }>> };

/** `/orgs/:org/agents/:client_id` → `/orgs/{org}/agents/{client_id}` */
const template = (path: string) => path.replace(/:([A-Za-z_]+)/g, '{$1}');

function routesOf(router: { stack: Array<{ path: string; methods: string[] }> }): string[] {
  return router.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((m) => `${m.toLowerCase()} ${template(layer.path)}`));
}

test('every admin, executor, connect and revocation-feed route is in the OpenAPI document', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const doc = (await (await fetch(`${writ.issuer}/openapi.json`)).json()) as Doc;
  assert.equal(doc.openapi, '3.1.0');
  const documented = new Set(Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m} ${path}`)));
  // Building the routers only registers routes; none of the dependencies is called.
  const served = [
    ...routesOf(adminRoutes({} as never) as never), ...routesOf(revocationRoutes({} as never) as never),
    ...routesOf(accountAdminRoutes({} as never) as never), ...routesOf(connectRoutes({} as never) as never),
    ...routesOf(lifecycleAdminRoutes({} as never) as never), ...routesOf(mcpAdminRoutes({} as never) as never), ...routesOf(approvalAdminRoutes({} as never) as never), ...routesOf(evidenceAdminRoutes({} as never) as never), ...routesOf(checkpointRoutes({} as never, {} as never) as never), ...routesOf(identityProviderAdminRoutes({} as never) as never),
    ...routesOf(executorRoutes({ issuer: writ.issuer, executorResource: writ.executorResource } as never) as never),
  ];
  assert.ok(served.length > 15, 'the router stacks were read');
  const missing = served.filter((r) => !documented.has(r));
  assert.deepEqual(missing, [], 'served but undocumented');
});

test('real responses match the documented response schemas', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const doc = (await (await fetch(`${writ.issuer}/openapi.json`)).json()) as Doc & Record<string, unknown>;
  const checked: string[] = [];

  /** Calls one endpoint and validates the JSON answer against `doc.paths[path][method].responses[status]`. */
  async function check(method: string, path: string, url: string, init: RequestInit = {}): Promise<any> {
    const res = await fetch(new URL(url, writ.issuer), { method: method.toUpperCase(), ...init });
    const operation = doc.paths[path]?.[method];
    assert.ok(operation, `${method} ${path} is documented`);
    const documented = operation.responses[String(res.status)];
    assert.ok(documented, `${method} ${path} answered ${res.status}, which is not documented`);
    const text = await res.text();
    const schema = documented.content?.['application/json']?.schema;
    if (schema) {
      const body = JSON.parse(text);
      assert.deepEqual(validateJson(doc, schema, body), [], `${method} ${path} ${res.status}`);
      checked.push(`${method} ${path} ${res.status}`);
      return body;
    }
    checked.push(`${method} ${path} ${res.status}`);
    return text;
  }
  const asAdmin = (body?: unknown): RequestInit => ({
    headers: { authorization: `Bearer ${writ.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

  await check('get', '/healthz', '/healthz');
  await check('get', '/readyz', '/readyz');
  await check('get', '/openapi.json', '/openapi.json');
  await check('get', '/jwks', '/jwks');
  await check('get', '/.well-known/oauth-authorization-server', '/.well-known/oauth-authorization-server');
  await check('get', '/.well-known/openid-configuration', '/.well-known/openid-configuration');
  await check('get', '/v1/revocations', '/v1/revocations?since=0');
  await check('get', '/v1/revocations', '/v1/revocations?since=abc');

  await check('get', '/admin/v1/orgs', '/admin/v1/orgs');
  await check('post', '/admin/v1/orgs', '/admin/v1/orgs', asAdmin({ name: 'Docs Inc', extra: true }));
  const org = await check('post', '/admin/v1/orgs', '/admin/v1/orgs', asAdmin({ name: 'Docs Inc' }));
  await check('get', '/admin/v1/orgs', '/admin/v1/orgs', asAdmin());
  await check('get', '/admin/v1/orgs/{org}', `/admin/v1/orgs/${org.id}`, asAdmin());
  await check('get', '/admin/v1/orgs/{org}', '/admin/v1/orgs/org_nope', asAdmin());
  await check('post', '/admin/v1/orgs/{org}/users', `/admin/v1/orgs/${org.id}/users`, asAdmin({ username: 'ann', password: 'long enough pass', email: 'ann@example.com' }));
  await check('post', '/admin/v1/orgs/{org}/users', `/admin/v1/orgs/${org.id}/users`, asAdmin({ username: 'ann', password: 'long enough pass' }));
  await check('get', '/admin/v1/orgs/{org}/users', `/admin/v1/orgs/${org.id}/users`, asAdmin());
  const agent = await check('post', '/admin/v1/orgs/{org}/agents', `/admin/v1/orgs/${org.id}/agents`, asAdmin({ name: 'Bot', tools: ['demo.notes.get'] }));
  await check('get', '/admin/v1/orgs/{org}/agents', `/admin/v1/orgs/${org.id}/agents`, asAdmin());
  await check('get', '/admin/v1/orgs/{org}/agents/{client_id}', `/admin/v1/orgs/${org.id}/agents/${agent.client_id}`, asAdmin());
  const grant = await check('post', '/admin/v1/orgs/{org}/agents/{client_id}/org-grants', `/admin/v1/orgs/${org.id}/agents/${agent.client_id}/org-grants`,
    asAdmin({ authorization_details: [{ type: 'tool_access', tools: ['demo.notes.get'] }] }));
  await check('post', '/admin/v1/orgs/{org}/policy/dry-run', `/admin/v1/orgs/${org.id}/policy/dry-run`, asAdmin({ agent_id: agent.client_id, tools: ['demo.notes.get'] }));
  await check('get', '/admin/v1/orgs/{org}/approval-settings', `/admin/v1/orgs/${org.id}/approval-settings`, asAdmin());
  await check('put', '/admin/v1/orgs/{org}/approval-settings', `/admin/v1/orgs/${org.id}/approval-settings`, asAdmin({ allow_admin_api_approval: true }));
  await check('get', '/admin/v1/orgs/{org}/approvals', `/admin/v1/orgs/${org.id}/approvals?status=pending`, asAdmin());
  await check('post', '/admin/v1/orgs/{org}/approvals/{id}/approve', `/admin/v1/orgs/${org.id}/approvals/apr_missing/approve`, asAdmin({ on_behalf_of: 'usr_missing' }));
  await check('post', '/admin/v1/resource-servers', '/admin/v1/resource-servers', asAdmin({ identifier: 'https://billing.example/api', name: 'Billing' }));
  await check('get', '/admin/v1/resource-servers', '/admin/v1/resource-servers', asAdmin());

  // A full delegation and both capability formats, so the token endpoint and the grant records are real.
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const basic = { authorization: `Basic ${Buffer.from(`${seeded.agent.client_id}:${seeded.agent.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' };
  const form = (fields: Record<string, string>) => ({ headers: basic, body: new URLSearchParams(fields).toString() });
  const token = await check('post', '/token', '/token', form({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN,
    authorization_details: details(['demo.notes.create']),
  }));
  await check('post', '/token', '/token', form({
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN,
    requested_token_type: BISCUIT, authorization_details: details(['demo.notes.create']),
  }));
  await check('post', '/token', '/token', form({ grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 'nope', subject_token_type: ACCESS_TOKEN }));
  await check('post', '/introspect', '/introspect', form({ token: token.access_token }));
  await check('post', '/introspect', '/introspect', form({ token: 'not-a-token' }));
  const pkce = { client_id: seeded.agent.client_id, response_type: 'code', redirect_uri: seeded.redirect_uri, code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' };
  await check('post', '/par', '/par', form({ ...pkce, authorization_details: details(['demo.notes.create']) }));
  await check('post', '/par', '/par', form({ ...pkce, code_challenge_method: 'plain' }));
  await check('post', '/backchannel', '/backchannel', form({ scope: 'openid', login_hint: seeded.user.id, authorization_details: '[]' }));
  assert.equal((await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['notion.pages.create']) })).status, 400);

  await check('get', '/admin/v1/orgs/{org}/grants', `/admin/v1/orgs/${seeded.org.id}/grants`, asAdmin());
  await check('get', '/admin/v1/orgs/{org}/audit', `/admin/v1/orgs/${seeded.org.id}/audit?limit=5`, asAdmin());
  await check('get', '/admin/v1/orgs/{org}/audit', `/admin/v1/orgs/${seeded.org.id}/audit?limit=0`, asAdmin());
  await check('post', '/admin/v1/orgs/{org}/audit/verify', `/admin/v1/orgs/${seeded.org.id}/audit/verify`, asAdmin());
  await check('delete', '/admin/v1/orgs/{org}/grants/{id}', `/admin/v1/orgs/${org.id}/grants/${grant.id}`, asAdmin());
  await check('delete', '/admin/v1/orgs/{org}/grants', `/admin/v1/orgs/${seeded.org.id}/grants?user_id=${seeded.user.id}`, asAdmin());
  await check('get', '/v1/revocations', '/v1/revocations?since=0');
  await check('delete', '/admin/v1/orgs/{org}/agents/{client_id}', `/admin/v1/orgs/${org.id}/agents/${agent.client_id}`, asAdmin());
  await check('get', '/v1/tools', '/v1/tools');
  await check('get', '/v1/tools', '/v1/tools', { headers: { authorization: 'Bearer not-a-capability' } });
  await check('post', '/v1/tools/{tool}/execute', '/v1/tools/demo.notes.create/execute', { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input: {} }) });
  await check('get', '/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource');
  await check('get', '/.well-known/oauth-protected-resource/executor', `/.well-known/oauth-protected-resource${new URL(writ.executorResource).pathname}`);
  await check('get', '/admin/v1/orgs/{org}/connectors', `/admin/v1/orgs/${seeded.org.id}/connectors`, asAdmin());
  const account = await check('post', '/admin/v1/orgs/{org}/connected-accounts', `/admin/v1/orgs/${seeded.org.id}/connected-accounts`, asAdmin({ connector: 'github', user_id: seeded.user.id }));
  await check('post', '/admin/v1/orgs/{org}/connected-accounts', `/admin/v1/orgs/${seeded.org.id}/connected-accounts`, asAdmin({ connector: 'github' }));
  await check('get', '/admin/v1/orgs/{org}/connected-accounts', `/admin/v1/orgs/${seeded.org.id}/connected-accounts`, asAdmin());
  await check('delete', '/admin/v1/orgs/{org}/connected-accounts/{id}', `/admin/v1/orgs/${seeded.org.id}/connected-accounts/${account.id}`, asAdmin());
  // The lifecycle, evidence, settings and operator answers.
  const uid = seeded.user.id;
  const aid = seeded.agent.client_id;
  const orgPath = `/admin/v1/orgs/${seeded.org.id}`;
  await check('get', '/admin/v1/orgs/{org}/users/{user_id}', `${orgPath}/users/${uid}`, asAdmin());
  await check('patch', '/admin/v1/orgs/{org}/users/{user_id}', `${orgPath}/users/${uid}`, asAdmin({ display_name: 'Ann Docs' }));
  await check('post', '/admin/v1/orgs/{org}/users/{user_id}/disable', `${orgPath}/users/${uid}/disable`, asAdmin());
  await check('post', '/admin/v1/orgs/{org}/users/{user_id}/enable', `${orgPath}/users/${uid}/enable`, asAdmin());
  await check('patch', '/admin/v1/orgs/{org}/agents/{client_id}', `${orgPath}/agents/${aid}`, asAdmin({ name: 'Docs bot' }));
  await check('post', '/admin/v1/orgs/{org}/agents/{client_id}/secret', `${orgPath}/agents/${aid}/secret`, asAdmin({}));
  await check('post', '/admin/v1/orgs/{org}/agents/{client_id}/disable', `${orgPath}/agents/${aid}/disable`, asAdmin());
  await check('post', '/admin/v1/orgs/{org}/agents/{client_id}/enable', `${orgPath}/agents/${aid}/enable`, asAdmin());
  await check('post', '/admin/v1/orgs/{org}/scim/token', `${orgPath}/scim/token`, asAdmin());
  await check('post', '/admin/v1/orgs/{org}/audit/checkpoints', `${orgPath}/audit/checkpoints`, asAdmin());
  await check('get', '/admin/v1/orgs/{org}/audit/checkpoints', `${orgPath}/audit/checkpoints`, asAdmin());
  await check('get', '/v1/audit/{org}/checkpoints', `/v1/audit/${seeded.org.id}/checkpoints`);
  await check('put', '/admin/v1/orgs/{org}/audit/stream', `${orgPath}/audit/stream`, asAdmin({ url: 'https://siem.example/ingest' }));
  await check('get', '/admin/v1/orgs/{org}/audit/stream', `${orgPath}/audit/stream`, asAdmin());
  await check('get', '/admin/v1/orgs/{org}/mcp', `${orgPath}/mcp`, asAdmin());
  await check('put', '/admin/v1/orgs/{org}/mcp', `${orgPath}/mcp`, asAdmin({ accept: 'any', tools: ['demo.notes.get'] }));
  await check('get', '/admin/v1/orgs/{org}/identity-provider', `${orgPath}/identity-provider`, asAdmin());
  await check('put', '/admin/v1/orgs/{org}/cross-app-access', `${orgPath}/cross-app-access`, asAdmin({ targets: [{ audience: 'https://as.partner.example', clients: { [aid]: 'partner-client' } }] }));
  await check('get', '/admin/v1/orgs/{org}/cross-app-access', `${orgPath}/cross-app-access`, asAdmin());
  await check('get', '/admin/v1/orgs/{org}/approvals/{id}', `${orgPath}/approvals/apr_missing`, asAdmin());
  await check('post', '/admin/v1/vault/rewrap', '/admin/v1/vault/rewrap', asAdmin());
  await check('post', '/admin/v1/orgs/{org}/offboard', `/admin/v1/orgs/${org.id}/offboard`, asAdmin());
  await check('post', '/admin/v1/keys/rotate', '/admin/v1/keys/rotate', asAdmin());
  await check('post', '/admin/v1/keys/rotate', '/admin/v1/keys/rotate', {});

  assert.ok(checked.length >= 72, `checked ${checked.length} responses`);
  t.diagnostic(`${checked.length} answers validated: ${new Set(checked.map((c) => c.split(' ').slice(0, 2).join(' '))).size} operations`);
});

test('every JSON answer in the document names a component, and every component is converted from a zod schema', () => {
  const doc = openApiDocument('https://writ.example');
  const components = Object.keys(doc.components.schemas);
  assert.deepEqual([...components].sort(), Object.keys(responseShapes).sort(), 'the components are exactly the zod response shapes');
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      for (const [status, response] of Object.entries(operation!.responses)) {
        const schema = response.content?.['application/json']?.schema;
        if (!schema) continue;
        const name = /^#\/components\/schemas\/(\w+)$/.exec(String(schema.$ref))?.[1];
        assert.ok(name && components.includes(name) && Object.keys(schema).length === 1, `${method} ${path} ${status}: ${JSON.stringify(schema)}`);
      }
    }
  }
});

test('the validator refuses what the documented schema does not allow', () => {
  const root = { components: { schemas: { Org: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], additionalProperties: false } } } };
  const schema = { type: 'object', properties: { orgs: { type: 'array', items: { $ref: '#/components/schemas/Org' } } }, required: ['orgs'] };
  assert.deepEqual(validateJson(root, schema, { orgs: [{ id: 'org_1' }] }), []);
  assert.deepEqual(validateJson(root, schema, { orgs: [{ id: 1 }] }), ['/orgs/0/id must be string {"type":"string"}']);
  assert.deepEqual(validateJson(root, schema, { orgs: [{ id: 'a', secret: 'x' }] }), ['/orgs/0 must NOT have additional properties {"additionalProperty":"secret"}']);
  assert.deepEqual(validateJson(root, schema, {}), ['(root) must have required property \'orgs\' {"missingProperty":"orgs"}']);
});

test('the document passes Redocly\'s recommended rules with no error', async () => {
  const config = await createConfig({ extends: ['recommended'] });
  const problems = await lintFromString({ source: JSON.stringify(openApiDocument('https://writ.example')), absoluteRef: '/openapi.json', config });
  const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
  assert.deepEqual(errors, []);
  // Nor these warnings: a required property the schema does not define, no licence, no security.
  const warnings = problems.filter((p) => p.ruleId === 'no-required-schema-properties-undefined' || p.ruleId === 'info-license' || p.ruleId === 'security-defined');
  assert.deepEqual(warnings.map((p) => p.message), []);
});
