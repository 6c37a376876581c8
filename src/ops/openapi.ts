// The OpenAPI 3.1 description of every HTTP endpoint Writ serves, as a typed object. Request
// schemas come from the zod schemas that validate them (so the document cannot drift from the
// check); response schemas come from one zod schema per answer's shape, kept beside the route or
// in its room's schemas module, and test/ops checks real answers against them. docs/api.md is
// generated from this object.
//
// The conversion is zod 4's own `z.toJSONSchema`, which writes JSON Schema 2020-12, the dialect
// of OpenAPI 3.1, and names shared shapes through a registry: the paths, tags and security are
// data in this file anyway, so a zod-to-OpenAPI package would add a dependency (and its lag
// behind zod's releases) to do what the platform's converter already does.

import { z } from 'zod';
import { agentKeysBody, auditQuery, checkpointsQuery, createAgentBody, createOrgBody, createOrgGrantBody, createResourceServerBody, createUserBody, dryRunBody, siemStreamBody, updateAgentBody, updateUserBody } from '../admin/schemas.ts';
import { authorizationDetailsSchema } from '../rights/schema.ts';
import { mcpSettingsBody } from '../admin/mcp.ts';
import { createAccountBody } from '../admin/accounts.ts';
import { overlapBody } from '../admin/lifecycle.ts';
import { crossAppBody, identityProviderBody } from '../admin/identity-provider.ts';
import { approvalDecisionBody, approvalListResponse, approvalResponse, approvalSettingsBody, approvalSettingsResponse } from '../approvals/schemas.ts';
import {
  agentListResponse, agentResponse, auditPageResponse, auditEventResponse, auditVerifyResponse, bulkRevokeResponse, checkpointDocumentResponse, checkpointResponse,
  connectedAccountCreatedResponse, connectedAccountListResponse, connectorListResponse, connectorResponse, crossAppResponse, dryRunResponse, errorResponse,
  grantListResponse, grantResponse, identityProviderResponse, keyRotationResponse, mcpSettingsResponse, mcpSettingsSavedResponse, offboardResponse,
  orgListResponse, orgResponse, resourceServerListResponse, resourceServerResponse, scimTokenResponse, siemDeliveryResponse, siemStreamResponse,
  userListResponse, userResponse, vaultRewrapResponse,
} from '../admin/schemas.ts';
import { executeResponse, executorErrorResponse, protectedResourceMetadataResponse, toolListResponse } from '../executor/routes.ts';
import { revocationPageResponse } from '../revocation/routes.ts';

export type JsonSchema = { [key: string]: unknown };

export interface Parameter { name: string; in: 'path' | 'query' | 'header'; required?: boolean; description?: string; schema: JsonSchema }
export interface MediaType { schema: JsonSchema }
export interface Response { description: string; headers?: Record<string, { description: string; schema: JsonSchema }>; content?: Record<string, MediaType> }
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  security?: Array<Record<string, string[]>>;
  parameters?: Parameter[];
  requestBody?: { required: boolean; content: Record<string, MediaType> };
  responses: Record<string, Response>;
}
export type PathItem = Partial<Record<'get' | 'post' | 'put' | 'patch' | 'delete', Operation>>;
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  servers: Array<{ url: string }>;
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, PathItem>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
}

/** zod → JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1), describing what a client sends. */
function fromZod(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ref = (name: ResponseName): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
const str: JsonSchema = { type: 'string' };
const int: JsonSchema = { type: 'integer' };
const obj = (properties: Record<string, JsonSchema>, required: string[] = Object.keys(properties), extra = false): JsonSchema =>
  ({ type: 'object', properties, required, additionalProperties: extra });
const json = (schema: JsonSchema) => ({ 'application/json': { schema } });
const ok = (description: string, shape: ResponseName): Response => ({ description, content: json(ref(shape)) });
const error = (description: string): Response => ({ description, content: json(ref('Error')) });
const noContent: Response = { description: 'Done; no body.' };
const body = (schema: JsonSchema) => ({ required: true, content: json(schema) });
const form = (schema: JsonSchema) => ({ required: true, content: { 'application/x-www-form-urlencoded': { schema } } });
const html = (description: string): Response => ({ description, content: { 'text/html': { schema: str } } });
const pathParam = (name: string, description: string): Parameter => ({ name, in: 'path', required: true, description, schema: str });
const orgParam = pathParam('org', 'The org id (`org_…`).');

/** Query parameters from a strict zod object: one parameter per field. */
function queryParams(schema: z.ZodType): Parameter[] {
  const s = fromZod(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, p]) => ({ name, in: 'query' as const, required: s.required?.includes(name) ?? false, schema: p }));
}

const admin = (operation: Omit<Operation, 'tags' | 'security'>): Operation => ({
  ...operation, tags: ['admin'], security: [{ adminToken: [] }],
  responses: { ...operation.responses, 401: error('Missing or wrong admin token.') },
});

const ADMIN_BAD = { 400: error('The body or query failed validation (`invalid_request`).') };
const ORG_404 = { 404: error('No such org (or record in it).') };
const agentParam = pathParam('client_id', 'Agent id.');
const userParam = pathParam('user_id', 'User id.');

// Answers written by oidc-provider (metadata, keys, the token, introspection, PAR and CIBA
// endpoints) and by the MCP SDK have no zod schema in Writ's code: these name only the fields
// Writ relies on and leave room for the rest.
const text = z.string();
const oauthResponses = {
  AuthorizationServerMetadata: z.looseObject({ issuer: text, token_endpoint: text, jwks_uri: text, revocation_feed_endpoint: text, biscuit_public_keys: z.array(z.unknown()) }),
  OpenIdConfiguration: z.looseObject({ issuer: text, token_endpoint: text }),
  TokenResponse: z.looseObject({
    access_token: text, token_type: text, expires_in: z.int().optional(), refresh_token: text.optional(), id_token: text.optional(), scope: text.optional(),
    issued_token_type: text.optional(), authorization_details: z.array(z.unknown()).optional(),
  }),
  Introspection: z.looseObject({ active: z.boolean() }),
  Jwks: z.object({ keys: z.array(z.looseObject({ kty: text, kid: text.optional() })) }),
  PushedAuthorization: z.object({ request_uri: text, expires_in: z.int() }),
  BackchannelResponse: z.object({ auth_req_id: text, expires_in: z.int(), interval: z.int() }),
  JsonRpcResponse: z.looseObject({}).describe('A JSON-RPC 2.0 response or batch of responses.'),
};

