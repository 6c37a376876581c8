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
