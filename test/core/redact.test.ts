// Redaction by field name, never by a word inside one: every secret-bearing field is masked
// wherever it is nested; a field that merely contains "authorization", "token" or "secret" and
// says what was granted or issued is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isSecretField, redact, REDACTED, SECRET_FIELDS } from '../../src/core/redact.ts';

const RUNS = Number(process.env.WRIT_PROPERTY_RUNS ?? 200);

// Spelt as the wire, the code and the environment spell them.
const SECRET_KEYS = [
  'access_token', 'refresh_token', 'id_token', 'client_secret', 'password', 'authorization', 'Authorization', 'code',
  'subject_token', 'actor_token', 'assertion', 'client_assertion', 'dpop', 'DPoP', 'code_verifier', 'cookie', 'api_key',
  'x-api-key', 'accessToken', 'refreshToken', 'clientSecret', 'WRIT_ADMIN_TOKEN', 'WRIT_MASTER_KEY', 'private_key', 'token',
  'device_code', 'user_code', 'sealed_credential', 'csrf',
];
const KEPT_KEYS = [
  'authorization_details', 'authorization_details_types_supported', 'token_type', 'issued_token_type', 'requested_token_type',
  'subject_token_type', 'actor_token_type', 'expires_in', 'token_endpoint_auth_method', 'secret_name', 'client_secret_expires_at',
  'authorization_endpoint', 'token_endpoint', 'code_challenge_method', 'password_changed_at', 'keys', 'kid', 'error_code', 'tools',
  'resources', 'constraints', 'grant_id', 'capability_id', 'dpop_bound', 'tokens_revoked',
];

test('the secret list holds the fields that carry credentials, and none of their look-alikes', () => {
  for (const key of SECRET_KEYS) assert.ok(isSecretField(key), key);
  for (const key of KEPT_KEYS) assert.ok(!isSecretField(key), key);
  for (const key of SECRET_FIELDS) assert.equal(key, key.toLowerCase(), 'the list is spelt in snake case');
});

// Plain words: no value pattern (Bearer, JWS, Biscuit) can match them, so only a key rule could change them.
const word = fc.stringMatching(/^[a-z][a-z0-9 :._-]{0,23}$/);
const plainKey = fc.stringMatching(/^[a-z][a-z_]{0,15}$/).filter((k) => !isSecretField(k));
const plainValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, word, fc.integer(), fc.boolean(), fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(plainKey, tie('value'), { maxKeys: 3 })),
})).value;
const segment = fc.oneof(plainKey, fc.constantFrom(...KEPT_KEYS), fc.nat({ max: 2 }));

function setAt(root: Record<string, unknown>, path: Array<string | number>, key: string, value: unknown): Record<string, unknown> {
  let node: any = root;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(node.items)) node.items = [];
      while (node.items.length <= step) node.items.push({});
      node = node.items[step];
    } else {
      if (typeof node[step] !== 'object' || node[step] === null || Array.isArray(node[step])) node[step] = {};
      node = node[step];
    }
  }
  node[key] = value;
  return root;
}

function getAt(root: any, path: Array<string | number>, key: string): unknown {
  let node = root;
  for (const step of path) node = typeof step === 'number' ? node.items[step] : node[step];
  return node[key];
}

test('every secret-bearing field is redacted wherever it is nested, whatever it holds', () => {
  const secretValue = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_-]{8,40}$/).map((s) => `s3cr3t-${s}`),
    fc.record({ value: fc.stringMatching(/^[a-z0-9]{8,20}$/).map((s) => `s3cr3t-${s}`) }),
    fc.array(fc.stringMatching(/^[a-z0-9]{8,20}$/).map((s) => `s3cr3t-${s}`), { minLength: 1, maxLength: 3 }),
  );
  fc.assert(fc.property(plainValue, fc.array(segment, { maxLength: 5 }), fc.constantFrom(...SECRET_KEYS), secretValue, (base, path, key, value) => {
    const record = setAt({ around: base }, ['around', ...path], key, value);
    const out = redact(record) as Record<string, unknown>;
    assert.equal(getAt(out, ['around', ...path], key), REDACTED);
    assert.ok(!JSON.stringify(out).includes('s3cr3t-'), 'no part of the secret is left');
  }), { numRuns: RUNS });
});

test('a field that only contains "authorization", "token" or "secret" is kept as it is, wherever it is nested', () => {
  fc.assert(fc.property(plainValue, fc.array(segment, { maxLength: 5 }), fc.constantFrom(...KEPT_KEYS), plainValue, (base, path, key, value) => {
    const record = setAt({ around: base }, ['around', ...path], key, value);
    assert.equal(JSON.stringify(redact(record)), JSON.stringify(record));
  }), { numRuns: RUNS });
});

test('what a grant and a capability record survives: tools, resources, constraints, token types', () => {
  const details = [{ type: 'tool_access', tools: ['notion.pages.create'], resources: ['notion:page:8a1f'], constraints: { amount: { max: 5000 } }, expires_at: '2026-12-01T00:00:00.000Z' }];
  const event = { details: { authorization_details: details, token_type: 'Bearer', expires_in: 300, token_endpoint_auth_method: 'client_secret_basic' } };
  assert.deepEqual(redact(event), event);
  const request = { headers: { authorization: 'Bearer abc.def', dpop: 'eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.sig' }, form: { subject_token: 'opaque-token-value', code: 'auth-code-value', client_secret: 'shh' } };
  assert.deepEqual(redact(request), { headers: { authorization: REDACTED, dpop: REDACTED }, form: { subject_token: REDACTED, code: REDACTED, client_secret: REDACTED } });
  // Constraints are keyed by the tool's input fields: a field named like a secret is still data.
  const constrained = { authorization_details: [{ type: 'tool_access', tools: ['acme.codes.apply'], constraints: { code: { starts_with: 'FR-' }, token: { eq: 'promo' } } }] };
  assert.deepEqual(redact(constrained), constrained);
  assert.deepEqual(redact({ constraints: { code: 'abcdefgh' } }), { constraints: { code: REDACTED } }, 'only inside a tool_access detail');
  // Flags and counts next to a secret's name are not the secret.
  assert.deepEqual(redact({ client_secret_set: true, code: 400, token: null }), { client_secret_set: true, code: 400, token: null });
});