/** The operations room's own answers. */
const opsResponses = {
  Health: z.object({ status: z.literal('ok') }),
  Readiness: z.object({ status: z.enum(['ready', 'not_ready']), checks: z.object({ store: z.enum(['ok', 'unreachable']), keys: z.enum(['ok', 'missing']) }) }),
  OpenApi: z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) }),
};

/** Every response shape by its component name; each path's answer names one of these. */
const RESPONSES = {
  Error: errorResponse,
  ExecutorError: executorErrorResponse,
  AuthorizationDetails: authorizationDetailsSchema,
  Org: orgResponse, OrgList: orgListResponse,
  User: userResponse, UserList: userListResponse,
  Agent: agentResponse, AgentList: agentListResponse,
  Grant: grantResponse, GrantList: grantListResponse, BulkRevoke: bulkRevokeResponse,
  AuditEvent: auditEventResponse, AuditPage: auditPageResponse, AuditVerify: auditVerifyResponse,
  Checkpoint: checkpointResponse, CheckpointDocument: checkpointDocumentResponse,
  SiemStream: siemStreamResponse, SiemDelivery: siemDeliveryResponse,
  ResourceServer: resourceServerResponse, ResourceServerList: resourceServerListResponse,
  DryRun: dryRunResponse, ScimToken: scimTokenResponse, Offboard: offboardResponse,
  ConnectorList: connectorListResponse, Connector: connectorResponse,
  ConnectedAccountCreated: connectedAccountCreatedResponse, ConnectedAccountList: connectedAccountListResponse,
  McpSettings: mcpSettingsResponse, McpSettingsSaved: mcpSettingsSavedResponse,
  IdentityProvider: identityProviderResponse, CrossAppAccess: crossAppResponse,
  VaultRewrap: vaultRewrapResponse, KeyRotation: keyRotationResponse,
  Approval: approvalResponse, ApprovalList: approvalListResponse, ApprovalSettings: approvalSettingsResponse,
  ToolList: toolListResponse, ExecuteResult: executeResponse, ProtectedResourceMetadata: protectedResourceMetadataResponse,
  RevocationPage: revocationPageResponse,
  ...oauthResponses, ...opsResponses,
} satisfies Record<string, z.ZodType>;
type ResponseName = keyof typeof RESPONSES;

/** The zod schema behind each response component, by component name. */
export const responseShapes: Readonly<Record<ResponseName, z.ZodType>> = RESPONSES;

/** `z.int()` says "a safe integer" with ±(2^53 − 1) bounds; the document says "integer". */
function dropSafeIntegerBounds({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.type !== 'integer') return;
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
}

/**
 * The components, converted in one pass through a registry so a shape used inside another
 * (a Grant's AuthorizationDetails, a list's items) becomes a `$ref` to its component. Output
 * mode: what the server sends, so `z.object` admits no other field.
 */
function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(RESPONSES)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { io: 'output', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}`, override: dropSafeIntegerBounds });
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...rest }]) => [id, rest as JsonSchema]));
}

const TOKEN_EXCHANGE_FORM = obj({
  grant_type: { type: 'string', description: '`urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693), `urn:openid:params:grant-type:ciba` (an approved call, with `auth_req_id`), `authorization_code`, `refresh_token` or `client_credentials`.' },
  auth_req_id: { type: 'string', description: 'CIBA: the id `/backchannel` answered.' },
  subject_token: str, subject_token_type: str, actor_token: str, actor_token_type: str,
  requested_token_type: { type: 'string', description: '`urn:ietf:params:oauth:token-type:jwt` or `urn:writ:params:oauth:token-type:biscuit`.' },
  audience: str, resource: str, scope: str,
  authorization_details: { type: 'string', description: 'JSON array of `tool_access` details (RFC 9396).' },
  code: str, code_verifier: str, redirect_uri: str, refresh_token: str,
  client_id: str, client_secret: str, client_assertion: str, client_assertion_type: str,
}, ['grant_type']);

