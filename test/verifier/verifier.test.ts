import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, generateKeyPairSync, sign, randomUUID, type KeyObject } from 'node:crypto';
import { Biscuit, BlockBuilder, PublicKey, SignatureAlgorithm } from '@biscuit-auth/biscuit-wasm';
import { fixedClock } from '../../src/core/clock.ts';
import type { CapabilityClaims } from '../../src/capability/claims.ts';
import { generateBiscuitRootKey, generateJwtKey } from '../../src/capability/keys.ts';
import { mintJwtCapability } from '../../src/capability/jwt.ts';
import { mintBiscuitCapability } from '../../src/capability/index.ts';
import { createVerifier, jwkThumbprint, VerifierError, type Verifier } from '../../src/verifier/index.ts';
import { startIssuer } from './issuer.ts';
import { waitFor } from '../support/wait.ts';

const NOW = Math.floor(Date.now() / 1000);
const AUDIENCE = 'https://mail.example/api';
const clock = fixedClock(NOW * 1000 + 5_000);
const jwtKey = generateJwtKey('k1');
const rootKey = generateBiscuitRootKey(1);
let issuer: Awaited<ReturnType<typeof startIssuer>>;
let verifier: Verifier;

const claims = (over: Partial<CapabilityClaims> = {}): CapabilityClaims => ({
  iss: issuer.issuer,
  aud: AUDIENCE,
  sub: 'usr_ann',
  principal: 'user',
  org_id: 'org_x',
  client_id: 'agt_mailer',
  act: { sub: 'agt_mailer', act: { sub: 'agt_boss' } },
  authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send'], resources: ['gmail:mailbox:*'], constraints: { to: { ends_with: '@customer.com' } } }],
  scope: 'tool:gmail.messages.send',
  auth_event_id: `grt_${randomUUID()}`,
  jti: `cap_${randomUUID()}`,
  iat: NOW,
  exp: NOW + 300,
  ...over,
});
const jwt = (over?: Partial<CapabilityClaims>) => mintJwtCapability(claims(over), jwtKey);
const biscuit = (over?: Partial<CapabilityClaims>) => mintBiscuitCapability(claims(over), rootKey);
const send = { tool: 'gmail.messages.send', resource: 'gmail:mailbox:ann', input: { to: 'bob@customer.com', subject: 'hi' } };

async function codeOf(token: string, request: Parameters<Verifier['verify']>[1] = send, v: Verifier = verifier): Promise<string> {
  try {
    await v.verify(token, request);
    return 'allowed';
  } catch (error) {
    assert.ok(error instanceof VerifierError, `expected a VerifierError, got ${String(error)}`);
    if (token.length > 40) assert.ok(!error.message.includes(token.slice(10, 40)), 'no token material in messages');
    return error.code;
  }
}

before(async () => {
  issuer = await startIssuer({ jwt: [jwtKey], biscuit: [rootKey] });
  verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, clock, feed: { wait: 5 }, keyRefreshIntervalSec: 0 });
});
after(async () => {
  verifier.close();
  await issuer.close();
});

test('JWT and Biscuit capabilities verify with only the published keys', async () => {
  const c = claims();
  for (const [format, token] of [['jwt', mintJwtCapability(c, jwtKey)], ['biscuit', mintBiscuitCapability(c, rootKey).token]] as const) {
    const result = await verifier.verify(token, send);
    assert.equal(result.format, format);
    assert.equal(result.org_id, 'org_x');
    assert.equal(result.principal, 'user');
    assert.equal(result.sub, 'usr_ann');
    assert.equal(result.client_id, 'agt_mailer');
    assert.deepEqual(result.actor_chain, ['agt_mailer', 'agt_boss']);
    assert.equal(result.jti, c.jti);
    assert.equal(result.auth_event_id, c.auth_event_id);
    assert.equal(result.exp, NOW + 300);
    assert.deepEqual(result.rights[0]?.tools, ['gmail.messages.send']);
    assert.throws(() => { (result.rights as unknown[]).push(1); }, TypeError, 'cached results are frozen');
  }
});

