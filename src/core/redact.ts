// What a log line or an audit event may not hold. A field is secret by its exact name (after
// `clientSecret`, `Client-Secret` and `CLIENT_SECRET` are read as `client_secret`), never by a
// word inside it: `authorization_details`, `token_type` and `expires_in` say what was granted
// and issued, and the record needs them. Values that look like bearer material are masked in
// every string as a second net.

export const REDACTED = '[redacted]';

/** Field names whose value is a secret, wherever they are nested. */
export const SECRET_FIELDS: ReadonlySet<string> = new Set([
  // HTTP headers that carry credentials
  'authorization', 'proxy_authorization', 'cookie', 'set_cookie', 'dpop', 'x_api_key',
  // OAuth 2.0, OpenID Connect, token exchange, CIBA, device flow
  'access_token', 'refresh_token', 'id_token', 'logout_token', 'token', 'subject_token', 'actor_token',
  'registration_access_token', 'initial_access_token', 'code', 'code_verifier', 'device_code', 'user_code', 'auth_req_id',
  'client_secret', 'assertion', 'client_assertion',
  // people
  'password', 'passwd', 'new_password', 'current_password', 'password_hash',
  // keys and sealed material
  'secret', 'api_key', 'apikey', 'private_key', 'private_jwk', 'master_key', 'data_key', 'key', 'ciphertext', 'credential',
  'credentials', 'sealed_credential', 'sealed_client_secret', 'sealed_connect', 'sealed_key', 'wrapped_key',
  // Writ's own
  'admin_token', 'writ_admin_token', 'writ_master_key', 'csrf', 'csrf_token', 'webhook_secret', 'signing_secret',
]);

/** The field name as the secret list spells it: snake_case, lower case. */
export function fieldName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/-/g, '_').toLowerCase();
}

export function isSecretField(key: string): boolean {
  // Acronyms (`DPoP`) are not camelCase word breaks: try the plain lower-case spelling too.
  return SECRET_FIELDS.has(fieldName(key)) || SECRET_FIELDS.has(key.replace(/-/g, '_').toLowerCase());
}

const SECRET_VALUE = [
  /\b(Bearer|DPoP|Basic)\s+[A-Za-z0-9._~+/=-]+/g, // auth headers
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, // JWS compact
  /\bE[A-Za-z0-9_-]{40,}={0,2}/g, // biscuit base64url blobs start with 'E'
];

// Deeper than any record Writ writes; what lies below is dropped, never written unredacted.
const MAX_DEPTH = 32;

// Where an object's keys are data rather than field names: the argument constraints of an
// RFC 9396 tool_access detail are keyed by the tool's input fields, and a constraint on an input
// named `code` is what was consented, not a code. Their values are still redacted as usual.
type Place = 'detail' | 'constraints' | undefined;

export function redact(value: unknown, depth = 0, place: Place = undefined): unknown {
  if (depth > MAX_DEPTH) return '[depth]';
  if (typeof value === 'string') {
    let out = value;
    for (const re of SECRET_VALUE) out = out.replace(re, REDACTED);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, place === 'detail' ? 'detail' : undefined));
  if (value instanceof Error) {
    const { code, reason } = value as { code?: unknown; reason?: unknown };
    return { name: value.name, message: redact(value.message, depth + 1), code, ...(typeof reason === 'string' ? { reason } : {}) };
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // Flags and counts (`client_secret_set: true`, `code: 400`) say nothing secret.
      const secret = place !== 'constraints' && isSecretField(k) && v !== undefined && v !== null && typeof v !== 'boolean' && typeof v !== 'number';
      const next: Place = k === 'authorization_details' && Array.isArray(v) ? 'detail' : place === 'detail' && k === 'constraints' ? 'constraints' : undefined;
      out[k] = secret ? REDACTED : redact(v, depth + 1, next);
    }
    return out;
  }
  return value;
}

/**
 * The logger's second net (core/log.ts), after pino's path-based redaction of the first
 * `pathDepth` levels: errors as `{ name, message, code, reason }` without stacks, bearer-like
 * material masked in every string, and secret field names censored below the depth the paths
 * reach. Names above it are left to the paths.
 */
export function redactValues(value: unknown, depth = 0, pathDepth = 1): unknown {
  if (depth > MAX_DEPTH) return '[depth]';
  if (typeof value === 'string') {
    let out = value;
    for (const re of SECRET_VALUE) out = out.replace(re, REDACTED);
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => redactValues(v, depth + 1, pathDepth));
  if (value instanceof Error) {
    const { code, reason } = value as { code?: unknown; reason?: unknown };
    return { name: value.name, message: redactValues(value.message, depth + 1, pathDepth), code, ...(typeof reason === 'string' ? { reason } : {}) };
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const secret = depth >= pathDepth && isSecretField(k) && v !== undefined && v !== null && typeof v !== 'boolean' && typeof v !== 'number';
      out[k] = secret ? REDACTED : redactValues(v, depth + 1, pathDepth);
    }
    return out;
  }
  return value;
}
