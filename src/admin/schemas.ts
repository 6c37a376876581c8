import { z } from 'zod';
import { TOOL_NAME } from '../rights/rights.ts';
import { argumentConstraintSchema, authorizationDetailsSchema } from '../rights/schema.ts';

// Strict schemas for every admin body: unknown fields are refused, not ignored, so a
// mass-assignment attempt (`{ "roles": ["admin"], "org_id": … }` where not allowed) fails loudly.

const name = z.string().trim().min(1).max(128);

const redirectUri = z.url().max(2048).refine((value) => {
  // zod 4 runs refinements after a failed url check too: an unparsable value must not throw here.
  if (!URL.canParse(value)) return false;
  const u = new URL(value);
  if (u.hash) return false;
  if (u.protocol === 'https:') return true;
  // RFC 8252 §7.3: plain http only for loopback redirects.
  return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
}, 'redirect URIs must be https (or http on loopback) without a fragment');

export const createOrgBody = z.strictObject({ name });

export const createUserBody = z.strictObject({
  username: z.string().min(1).max(64).regex(/^[A-Za-z0-9._@+-]+$/, 'usernames use letters, digits and . _ @ + -'),
  password: z.string().min(8).max(1024),
  email: z.email().max(254).optional(),
  roles: z.array(z.enum(['member', 'admin'])).max(2).optional(),
});

const publicJwk = z.looseObject({ kty: z.string().max(16) }).refine((k) => !('d' in k) && !('p' in k) && !('k' in k), 'jwks must hold public keys only');

export const createAgentBody = z.strictObject({
  name,
  redirect_uris: z.array(redirectUri).max(16).optional(),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']).optional(),
  jwks: z.strictObject({ keys: z.array(publicJwk).min(1).max(8) }).optional(),
  jwks_uri: z.url().max(2048).refine((v) => URL.canParse(v) && new URL(v).protocol === 'https:', 'jwks_uri must be https').optional(),
  tools: z.array(z.string().max(128).regex(TOOL_NAME, 'tool names look like connector.tool')).min(1).max(128),
}).refine((a) => a.token_endpoint_auth_method !== 'private_key_jwt' || a.jwks || a.jwks_uri, { message: 'private_key_jwt needs jwks or jwks_uri', path: ['jwks'] })
  .refine((a) => !(a.jwks && a.jwks_uri), { message: 'give jwks or jwks_uri, not both', path: ['jwks_uri'] });

export const updateUserBody = z.strictObject({
  username: z.string().min(1).max(64).regex(/^[A-Za-z0-9._@+-]+$/, 'usernames use letters, digits and . _ @ + -').optional(),
  password: z.string().min(8).max(1024).optional(),
  email: z.email().max(254).nullable().optional(),
  display_name: z.string().trim().min(1).max(256).nullable().optional(),
  roles: z.array(z.enum(['member', 'admin'])).min(1).max(2).optional(),
}).refine((b) => Object.keys(b).length > 0, 'name at least one field to change');

export const updateAgentBody = z.strictObject({
  name: name.optional(),
  redirect_uris: z.array(redirectUri).max(16).optional(),
  tools: z.array(z.string().max(128).regex(TOOL_NAME, 'tool names look like connector.tool')).min(1).max(128).optional(),
}).refine((b) => Object.keys(b).length > 0, 'name at least one field to change');

export const agentKeysBody = z.strictObject({
  jwks: z.strictObject({ keys: z.array(publicJwk).min(1).max(8) }).optional(),
  jwks_uri: z.url().max(2048).refine((v) => URL.canParse(v) && new URL(v).protocol === 'https:', 'jwks_uri must be https').optional(),
  overlap_seconds: z.number().int().min(0).max(7 * 86400).optional(),
}).refine((b) => (b.jwks === undefined) !== (b.jwks_uri === undefined), { message: 'give jwks or jwks_uri', path: ['jwks'] });