test('argument constraint: `to` must end with @customer.com, in both formats', async () => {
  for (const token of [jwt(), biscuit().token]) {
    assert.equal(await codeOf(token, { ...send, input: { to: 'eve@evil.com' } }), 'constraint_failed');
    assert.equal(await codeOf(token, { ...send, input: { to: 'bob@customer.com' } }), 'allowed');
    assert.equal(await codeOf(token, { ...send, tool: 'gmail.messages.delete' }), 'insufficient_scope');
    assert.equal(await codeOf(token, { ...send, resource: 'slack:channel:1' }), 'insufficient_scope');
  }
});

test('an attenuated Biscuit cannot be used beyond its new checks', async () => {
  const narrowed = await verifier.attenuate(biscuit().token, { resources: ['gmail:mailbox:ann'], constraints: { subject: { eq: 'hi' } } });
  assert.equal(await codeOf(narrowed), 'allowed');
  assert.equal(await codeOf(narrowed, { ...send, resource: 'gmail:mailbox:bob' }), 'insufficient_scope');
  assert.equal(await codeOf(narrowed, { ...send, input: { to: 'bob@customer.com', subject: 'other' } }), 'constraint_failed');
  // A holder who appends facts instead of checks gains nothing.
  const parsed = Biscuit.fromBase64(biscuit().token, PublicKey.fromBytes(Buffer.from(rootKey.publicKey, 'hex'), SignatureAlgorithm.Ed25519));
  const block = new BlockBuilder();
  block.addCode('right("gmail.messages.delete", "*");');
  assert.equal(await codeOf(parsed.appendBlock(block).toBase64(), { ...send, tool: 'gmail.messages.delete' }), 'insufficient_scope');
});

test('forgeries and stale tokens are refused with the right code', async () => {
  const good = jwt();
  const [h, p, s] = good.split('.') as [string, string, string];
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const hsInput = `${b64({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })}.${p}`;
  const spki = jwtKey.publicKey.export({ format: 'der', type: 'spki' });
  const jwkSecret = JSON.stringify(jwtKey.publicJwk);
  const cases: Array<[string, string, string]> = [
    ['alg none', `${b64({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${p}.`, 'invalid_token'],
    ['HS256 with the public key (DER) as secret', `${hsInput}.${createHmac('sha256', spki).update(hsInput).digest('base64url')}`, 'invalid_token'],
    ['HS256 with the public JWK as secret', `${hsInput}.${createHmac('sha256', jwkSecret).update(hsInput).digest('base64url')}`, 'invalid_token'],
    ['tampered payload', `${h}.${b64({ ...claims(), org_id: 'org_other' })}.${s}`, 'invalid_token'],
    ['unknown kid', mintJwtCapability(claims(), generateJwtKey('k-unknown')), 'invalid_token'],
    ['signed by another key under our kid', mintJwtCapability(claims(), generateJwtKey('k1')), 'invalid_token'],
    ['expired JWT', jwt({ iat: NOW - 600, exp: NOW - 1 }), 'expired'],
    ['JWT for another audience', jwt({ aud: 'https://other.example' }), 'invalid_token'],
    ['JWT from another issuer', jwt({ iss: 'https://evil.example' }), 'invalid_token'],
    ['Biscuit under another root key', mintBiscuitCapability(claims(), generateBiscuitRootKey(1)).token, 'invalid_token'],
    ['Biscuit with an unknown root key id', mintBiscuitCapability(claims(), generateBiscuitRootKey(99)).token, 'invalid_token'],
    ['expired Biscuit', biscuit({ iat: NOW - 600, exp: NOW - 1 }).token, 'expired'],
    ['Biscuit for another audience', biscuit({ aud: 'https://other.example' }).token, 'invalid_token'],
    ['Biscuit from another issuer', biscuit({ iss: 'https://evil.example' }).token, 'invalid_token'],
    ['garbage', 'not-a-token', 'invalid_token'],
  ];
  const hits = issuer.metadataHits;
  for (const [name, token, code] of cases) assert.equal(await codeOf(token), code, name);
  assert.ok(issuer.metadataHits > hits, 'an unknown kid made the verifier re-read the published keys');
});