const PATHS: Record<string, PathItem> = {
  '/.well-known/oauth-authorization-server': {
    get: { operationId: 'authorizationServerMetadata', summary: 'RFC 8414 metadata, with `biscuit_public_keys` and `revocation_feed_endpoint`.', tags: ['oauth'],
      responses: { 200: ok('Metadata.', 'AuthorizationServerMetadata') } },
  },
  '/.well-known/openid-configuration': {
    get: { operationId: 'openidConfiguration', summary: 'The same metadata at the OpenID Connect discovery path.', tags: ['oauth'],
      responses: { 200: ok('Metadata.', 'OpenIdConfiguration') } },
  },
  '/authorize': {
    get: { operationId: 'authorize', summary: 'Authorization endpoint (code + PKCE, `authorization_details` of type `tool_access`). Redirects to sign-in and consent.', tags: ['oauth'],
      parameters: ['client_id', 'redirect_uri', 'response_type', 'code_challenge', 'code_challenge_method', 'state', 'scope', 'authorization_details'].map((name) => ({ name, in: 'query' as const, schema: str })),
      responses: { 303: { description: 'To the interaction pages, or back to the client with `code` or `error`.' }, 400: html('Unrecoverable request error (bad client or redirect URI).') } },
  },
  '/token': {
    post: { operationId: 'token', summary: 'Token endpoint: authorization code, refresh, client credentials and RFC 8693 token exchange. Accepts a `DPoP` proof header (RFC 9449).', tags: ['oauth'],
      requestBody: form(TOKEN_EXCHANGE_FORM),
      responses: { 200: ok('Tokens.', 'TokenResponse'), 400: error('RFC 6749 §5.2 / RFC 8693 §2.2.2 error.'), 401: error('`invalid_client`.') } },
  },
  '/introspect': {
    post: { operationId: 'introspect', summary: 'RFC 7662 introspection, for access tokens and capabilities (with `act`, `org_id`, `auth_event_id`).', tags: ['oauth'],
      requestBody: form(obj({ token: str, token_type_hint: str }, ['token'])),
      responses: { 200: ok('Token state.', 'Introspection'), 401: error('`invalid_client`.') } },
  },
  '/revoke': {
    post: { operationId: 'revoke', summary: 'RFC 7009 revocation.', tags: ['oauth'],
      requestBody: form(obj({ token: str, token_type_hint: str }, ['token'])),
      responses: { 200: { description: 'Revoked (or already unknown).' }, 401: error('`invalid_client`.') } },
  },
  '/par': {
    post: { operationId: 'pushedAuthorizationRequest', summary: 'RFC 9126 pushed authorization request: the authorization parameters, sent with client authentication, for a `request_uri` to use at `/authorize`.', tags: ['oauth'],
      requestBody: form(obj({
        client_id: str, redirect_uri: str, response_type: { const: 'code' }, code_challenge: str, code_challenge_method: { const: 'S256' },
        state: str, scope: str, authorization_details: { type: 'string', description: 'JSON: `tool_access` details.' }, resource: str,
      }, ['response_type', 'code_challenge', 'code_challenge_method'], true)),
      responses: { 201: ok('The request is stored.', 'PushedAuthorization'), 400: error('RFC 9126 §2.3 error (`invalid_request`, `invalid_authorization_details`, …).'), 401: error('`invalid_client`.') } },
  },
  '/session/end': {
    get: { operationId: 'endSession', summary: 'OpenID RP-initiated logout: the page that asks whether to sign out of Writ.', tags: ['pages'],
      parameters: ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id'].map((name) => ({ name, in: 'query' as const, schema: str })),
      responses: { 200: html('Sign out, or stay signed in.'), 400: html('A bad hint or redirect URI.') } },
    post: { operationId: 'endSessionConfirm', summary: 'The sign-out decision (CSRF-protected form).', tags: ['pages'],
      requestBody: form(obj({ xsrf: str, logout: str }, ['xsrf'], true)),
      responses: { 200: html('Signed out.'), 303: { description: 'Back to the client\'s post-logout redirect URI.' }, 400: html('A bad or expired form.') } },
  },
  '/jwks': {
    get: { operationId: 'jwks', summary: 'Public signing keys (JWK Set).', tags: ['oauth'], responses: { 200: ok('JWK Set.', 'Jwks') } },
  },
  '/interaction/{uid}': {
    get: { operationId: 'interaction', summary: 'Sign-in or consent page for one authorization request.', tags: ['pages'], parameters: [pathParam('uid', 'Interaction id.')],
      responses: { 200: html('Sign-in or consent page.') } },
  },
  '/interaction/{uid}/login': {
    post: { operationId: 'interactionLogin', summary: 'Sign-in form post (CSRF-protected).', tags: ['pages'], parameters: [pathParam('uid', 'Interaction id.')],
      requestBody: form(obj({ username: str, password: str, csrf: str })),
      responses: { 303: { description: 'Onwards to consent.' }, 401: html('Wrong credentials.') } },
  },
  '/interaction/{uid}/confirm': {
    post: { operationId: 'interactionConfirm', summary: 'Consent form post (CSRF-protected): approve or deny.', tags: ['pages'], parameters: [pathParam('uid', 'Interaction id.')],
      requestBody: form(obj({ decision: { enum: ['approve', 'deny'] }, csrf: str })),
      responses: { 303: { description: 'Back to the authorization endpoint.' } } },
  },
  '/account': {
    get: { operationId: 'account', summary: 'The signed-in user\'s page: their grants, with a revoke button each, and their connected accounts, with a disconnect button each.', tags: ['pages'], responses: { 200: html('The page, or a sign-in form.') } },
  },
  '/account/signin': { post: { operationId: 'accountSignin', summary: 'Sign in to the account page.', tags: ['pages'], requestBody: form(obj({ org: str, username: str, password: str })), responses: { 303: { description: 'To /account.' } } } },
  '/account/grants/{id}/revoke': { post: { operationId: 'accountRevokeGrant', summary: 'Revoke one of the user\'s own grants.', tags: ['pages'], parameters: [pathParam('id', 'Grant id.')], responses: { 303: { description: 'To /account.' } } } },
  '/account/connections/{id}/disconnect': { post: { operationId: 'accountDisconnect', summary: 'Disconnect one of the user\'s own connected accounts (CSRF-protected): the token is revoked at the provider where it can be, and `account.disconnected` is recorded.', tags: ['pages'], parameters: [pathParam('id', 'Connected account id.')], responses: { 303: { description: 'To /account.' } } } },
  '/account/signout': { post: { operationId: 'accountSignout', summary: 'Sign out of the account page.', tags: ['pages'], responses: { 303: { description: 'To /account.' } } } },

  '/v1/revocations': {
    get: { operationId: 'revocationFeed', summary: 'Revocation feed for remote verifiers: grant ids, capability ids and Biscuit revocation ids revoked after `since`.', tags: ['verifiers'],
      parameters: [
        { name: 'since', in: 'query', description: 'Cursor from the previous page (`0` to start).', schema: { type: 'string', pattern: '^\\d{1,15}$' } },
        { name: 'wait', in: 'query', description: 'Long-poll up to this many seconds (0–30) for news.', schema: { type: 'integer', minimum: 0, maximum: 30 } },
      ],
      responses: { 200: ok('One page.', 'RevocationPage'), 304: { description: 'Unchanged (`If-None-Match`).' }, 400: error('Bad cursor.') } },
  },
  '/v1/tools': {
    get: { operationId: 'listTools', summary: 'The executor\'s tools.', tags: ['executor'],
      responses: { 200: ok('Tools; `allowed` says whether the presented capability (optional) covers each.', 'ToolList'), 401: error('A capability was presented and failed verification.') } },
  },
  '/mcp': {
    post: { operationId: 'mcp', summary: 'The executor as an MCP server (Streamable HTTP, JSON-RPC 2.0, stateless): `tools/list` lists what the token\'s grant covers, `tools/call` runs one tool with a capability minted for that call. The token must be issued for exactly this resource (RFC 8707); see docs/mcp.md.', tags: ['executor'],
      requestBody: body({ type: 'object', description: 'A JSON-RPC request, notification or batch.' }),
      responses: { 200: ok('The JSON-RPC response.', 'JsonRpcResponse'), 401: error('No token, or one not issued for this resource; `WWW-Authenticate` names the protected resource metadata (RFC 9728).'), 403: error('`insufficient_scope`: the call needs a tool the grant does not cover; `WWW-Authenticate` names every scope needed.') } },
  },
  '/v1/tools/{tool}/execute': {
    post: { operationId: 'executeTool', summary: 'Run one tool with a capability (`Authorization: Bearer` or `DPoP` + proof). Principal and org come from the token alone.', tags: ['executor'],
      parameters: [pathParam('tool', 'Tool name, e.g. `notion.pages.create`.')],
      security: [{ capability: [] }],
      requestBody: body(obj({ input: { type: 'object' } })),
      responses: {
        200: ok('The tool\'s answer.', 'ExecuteResult'),
        400: ok('`invalid_input`.', 'ExecutorError'), 401: ok('`invalid_token`.', 'ExecutorError'),
        403: ok('`insufficient_scope`, `constraint_failed`.', 'ExecutorError'), 404: ok('`unknown_tool`.', 'ExecutorError'),
        409: ok('`not_connected` (with `connect_url`) or `auth_revoked` (with `reconnect_url`).', 'ExecutorError'),
        429: { description: '`rate_limited`, with `Retry-After`.', headers: { 'retry-after': { description: 'Seconds.', schema: int } }, content: json(ref('ExecutorError')) },
        502: ok('`upstream_error`.', 'ExecutorError'), 504: ok('`upstream_timeout`.', 'ExecutorError'),
      } },
  },
  '/.well-known/oauth-protected-resource': {
    get: { operationId: 'protectedResourceMetadata', summary: 'RFC 9728 metadata of the executor.', tags: ['executor'],
      responses: { 200: ok('Metadata.', 'ProtectedResourceMetadata') } },
  },

  '/.well-known/oauth-protected-resource/executor': {
    get: { operationId: 'protectedResourceMetadataAtPath', summary: 'RFC 9728 §3 metadata at the path derived from the executor\'s resource identifier.', tags: ['executor'],
      responses: { 200: ok('Metadata.', 'ProtectedResourceMetadata') } },
  },
  '/connect': { get: { operationId: 'connections', summary: 'The signed-in user\'s connected accounts (`?org=` before sign-in), with a disconnect button each.', tags: ['pages'], parameters: [{ name: 'org', in: 'query', schema: str }], responses: { 200: html('The page or a sign-in form.'), 400: html('No org named.') } } },
  '/connect/{account_id}/disconnect': { post: { operationId: 'disconnect', summary: 'Disconnect one of the user\'s own accounts (CSRF-protected).', tags: ['pages'], parameters: [pathParam('account_id', 'Account id.')], responses: { 303: { description: 'Back to /connect.' } } } },
  '/connect/new': { get: { operationId: 'connectNew', summary: 'A link to connect a connector for the signed-in user (`org`, `connector` query): a page naming the Writ user and org, changing nothing.', tags: ['pages'], parameters: [{ name: 'org', in: 'query', schema: str }, { name: 'connector', in: 'query', schema: str }], responses: { 200: html('The confirmation page.'), 303: { description: 'To sign in first.' } } } },
  '/connect/new/confirm': { post: { operationId: 'connectNewConfirm', summary: 'Confirm a new connection (CSRF-protected, same-origin only): creates the pending account and starts the provider\'s consent.', tags: ['pages'], requestBody: form(obj({ org: str, connector: str, csrf: str })), responses: { 303: { description: 'To the provider.' } } } },
  '/connect/{account_id}': { get: { operationId: 'connect', summary: 'A connection link: after sign-in as the owner, a page naming the Writ user and org, changing nothing.', tags: ['pages'], parameters: [pathParam('account_id', 'Account id.'), { name: 'org', in: 'query', schema: str }], responses: { 200: html('The confirmation page.'), 303: { description: 'To sign in first.' } } } },
  '/connect/{account_id}/confirm': { post: { operationId: 'connectConfirm', summary: 'Confirm a connection link (CSRF-protected, same-origin only): starts the provider\'s consent in this browser.', tags: ['pages'], parameters: [pathParam('account_id', 'Account id.')], requestBody: form(obj({ org: str, csrf: str })), responses: { 303: { description: 'To the provider.' } } } },
  '/connect/callback': { get: { operationId: 'connectCallback', summary: 'The provider\'s redirect back: the code is exchanged and the tokens go straight into the vault.', tags: ['pages'], parameters: ['code', 'state', 'error'].map((name) => ({ name, in: 'query' as const, schema: str })), responses: { 200: html('Connected.'), 400: html('Not connected.') } } },
  '/console': { get: { operationId: 'console', summary: 'Org admin console: agents, grants, connected accounts.', tags: ['pages'], responses: { 200: html('The console or its sign-in form.') } } },
  '/console/grants/{id}/revoke': { post: { operationId: 'consoleRevokeGrant', summary: 'Revoke a grant from the console.', tags: ['pages'], parameters: [pathParam('id', 'Grant id.')], responses: { 303: { description: 'Back to the console.' } } } },
  '/console/policies': { get: { operationId: 'consolePolicies', summary: 'The policies in force.', tags: ['pages'], responses: { 200: html('Policies.') } } },
  '/console/policies/dry-run': { post: { operationId: 'consoleDryRun', summary: 'A policy dry run from the console.', tags: ['pages'], responses: { 200: html('The explanation.') } } },
  '/console/audit': { get: { operationId: 'consoleAudit', summary: 'The audit log with filters and delegation chains.', tags: ['pages'], responses: { 200: html('Events.') } } },

  '/healthz': { get: { operationId: 'health', summary: 'Liveness: the process answers.', tags: ['operations'], responses: { 200: ok('Alive.', 'Health') } } },
  '/readyz': { get: { operationId: 'ready', summary: 'Readiness: the store answers and signing keys are loaded.', tags: ['operations'], responses: { 200: ok('Ready.', 'Readiness'), 503: ok('Not ready; `checks` says which part.', 'Readiness') } } },
  '/metrics': { get: { operationId: 'metrics', summary: 'Prometheus text exposition; every series is prefixed `writ_`.', tags: ['operations'], responses: { 200: { description: 'Metrics.', content: { 'text/plain': { schema: str } } } } } },
  '/openapi.json': { get: { operationId: 'openapi', summary: 'This document.', tags: ['operations'], responses: { 200: ok('OpenAPI 3.1.', 'OpenApi') } } },

  '/admin/v1/orgs': {
    post: admin({ operationId: 'createOrg', summary: 'Create an org.', requestBody: body(fromZod(createOrgBody)), responses: { 201: ok('The org.', 'Org'), ...ADMIN_BAD } }),
    get: admin({ operationId: 'listOrgs', summary: 'List orgs.', responses: { 200: ok('Orgs.', 'OrgList') } }),
  },
  '/admin/v1/orgs/{org}': {
    get: admin({ operationId: 'getOrg', summary: 'One org.', parameters: [orgParam], responses: { 200: ok('The org.', 'Org'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/users': {
    post: admin({ operationId: 'createUser', summary: 'Add a user (local password sign-in).', parameters: [orgParam], requestBody: body(fromZod(createUserBody)),
      responses: { 201: ok('The user (never the password or its hash).', 'User'), ...ADMIN_BAD, ...ORG_404, 409: error('Username taken in this org.') } }),
    get: admin({ operationId: 'listUsers', summary: 'List users.', parameters: [orgParam], responses: { 200: ok('Users.', 'UserList'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/agents': {
    post: admin({ operationId: 'createAgent', summary: 'Register an agent (OAuth client) with its tool ceiling. The client secret is in this answer only.', parameters: [orgParam], requestBody: body(fromZod(createAgentBody)),
      responses: { 201: ok('The agent.', 'Agent'), ...ADMIN_BAD, ...ORG_404 } }),
    get: admin({ operationId: 'listAgents', summary: 'List agents.', parameters: [orgParam], responses: { 200: ok('Agents.', 'AgentList'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/agents/{client_id}': {
    get: admin({ operationId: 'getAgent', summary: 'One agent (disabled ones too).', parameters: [orgParam, agentParam], responses: { 200: ok('The agent.', 'Agent'), ...ORG_404 } }),
    patch: admin({ operationId: 'updateAgent', summary: 'Change an agent\'s name, redirect URIs or ceiling.', parameters: [orgParam, agentParam], requestBody: body(fromZod(updateAgentBody)), responses: { 200: ok('The agent.', 'Agent'), ...ADMIN_BAD, ...ORG_404 } }),
    delete: admin({ operationId: 'deleteAgent', summary: 'Delete an agent: every grant it held and every capability it holds or that was delegated through it end first.', parameters: [orgParam, agentParam], responses: { 204: noContent, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/agents/{client_id}/disable': {
    post: admin({ operationId: 'disableAgent', summary: 'Disable an agent: no client authentication; its grants and capabilities end.', parameters: [orgParam, agentParam], responses: { 200: ok('The agent.', 'Agent'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/agents/{client_id}/enable': {
    post: admin({ operationId: 'enableAgent', summary: 'Enable a disabled agent again.', parameters: [orgParam, agentParam], responses: { 200: ok('The agent.', 'Agent'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/agents/{client_id}/secret': {
    post: admin({ operationId: 'rotateAgentSecret', summary: 'A new client secret (in this answer only); the old one works for `overlap_seconds` more (default 3600).', parameters: [orgParam, agentParam],
      requestBody: body(fromZod(overlapBody)), responses: { 200: ok('The agent with its new secret.', 'Agent'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/agents/{client_id}/keys': {
    put: admin({ operationId: 'rotateAgentKeys', summary: 'Replace a private_key_jwt agent\'s `jwks` (old keys verify for `overlap_seconds` more) or set its `jwks_uri`.', parameters: [orgParam, agentParam],
      requestBody: body(fromZod(agentKeysBody)), responses: { 200: ok('The agent.', 'Agent'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/users/{user_id}': {
    get: admin({ operationId: 'getUser', summary: 'One user (disabled ones too), with their groups.', parameters: [orgParam, userParam], responses: { 200: ok('The user.', 'User'), ...ORG_404 } }),
    patch: admin({ operationId: 'updateUser', summary: 'Change a user\'s username, email, display name, roles or password.', parameters: [orgParam, userParam], requestBody: body(fromZod(updateUserBody)),
      responses: { 200: ok('The user.', 'User'), ...ADMIN_BAD, ...ORG_404, 409: error('Username taken in this org.') } }),
    delete: admin({ operationId: 'deleteUser', summary: 'Delete a user: sessions, grants with every derived capability, per-user state and connected accounts (revoked upstream) end first; one `user.deleted` event.', parameters: [orgParam, userParam], responses: { 204: noContent, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/users/{user_id}/disable': {
    post: admin({ operationId: 'disableUser', summary: 'Disable a user: no sign-in; everything they hold ends at once; one `user.disabled` event.', parameters: [orgParam, userParam], responses: { 200: ok('The user.', 'User'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/users/{user_id}/enable': {
    post: admin({ operationId: 'enableUser', summary: 'Enable a disabled user again; nothing that ended comes back.', parameters: [orgParam, userParam], responses: { 200: ok('The user.', 'User'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/scim/token': {
    post: admin({ operationId: 'issueScimToken', summary: 'Issue the org\'s SCIM bearer token (in this answer only); the previous one stops working.', parameters: [orgParam],
      responses: { 201: ok('The token.', 'ScimToken'), ...ORG_404 } }),
    delete: admin({ operationId: 'deleteScimToken', summary: 'Remove the org\'s SCIM token.', parameters: [orgParam], responses: { 204: noContent, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/audit/checkpoints': {
    post: admin({ operationId: 'signCheckpoint', summary: 'Sign a checkpoint of the org\'s audit chain now (or return the one covering its head).', parameters: [orgParam],
      responses: { 201: ok('The checkpoint.', 'Checkpoint'), ...ORG_404, 409: error('No events to checkpoint yet.') } }),
    get: admin({ operationId: 'listCheckpoints', summary: 'The org\'s checkpoint keys and checkpoints, oldest first.', parameters: [orgParam, ...queryParams(checkpointsQuery)], responses: { 200: ok('The document.', 'CheckpointDocument'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/audit/stream': {
    put: admin({ operationId: 'putSiemStream', summary: 'Stream the org\'s events as OCSF to its SIEM endpoint (in order, at least once, signed).', parameters: [orgParam], requestBody: body(fromZod(siemStreamBody)),
      responses: { 200: ok('The stream.', 'SiemStream'), ...ADMIN_BAD, ...ORG_404 } }),
    get: admin({ operationId: 'getSiemStream', summary: 'The stream, its cursor and its last failure.', parameters: [orgParam], responses: { 200: ok('The stream.', 'SiemStream'), ...ORG_404 } }),
    delete: admin({ operationId: 'deleteSiemStream', summary: 'Stop streaming.', parameters: [orgParam], responses: { 204: noContent, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/audit/stream/deliver': {
    post: admin({ operationId: 'deliverSiemStream', summary: 'Deliver what is pending now, whatever the backoff.', parameters: [orgParam],
      responses: { 200: ok('What was delivered.', 'SiemDelivery'), ...ORG_404 } }),
  },
  '/v1/audit/{org}/checkpoints': {
    get: { operationId: 'publishedCheckpoints', summary: 'Public: the org\'s signed audit checkpoints and their public keys, for anyone to keep and check an exported log against.', tags: ['audit'], parameters: [orgParam, ...queryParams(checkpointsQuery)],
      responses: { 200: ok('The document.', 'CheckpointDocument'), 400: error('Bad query.'), 404: error('No such org.') } },
  },
  '/admin/v1/orgs/{org}/agents/{client_id}/org-grants': {
    post: admin({ operationId: 'createOrgGrant', summary: 'Authorise an agent for org-level tools (client credentials).', parameters: [orgParam, pathParam('client_id', 'Agent id.')], requestBody: body(fromZod(createOrgGrantBody)),
      responses: { 201: ok('The grant.', 'Grant'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/grants': {
    get: admin({ operationId: 'listGrants', summary: 'Every grant of the org, revoked ones included.', parameters: [orgParam], responses: { 200: ok('Grants.', 'GrantList'), ...ORG_404 } }),
    delete: admin({ operationId: 'bulkRevokeGrants', summary: 'Revoke every grant of a user, of an agent, or (`all=true`) of the org.', parameters: [
      orgParam, { name: 'user_id', in: 'query', schema: str }, { name: 'agent_id', in: 'query', schema: str }, { name: 'all', in: 'query', schema: { enum: ['true'] } },
    ], responses: { 200: ok('Revoked grant ids.', 'BulkRevoke'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/grants/{id}': {
    delete: admin({ operationId: 'revokeGrant', summary: 'Revoke one grant and everything derived from it.', parameters: [orgParam, pathParam('id', 'Grant id.')], responses: { 204: noContent, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/audit': {
    get: admin({ operationId: 'queryAudit', summary: 'Audit events, newest first, filtered; page with `cursor` = `next_cursor`.', parameters: [orgParam, ...queryParams(auditQuery)],
      responses: { 200: ok('One page.', 'AuditPage'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/audit/export': {
    get: admin({ operationId: 'exportAudit', summary: 'Every event oldest first, streamed as JSON lines: Writ\'s own events (`jsonl`) or OCSF API Activity records (`ocsf`).', parameters: [orgParam, { name: 'format', in: 'query', schema: { enum: ['jsonl', 'ocsf'] } }],
      responses: { 200: { description: 'One JSON object per line.', content: { 'application/x-ndjson': { schema: str } } }, ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/offboard': {
    post: admin({ operationId: 'offboardOrg', summary: 'Revoke every grant, remove every agent and crypto-shred the org\'s vault; the org, its users and its audit chain remain.', parameters: [orgParam],
      responses: { 200: ok('What was revoked, removed and shredded.', 'Offboard'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/audit/verify': {
    post: admin({ operationId: 'verifyAudit', summary: 'Walk the org\'s hash chain and report the first broken link.', parameters: [orgParam], responses: { 200: ok('Result.', 'AuditVerify'), ...ORG_404 } }),
  },
  '/backchannel': {
    post: { operationId: 'backchannelAuthentication', summary: 'OpenID CIBA: ask the user to approve one exact call (docs/approvals.md); poll `/token` with `urn:openid:params:grant-type:ciba`.', tags: ['oauth'],
      requestBody: form(obj({
        scope: { type: 'string', description: '`openid`.' }, login_hint_token: { type: 'string', description: 'The user\'s delegated access token.' },
        login_hint: { type: 'string', description: 'The user\'s id or username (a live grant to this agent must cover the call).' },
        authorization_details: { type: 'string', description: 'JSON: one `tool_access` detail, one tool, one resource, every argument as `{ "eq": value }`.' },
        binding_message: str, requested_expiry: int, client_notification_token: { type: 'string', description: 'Ping mode only.' },
      }, ['scope', 'authorization_details'], true)),
      responses: { 200: ok('The request is with the approver.', 'BackchannelResponse'), 400: ok('Refused (`invalid_request`, `invalid_grant`, `invalid_authorization_details`, `access_denied`, …).', 'Error'), 401: error('Client authentication failed.') } },
  },
  '/admin/v1/orgs/{org}/approval-settings': {
    get: admin({ operationId: 'getApprovalSettings', summary: 'The org\'s approval settings: webhook, groups of approvers, agents\' CIBA delivery, approval through the admin API.', parameters: [orgParam], responses: { 200: ok('The settings.', 'ApprovalSettings'), ...ORG_404 } }),
    put: admin({ operationId: 'putApprovalSettings', summary: 'Change the org\'s approval settings (fields left out stay as they are; `webhook_url: null` removes the webhook).', parameters: [orgParam],
      requestBody: body(fromZod(approvalSettingsBody)), responses: { 200: ok('The settings.', 'ApprovalSettings'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/approvals': {
    get: admin({ operationId: 'listApprovals', summary: 'The org\'s approval requests, newest first.', parameters: [orgParam, { name: 'status', in: 'query', schema: { enum: ['pending', 'approved', 'issued', 'denied', 'expired'] } }],
      responses: { 200: ok('Requests.', 'ApprovalList'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/approvals/{id}': {
    get: admin({ operationId: 'getApproval', summary: 'One approval request, with its webhook deliveries.', parameters: [orgParam, pathParam('id', 'Approval id (`apr_…`).')], responses: { 200: ok('The request.', 'Approval'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/approvals/{id}/approve': {
    post: admin({ operationId: 'approveOnBehalf', summary: 'Approve on a user\'s behalf: only where the org allows it, for a user the policy lets approve.', parameters: [orgParam, pathParam('id', 'Approval id.')],
      requestBody: body(fromZod(approvalDecisionBody)), responses: { 200: ok('The request.', 'Approval'), ...ADMIN_BAD, 403: error('Not allowed by the org\'s settings, or not an approver.'), ...ORG_404, 409: error('Already decided or expired.') } }),
  },
  '/admin/v1/orgs/{org}/approvals/{id}/deny': {
    post: admin({ operationId: 'denyOnBehalf', summary: 'Deny on a user\'s behalf, with a reason the agent reads.', parameters: [orgParam, pathParam('id', 'Approval id.')],
      requestBody: body(fromZod(approvalDecisionBody)), responses: { 200: ok('The request.', 'Approval'), ...ADMIN_BAD, 403: error('Not allowed by the org\'s settings, or not an approver.'), ...ORG_404, 409: error('Already decided or expired.') } }),
  },
  '/admin/v1/orgs/{org}/policy/dry-run': {
    post: admin({ operationId: 'policyDryRun', summary: 'Would this agent get these tools? The policy\'s decision with every rule\'s trace, and the agent\'s ceiling.', parameters: [orgParam], requestBody: body(fromZod(dryRunBody)),
      responses: { 200: ok('Explanation.', 'DryRun'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/connectors': {
    get: admin({ operationId: 'listConnectors', summary: 'Connectors available to the org: the shipped catalog and the org\'s own.', parameters: [orgParam],
      responses: { 200: ok('Connectors.', 'ConnectorList'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/connectors/{name}': {
    put: admin({ operationId: 'putConnector', summary: 'Register or replace an org connector (a definition in the connector format; its client secret is sealed in the vault).', parameters: [orgParam, pathParam('name', 'Connector name.')],
      requestBody: body({ type: 'object', description: 'A connector definition (docs/connectors.md).' }),
      responses: { 200: ok('The connector, without secrets, and the redirect URI to register at the provider.', 'Connector'), ...ADMIN_BAD, ...ORG_404 } }),
    delete: admin({ operationId: 'deleteConnector', summary: 'Delete an org connector.', parameters: [orgParam, pathParam('name', 'Connector name.')], responses: { 204: noContent, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/connected-accounts': {
    post: admin({ operationId: 'createConnectedAccount', summary: 'Start a connection for a user or the org: an `authorization_url` for OAuth connectors, or store an API key (write-only).', parameters: [orgParam],
      requestBody: body(fromZod(createAccountBody)),
      responses: { 201: ok('The pending (or, for API keys, active) account.', 'ConnectedAccountCreated'), ...ADMIN_BAD, ...ORG_404 } }),
    get: admin({ operationId: 'listConnectedAccounts', summary: 'Connected accounts: status, scopes, expiry; never a credential.', parameters: [orgParam],
      responses: { 200: ok('Accounts.', 'ConnectedAccountList'), ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/connected-accounts/{id}': {
    delete: admin({ operationId: 'deleteConnectedAccount', summary: 'Disconnect: revoke upstream where the provider supports it, then shred the credential.', parameters: [orgParam, pathParam('id', 'Account id.')], responses: { 204: noContent, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/mcp': {
    get: admin({ operationId: 'getMcpSettings', summary: 'Whether the org accepts external MCP clients (none, any, or listed client ids and hosts) and the ceiling they get.', parameters: [orgParam],
      responses: { 200: ok('The settings.', 'McpSettings'), ...ORG_404 } }),
    put: admin({ operationId: 'putMcpSettings', summary: 'Set whether the org accepts external MCP clients, which ones, and their ceiling; every external client\'s agent in the org takes the new ceiling at once.', parameters: [orgParam],
      requestBody: body(fromZod(mcpSettingsBody)),
      responses: { 200: ok('The settings.', 'McpSettingsSaved'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/identity-provider': {
    get: admin({ operationId: 'getIdentityProvider', summary: 'The org\'s OpenID provider for single sign-on, with the redirect URI to register there (never its client secret or private key).', parameters: [orgParam],
      responses: { 200: ok('The provider.', 'IdentityProvider'), ...ORG_404 } }),
    put: admin({ operationId: 'putIdentityProvider', summary: 'Set or replace the org\'s OpenID provider: issuer, client (secret or private_key_jwt, sealed with the org\'s data key), scopes, claim mappings, admin role values, email domains, whether local passwords remain, max_age for consent, ID-JAG acceptance.', parameters: [orgParam],
      requestBody: body(fromZod(identityProviderBody)), responses: { 200: ok('The provider.', 'IdentityProvider'), ...ADMIN_BAD, ...ORG_404, 409: error('An email domain is another org\'s.') } }),
    delete: admin({ operationId: 'deleteIdentityProvider', summary: 'Remove the org\'s provider and its users\' links to it; local passwords work again.', parameters: [orgParam], responses: { 204: noContent, ...ORG_404 } }),
  },
  '/admin/v1/orgs/{org}/cross-app-access': {
    get: admin({ operationId: 'getCrossAppAccess', summary: 'The authorization servers Writ issues ID-JAGs for, as the identity provider of the org\'s users.', parameters: [orgParam],
      responses: { 200: ok('The targets.', 'CrossAppAccess'), ...ORG_404 } }),
    put: admin({ operationId: 'putCrossAppAccess', summary: 'Replace the org\'s cross-app targets: each audience with the agents\' client ids there, the scopes and resources that may be named, and the ID-JAG\'s life.', parameters: [orgParam],
      requestBody: body(fromZod(crossAppBody)), responses: { 200: ok('The targets.', 'CrossAppAccess'), ...ADMIN_BAD, ...ORG_404 } }),
  },
  '/admin/v1/resource-servers': {
    post: admin({ operationId: 'createResourceServer', summary: 'Register a downstream resource server as a token-exchange audience.', requestBody: body(fromZod(createResourceServerBody)),
      responses: { 201: ok('The resource server.', 'ResourceServer'), ...ADMIN_BAD, 409: error('Identifier taken.') } }),
    get: admin({ operationId: 'listResourceServers', summary: 'Resource servers, the executor first.', responses: { 200: ok('Resource servers.', 'ResourceServerList') } }),
  },
  '/admin/v1/vault/rewrap': {
    post: admin({ operationId: 'rewrapVault', summary: 'After adding a master key version: re-wrap every data key and reseal the signing keys under the current version.', responses: { 200: ok('Progress.', 'VaultRewrap') } }),
  },
  '/admin/v1/keys/rotate': {
    post: admin({ operationId: 'rotateKeys', summary: 'Rotate signing keys; older keys stay published until their tokens expire.', responses: { 200: ok('New key ids.', 'KeyRotation') } }),
  },
};

/** Endpoints added by rooms that are still being built; merged in when they exist. */
/**
 * Operations that authenticate an OAuth client: HTTP Basic (`client_secret_basic`), or the
 * credentials in the form (`client_secret_post`, `private_key_jwt`'s `client_assertion`, a public
 * client's `client_id` alone).
 */
const CLIENT_AUTHENTICATED = new Set(['/token', '/introspect', '/revoke', '/par', '/backchannel']);

/**
 * Every operation says how it is authenticated: the admin token, a capability, the client's
 * credentials, or explicitly nothing (`security: []`: discovery, keys, pages, feeds).
 */
function withSecurity(paths: Record<string, PathItem>): Record<string, PathItem> {
  return Object.fromEntries(Object.entries(paths).map(([path, item]) => [path, Object.fromEntries(Object.entries(item).map(([method, op]) => [
    method, op.security ? op : { ...op, security: CLIENT_AUTHENTICATED.has(path) ? [{ clientBasic: [] }, {}] : [] },
  ]))]));
}

export function openApiDocument(issuer: string, extraPaths: Record<string, PathItem> = {}): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Writ',
      version: '0.1.0',
      description: 'OAuth 2.0 authorization server for AI agents: delegation, RFC 8693 token exchange, capability tokens, a credential vault and an executor.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: issuer }],
    tags: [
      { name: 'oauth', description: 'Standard OAuth 2.0 endpoints, advertised in the metadata.' },
      { name: 'pages', description: 'HTML pages for people: sign-in, consent, the account page.' },
      { name: 'verifiers', description: 'Public endpoints for downstream services that verify capabilities.' },
      { name: 'executor', description: 'Tool execution with a capability.' },
      { name: 'operations', description: 'Health, readiness, metrics and this document.' },
      { name: 'admin', description: 'Operator API, `Authorization: Bearer $WRIT_ADMIN_TOKEN`.' },
    ],
    paths: withSecurity({ ...PATHS, ...extraPaths }),
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        adminToken: { type: 'http', scheme: 'bearer', description: 'WRIT_ADMIN_TOKEN.' },
        capability: { type: 'http', scheme: 'bearer', description: 'A capability token from token exchange; `DPoP` scheme with a proof when sender-bound (RFC 9449).' },
        clientBasic: { type: 'http', scheme: 'basic', description: 'OAuth client authentication, `client_secret_basic`. The alternative `{}` is the client\'s credentials in the form: `client_secret_post`, `private_key_jwt` (`client_assertion`), or a public client\'s `client_id` with PKCE.' },
      },
    },
  };
}