export const siemStreamBody = z.strictObject({
  url: z.url().max(2048).refine((value) => {
    if (!URL.canParse(value)) return false;
    const u = new URL(value);
    return u.protocol === 'https:' || (u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname));
  }, 'the SIEM endpoint must be https (or http on loopback)'),
  /** Where the stream starts: the beginning of the chain (default) or the events from now on. */
  from: z.enum(['start', 'now']).optional(),
});

export const checkpointsQuery = z.strictObject({
  after_seq: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

export const createOrgGrantBody = z.strictObject({ authorization_details: authorizationDetailsSchema });

export const auditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().regex(/^\d{1,15}$/).optional(),
  type: z.string().max(64).optional(),
  user_id: z.string().max(64).optional(),
  agent_id: z.string().max(64).optional(),
  tool: z.string().max(128).optional(),
  grant_id: z.string().max(64).optional(),
  capability_id: z.string().max(64).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

export const createResourceServerBody = z.strictObject({
  identifier: z.url().max(2048).refine((v) => URL.canParse(v) && !new URL(v).hash, 'resource identifiers have no fragment (RFC 8707 §2)'),
  name,
  org_id: z.string().max(64).optional(),
});

export const dryRunBody = z.strictObject({
  agent_id: z.string().min(1).max(64),
  user_id: z.string().min(1).max(64).optional(),
  tools: z.array(z.string().max(128).regex(TOOL_NAME)).min(1).max(64),
  resources: z.array(z.string().min(1).max(512)).max(64).optional(),
  audience: z.string().max(2048).optional(),
  /** The constraints the capability would carry on the tools' input; approval rules' `when` is judged against them. */
  arguments: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/), argumentConstraintSchema).optional(),
});

export const bulkRevokeQuery = z.strictObject({
  user_id: z.string().min(1).max(64).optional(),
  agent_id: z.string().min(1).max(64).optional(),
  all: z.enum(['true']).transform(() => true).optional(),
});

export const exportQuery = z.strictObject({ format: z.enum(['jsonl', 'ocsf']).default('jsonl') });

// What the admin API answers, one schema per shape: the OpenAPI document's response schemas are
// converted from these (src/ops/openapi.ts), and test/ops/openapi.test.ts holds real answers to
// them. `z.object` says no other field is sent; `z.looseObject` leaves room for more.

const text = z.string();
const anyObject = z.record(z.string(), z.unknown());