test('a key published after start is found by refreshing on the unknown kid', async () => {
  const rotated = generateJwtKey('k2');
  const rotatedRoot = generateBiscuitRootKey(2);
  issuer.keys.jwt.push(rotated);
  issuer.keys.biscuit.push(rotatedRoot);
  assert.equal(await codeOf(mintJwtCapability(claims(), rotated)), 'allowed');
  assert.equal(await codeOf(mintBiscuitCapability(claims(), rotatedRoot).token), 'allowed');
});

test('revocations from the long-polled feed are picked up, also for cached tokens', async () => {
  const j = claims();
  const jwtToken = mintJwtCapability(j, jwtKey);
  const minted = biscuit();
  const grant = claims();
  const byGrant = mintJwtCapability(grant, jwtKey);
  for (const token of [jwtToken, minted.token, byGrant]) assert.equal(await codeOf(token), 'allowed'); // now cached
  issuer.revoke(j.jti, 'jti');
  issuer.revoke(minted.revocation_ids[0]!, 'biscuit_revocation_id');
  issuer.revoke(grant.auth_event_id, 'auth_event_id');
  for (const token of [jwtToken, minted.token, byGrant]) {
    await waitFor('the feed to revoke a cached token', async () => (await codeOf(token)) === 'revoked');
  }
  // An attenuated child of a revoked Biscuit carries the parent's revocation id, so it is revoked too.
  const child = await verifier.attenuate(minted.token, { tools: ['gmail.messages.send'] });
  assert.equal(await codeOf(child), 'revoked');
});

function dpopProof(key: { privateKey: KeyObject; jwk: Record<string, unknown> }, accessToken: string, over: Record<string, unknown> = {}) {
  const header = { typ: 'dpop+jwt', alg: 'EdDSA', jwk: key.jwk };
  const payload = { jti: randomUUID(), htm: 'POST', htu: 'https://mail.example/api/send', iat: NOW + 5, ath: createHash('sha256').update(accessToken).digest('base64url'), ...over };
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), key.privateKey).toString('base64url')}`;
}
function dpopKey() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  return { privateKey, jwk, jkt: jwkThumbprint(jwk) };
}

test('DPoP-bound capabilities need a fresh proof from the bound key (RFC 9449)', async () => {
  const holder = dpopKey();
  const thief = dpopKey();
  for (const token of [jwt({ cnf: { jkt: holder.jkt } }), biscuit({ cnf: { jkt: holder.jkt } }).token]) {
    const at = (proof: string) => ({ ...send, dpop: { proof, method: 'POST', url: 'https://mail.example/api/send?x=1' } });
    assert.equal(await codeOf(token), 'dpop_required');
    assert.equal(await codeOf(token, at(dpopProof(thief, token))), 'invalid_dpop_proof');
    const proof = dpopProof(holder, token);
    assert.equal(await codeOf(token, at(proof)), 'allowed');
    assert.equal(await codeOf(token, at(proof)), 'invalid_dpop_proof', 'a proof is good once');
    assert.equal(await codeOf(token, at(dpopProof(holder, token, { htm: 'GET' }))), 'invalid_dpop_proof');
    assert.equal(await codeOf(token, at(dpopProof(holder, token, { htu: 'https://evil.example/api/send' }))), 'invalid_dpop_proof');
    assert.equal(await codeOf(token, at(dpopProof(holder, token, { iat: NOW - 600 }))), 'invalid_dpop_proof');
    assert.equal(await codeOf(token, at(dpopProof(holder, 'another token'))), 'invalid_dpop_proof');
    assert.equal((await verifier.verify(token, at(dpopProof(holder, token)))).cnf?.jkt, holder.jkt);
  }
});
