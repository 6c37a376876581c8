import { z } from 'zod';

// What an org admin sends to configure single sign-on and cross-app access: strict schemas,
// unknown fields refused. Used by the admin API, the console and (through the API) the CLI.

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/** https, or http on loopback (development and tests); no query, no fragment. */
export const issuerUrl = z.url().max(2048).refine((value) => {
  if (!URL.canParse(value)) return false;
  const u = new URL(value);
  if (u.hash || u.search || u.username || u.password) return false;
  return u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.includes(u.hostname));
}, 'issuers are https URLs (http only on loopback) without query, fragment or credentials');

const claimName = z.string().min(1).max(128).regex(/^[A-Za-z0-9_:.\/-]+$/, 'claim names use letters, digits and _ : . / -');
const domain = z.string().trim().toLowerCase().max(253).regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a domain such as xcorp.example');

const privateJwk = z.looseObject({ kty: z.enum(['EC', 'OKP', 'RSA']), d: z.string().min(1) });

export const identityProviderBody = z.strictObject({
  issuer: issuerUrl,
  client_id: z.string().min(1).max(256),
  token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt']).default('client_secret_basic'),
  client_secret: z.string().min(1).max(1024).optional(),
  /** For private_key_jwt: the private JWK Writ signs its client assertions with (sealed at rest). */
  private_key_jwk: privateJwk.optional(),
  scopes: z.array(z.string().min(1).max(128).regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/)).max(32).default(['openid', 'email', 'profile']),
  claims: z.strictObject({
    username: claimName.default('preferred_username'),
    email: claimName.default('email'),
    display_name: claimName.default('name'),
    roles: claimName.default('groups'),
  }).default({ username: 'preferred_username', email: 'email', display_name: 'name', roles: 'groups' }),
  admin_values: z.array(z.string().min(1).max(256)).max(32).default([]),
  domains: z.array(domain).max(64).default([]),
  local_passwords: z.boolean().default(true),
  sensitive_max_age: z.int().min(0).max(86_400).default(300),
  accept_id_jag: z.boolean().default(false),
})
  .refine((b) => b.scopes.includes('openid'), { message: 'scopes must include openid', path: ['scopes'] })
  .refine((b) => b.token_endpoint_auth_method !== 'private_key_jwt' || b.private_key_jwk, { message: 'private_key_jwt needs private_key_jwk', path: ['private_key_jwk'] })
  .refine((b) => b.token_endpoint_auth_method === 'private_key_jwt' || b.client_secret, { message: 'client_secret_* needs client_secret', path: ['client_secret'] })
  .refine((b) => !(b.client_secret && b.private_key_jwk), { message: 'give either client_secret or private_key_jwk', path: ['private_key_jwk'] });

export type IdentityProviderBody = z.infer<typeof identityProviderBody>;

const scopeToken = z.string().min(1).max(128).regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/);

export const crossAppBody = z.strictObject({
  targets: z.array(z.strictObject({
    audience: issuerUrl,
    clients: z.record(z.string().min(1).max(64), z.string().min(1).max(256)).refine((c) => Object.keys(c).length > 0 && Object.keys(c).length <= 256, 'name at least one agent'),
    scopes: z.array(scopeToken).max(64).default([]),
    resources: z.array(z.url().max(2048)).max(32).default([]),
    ttl: z.int().min(30).max(600).default(300),
  })).max(32),
}).refine((b) => new Set(b.targets.map((t) => t.audience)).size === b.targets.length, { message: 'each audience once', path: ['targets'] });

export type CrossAppBody = z.infer<typeof crossAppBody>;