export const errorResponse = z.looseObject({
  error: z.string().describe('RFC-style error code.'),
  error_description: text.optional(),
});
export const orgResponse = z.object({ id: text, name: text, created_at: text });
export const userResponse = z.object({
  id: text, org_id: text.optional(), username: text, email: text.optional(), roles: z.array(z.enum(['member', 'admin'])), created_at: text,
  display_name: text.optional(), external_id: text.optional(), updated_at: text.optional(),
  disabled_at: text.optional().describe('Present while the user is disabled.'),
  local_password: z.boolean().optional().describe('Whether the user has a local password (SCIM-provisioned users may not).'),
  groups: z.array(z.object({ id: text, display_name: text })).optional(),
});
export const agentResponse = z.object({
  client_id: text, org_id: text, name: text, redirect_uris: z.array(text),
  kind: z.enum(['agent', 'mcp_client']).optional().describe('`mcp_client`: an external MCP client, an agent of the org since a person\'s first consent (docs/mcp.md).'),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']),
  jwks: anyObject.optional(), tools: z.array(text), created_at: text,
  client_secret: text.optional().describe('Shown once, at creation or rotation.'),
  jwks_uri: text.optional(), updated_at: text.optional(),
  disabled_at: text.optional().describe('Present while the agent is disabled.'),
  previous_secret_expires_at: text.optional().describe('Until when the rotated-out secret still authenticates.'),
  previous_jwks: anyObject.optional().describe('Rotated-out public keys and `expires_at`, until when they still verify.'),
});
export const grantResponse = z.object({
  id: text, user_id: text.optional(), agent_id: text, authorization_details: authorizationDetailsSchema,
  created_at: text, expires_at: text.optional(), revoked_at: text.optional(),
});
export const auditEventResponse = z.object({
  id: text, org_id: text, seq: z.int(), at: text, type: text,
  actor: anyObject, subject: anyObject, details: anyObject, prev_hash: text, hash: text,
});
export const auditVerifyResponse = z.object({
  ok: z.boolean(), events_checked: z.int(),
  first_broken: z.object({ seq: z.int(), id: text, reason: z.enum(['hash_mismatch', 'broken_link', 'sequence_gap']) }).optional(),
});
export const checkpointResponse = z.object({
  org_id: text, seq: z.int(), head_hash: text, at: text, kid: text,
  signature: text.describe('Ed25519 over the canonical JSON of the other fields, base64url.'),
});
export const checkpointDocumentResponse = z.object({ org_id: text, keys: z.object({ keys: z.array(anyObject) }), checkpoints: z.array(checkpointResponse) });
export const siemStreamResponse = z.object({
  org_id: text, url: text, cursor: z.int(), failures: z.int(), next_attempt_at: z.int(),
  last_error: text.optional(), last_delivered_at: text.optional(), created_at: text, updated_at: text,
});
export const resourceServerResponse = z.object({ identifier: text, name: text, org_id: text.optional(), created_at: text.optional(), builtin: z.boolean().optional() });
export const dryRunResponse = z.object({
  decision: z.looseObject({ effect: z.enum(['allow', 'deny']), reasons: z.array(text), policy_version: text, matched_rules: z.array(text), constraints: anyObject }),
  rules: z.array(anyObject),
  ceiling: z.object({ ok: z.boolean(), outside: z.array(text) }),
});
export const orgListResponse = z.object({ orgs: z.array(orgResponse) });
export const userListResponse = z.object({ users: z.array(userResponse) });
export const agentListResponse = z.object({ agents: z.array(agentResponse) });
export const grantListResponse = z.object({ grants: z.array(grantResponse) });
export const bulkRevokeResponse = z.object({ revoked: z.array(text) });
export const auditPageResponse = z.object({ events: z.array(auditEventResponse), next_cursor: text.nullable() });
export const resourceServerListResponse = z.object({ resource_servers: z.array(resourceServerResponse) });
export const scimTokenResponse = z.object({ token: text, created_at: text });
export const siemDeliveryResponse = z.object({ org_id: text, delivered: z.int(), cursor: z.int(), error: text.optional() });
export const offboardResponse = z.object({ grants_revoked: z.int(), agents_removed: z.int(), accounts_shredded: z.int() });
export const connectorListResponse = z.object({ connectors: z.array(z.looseObject({ name: text, origin: z.enum(['catalog', 'org']), tools: z.array(text).optional() })) });
export const connectorResponse = z.looseObject({ name: text, redirect_uri: text });
export const connectedAccountCreatedResponse = z.object({ id: text, status: text, authorization_url: text.optional(), api_key_hint: text.optional() });
export const connectedAccountListResponse = z.object({
  connected_accounts: z.array(z.object({
    id: text, connector: text, owner: anyObject, status: text, scopes: z.array(text).optional(), expires_at: text.optional(), updated_at: text.optional(), api_key_hint: text.optional(),
  })),
});
export const mcpSettingsResponse = z.object({ accept: text, clients: z.array(text), tools: z.array(text), updated_at: text.optional() });
export const identityProviderResponse = z.looseObject({
  org_id: text, issuer: text, client_id: text, token_endpoint_auth_method: text.optional(), client_secret_set: z.boolean().optional(), redirect_uri: text,
  scopes: z.array(text).optional(), domains: z.array(text).optional(), local_passwords: z.boolean().optional(), accept_id_jag: z.boolean().optional(),
});
export const crossAppResponse = z.looseObject({
  org_id: text,
  targets: z.array(z.object({ audience: text, clients: anyObject, scopes: z.array(text).optional(), resources: z.array(text).optional(), ttl: z.int().optional() })),
});
export const vaultRewrapResponse = z.looseObject({ data_keys: anyObject, signing_keys: z.unknown().optional() });
export const keyRotationResponse = z.object({ kids: z.array(text) });
export const mcpSettingsSavedResponse = mcpSettingsResponse.extend({ updated_at: text });
