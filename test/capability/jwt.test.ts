import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { fixedClock } from '../../src/core/clock.ts';
import { decideAccess } from '../../src/capability/access.ts';
import { generateJwtKey, parseJwtKey, serializeJwtKey, importPublicJwk } from '../../src/capability/keys.ts';
import { mintJwtCapability, verifyJwtCapability, type JwtVerifyOptions } from '../../src/capability/jwt.ts';
import { CapabilityError } from '../../src/capability/errors.ts';
import { AUDIENCE, ISSUER, NOW, claims } from './fixtures.ts';

const key = generateJwtKey('k1');
const options = (over: Partial<JwtVerifyOptions> = {}): JwtVerifyOptions => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  keys: (kid) => (kid === 'k1' ? key.publicKey : undefined),
  clock: fixedClock(NOW * 1000 + 10_000),
  ...over,
});
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const rejects = (token: string, code: string, over?: Partial<JwtVerifyOptions>) =>
  assert.rejects(verifyJwtCapability(token, options(over)), (e: unknown) => e instanceof CapabilityError && e.code === code);

test('a minted capability verifies and keeps every claim', async () => {
  const token = mintJwtCapability(claims({ cnf: { jkt: 'thumb' }, single_use: true }), key);
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString());
  assert.deepEqual(header, { alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' });
  assert.deepEqual(await verifyJwtCapability(token, options()), claims({ cnf: { jkt: 'thumb' }, single_use: true }));
});

test('Ed25519 signing is deterministic, so the same claims give the same token', async () => {
  assert.equal(mintJwtCapability(claims(), key), mintJwtCapability(claims(), key));
});

test('alg none, HS256 with the public key as secret, and tampering are refused', async () => {
  const token = mintJwtCapability(claims(), key);
  const [, payload, signature] = token.split('.');
  await rejects(`${b64({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${payload}.`, 'invalid_token');
  await rejects(`${b64({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${payload}.${signature}`, 'invalid_token');
  const hsInput = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })}.${payload}`;
  const secret = key.publicKey.export({ format: 'der', type: 'spki' });
  await rejects(`${hsInput}.${createHmac('sha256', secret).update(hsInput).digest('base64url')}`, 'invalid_token');
  const widened = b64({ ...claims(), authorization_details: [{ type: 'tool_access', tools: ['github.repos.delete'] }] });
  await rejects(`${token.split('.')[0]}.${widened}.${signature}`, 'invalid_token');
});

test('header rules: typ, crit, unknown kid, embedded keys refused', async () => {
  const payload = b64(claims());
  const signWith = (header: Record<string, unknown>) => {
    const input = `${b64(header)}.${payload}`;
    const other = generateJwtKey('k1');
    return { input, other };
  };
  // A token signed by another key that carries its own jwk/jku is refused: keys come from the issuer only.
  const { other } = signWith({});
  const foreign = mintJwtCapability(claims(), other);
  await rejects(foreign, 'invalid_token');
  const withJwk = (() => {
    const [h, p, s] = foreign.split('.');
    const header = { ...JSON.parse(Buffer.from(h!, 'base64url').toString()), jwk: other.publicJwk, jku: 'https://evil.test/jwks' };
    return `${b64(header)}.${p}.${s}`;
  })();
  await rejects(withJwk, 'invalid_token');
  await rejects(mintJwtCapability(claims(), generateJwtKey('k9')), 'invalid_token');
  const token = mintJwtCapability(claims(), key);
  const [, p, s] = token.split('.');
  await rejects(`${b64({ alg: 'EdDSA', typ: 'JWT', kid: 'k1' })}.${p}.${s}`, 'invalid_token');
  await rejects(`${b64({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1', crit: ['exp'] })}.${p}.${s}`, 'invalid_token');
});

test('malformed encodings are refused before any crypto', async () => {
  const token = mintJwtCapability(claims(), key);
  for (const bad of ['', 'a.b', 'a.b.c.d', `${token}=`, token.replace('.', '.+'), `${token.split('.')[0]}..${token.split('.')[2]}`, `W10.${token.split('.')[1]}.${token.split('.')[2]}`]) {
    await rejects(bad, 'invalid_token');
  }
});

test('time, issuer and audience', async () => {
  const token = mintJwtCapability(claims(), key);
  await rejects(token, 'expired', { clock: fixedClock((NOW + 300) * 1000) });
  assert.ok(await verifyJwtCapability(token, options({ clock: fixedClock((NOW + 300) * 1000), clockToleranceSec: 5 })));
  await rejects(token, 'invalid_token', { clock: fixedClock((NOW - 60) * 1000) }); // issued in the future
  await rejects(token, 'invalid_token', { audience: 'https://other.test' });
  await rejects(token, 'invalid_token', { issuer: 'https://evil.test' });
  await rejects(mintJwtCapability({ ...claims(), nbf: NOW + 100 } as never, key), 'invalid_token');
});

test('rights: tool, resource pattern and argument constraints', async () => {
  const details = claims().authorization_details;
  decideAccess(details, { tool: 'gmail.messages.send', resource: 'gmail:mailbox:me', input: { to: 'a@customer.com' } });
  decideAccess(details, { tool: 'notion.pages.read', resource: 'notion:page:1' });
  decideAccess(details, { tool: 'notion.pages.read' });
  const code = (fn: () => void) => { try { fn(); return 'allowed'; } catch (e) { return (e as CapabilityError).code; } };
  assert.equal(code(() => decideAccess(details, { tool: 'gmail.messages.send', resource: 'gmail:mailbox:me', input: { to: 'a@evil.com' } })), 'constraint_failed');
  assert.equal(code(() => decideAccess(details, { tool: 'gmail.messages.send', resource: 'gmail:mailbox:me' })), 'constraint_failed');
  assert.equal(code(() => decideAccess(details, { tool: 'gmail.messages.send', resource: 'slack:x', input: { to: 'a@customer.com' } })), 'insufficient_scope');
  assert.equal(code(() => decideAccess(details, { tool: 'gmail.messages.send', input: { to: 'a@customer.com' } })), 'insufficient_scope');
  assert.equal(code(() => decideAccess(details, { tool: 'github.repos.delete' })), 'insufficient_scope');
  assert.throws(() => decideAccess(details, { tool: 'notion.pages.read', resource: 'notion:*' }), TypeError);
});

test('keys serialise to strings and back; JWKS import takes only public Ed25519 keys', async () => {
  const restored = parseJwtKey(serializeJwtKey(key));
  assert.equal(restored.kid, 'k1');
  assert.deepEqual(restored.publicJwk, key.publicJwk);
  assert.ok(await verifyJwtCapability(mintJwtCapability(claims(), restored), options()));
  assert.equal(importPublicJwk(key.publicJwk)?.kid, 'k1');
  assert.equal(importPublicJwk({ ...key.publicJwk, d: 'x' }), undefined);
  assert.equal(importPublicJwk({ ...key.publicJwk, kty: 'oct', k: 'abc' }), undefined);
  assert.equal(importPublicJwk(createPublicKey(key.privateKey).export({ format: 'jwk' })), undefined); // no kid
});
