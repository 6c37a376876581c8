// Size and block limits on Biscuits, refused before biscuit-wasm parses anything, in the
// capability module and at the verifier library; and attenuated variants of one token sharing its
// authority block's facts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { generateBiscuitRootKey } from '../../src/capability/keys.ts';
import { attenuateBiscuit, authorityFactsStats, mintBiscuitCapability, openBiscuit } from '../../src/capability/index.ts';
import { DEFAULT_BISCUIT_LIMITS, readBiscuitEnvelope } from '../../src/capability/envelope.ts';
import { CapabilityError } from '../../src/capability/errors.ts';
import { createVerifier, VerifierError, type Verifier } from '../../src/verifier/index.ts';
import { appendRaw, withBlocks, withLength } from '../capability/biscuit-limits-support.ts';
import { startIssuer } from './issuer.ts';

const NOW = Math.floor(Date.now() / 1000);
const AUDIENCE = 'https://mail.example/api';
const rootKey = generateBiscuitRootKey(3);
const resolver = (kid: number | undefined) => (kid === 3 ? rootKey.publicKey : undefined);
const { maxBytes, maxBlocks } = DEFAULT_BISCUIT_LIMITS;
const send = { tool: 'gmail.messages.send', resource: 'gmail:mailbox:ann' };
let issuer: Awaited<ReturnType<typeof startIssuer>>;
let verifier: Verifier;

function mint(): string {
  return mintBiscuitCapability({
    iss: issuer.issuer, aud: AUDIENCE, sub: 'usr_ann', principal: 'user', org_id: 'org_x', client_id: 'agt_mailer',
    authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send'], resources: ['gmail:mailbox:*'] }],
    scope: 'tool:gmail.messages.send', auth_event_id: `grt_${randomUUID()}`, jti: `cap_${randomUUID()}`, iat: NOW, exp: NOW + 300,
  }, rootKey).token;
}

const refusal = (error: unknown): string => {
  assert.ok(error instanceof CapabilityError || error instanceof VerifierError, `unexpected ${String(error)}`);
  return `${error.code}: ${error.message}`;
};

function openCode(token: string): string {
  try {
    openBiscuit(token, resolver).biscuit.free();
    return 'opened';
  } catch (error) {
    return refusal(error);
  }
}

async function verifyCode(token: string): Promise<string> {
  try {
    await verifier.verify(token, send);
    return 'allowed';
  } catch (error) {
    return refusal(error);
  }
}

const TOO_LARGE = `invalid_token: the token is larger than ${maxBytes} bytes`;
const TOO_MANY = `invalid_token: the token has more than ${maxBlocks} blocks`;

before(async () => {
  issuer = await startIssuer({ jwt: [], biscuit: [rootKey] });
  verifier = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, feed: { wait: 5 } });
});
after(async () => {
  verifier.close();
  await issuer.close();
});

test('the default limits: 8 KiB, 8 blocks, 64 distinct attenuated tokens per capability', () => {
  assert.deepEqual({ ...DEFAULT_BISCUIT_LIMITS }, { maxBytes: 8192, maxBlocks: 8, maxVariants: 64 });
});

test('a token at the limits opens and verifies; one byte or one block more is refused, before parsing', async () => {
  const base = mint();
  const atBlocks = withBlocks(base, rootKey.publicKey, maxBlocks);
  const overBlocks = appendRaw(atBlocks, rootKey.publicKey, 'check if true;');
  const atBytes = withLength(base, rootKey.publicKey, maxBytes);
  const overBytes = withLength(base, rootKey.publicKey, maxBytes + 4);
  assert.equal(atBytes.length, maxBytes, 'the padded token is exactly at the limit');
  assert.ok(overBytes.length > maxBytes);
  assert.equal(readBiscuitEnvelope(atBlocks).blocks, maxBlocks);

  assert.equal(openCode(atBlocks), 'opened');
  assert.equal(openCode(atBytes), 'opened');
  assert.equal(openCode(overBlocks), TOO_MANY);
  assert.equal(openCode(overBytes), TOO_LARGE);

  assert.equal(await verifyCode(atBlocks), 'allowed');
  assert.equal(await verifyCode(atBytes), 'allowed');
  assert.equal(await verifyCode(overBlocks), TOO_MANY);
  assert.equal(await verifyCode(overBytes), TOO_LARGE);
});

test('the envelope is read without biscuit-wasm: garbage that is not a Biscuit is refused as malformed', () => {
  for (const token of ['', 'AAAA', 'not base64!', Buffer.from([0x12, 0xff]).toString('base64url'), Buffer.from([0x1a, 0x02, 0x08]).toString('base64url')]) {
    assert.throws(() => readBiscuitEnvelope(token), (e: unknown) => e instanceof CapabilityError && e.code === 'invalid_token' && /malformed/.test(e.message), token);
  }
  // An authority block, then a thousand empty block fields: counting stops at the ninth block.
  const authority = [0x12, 0x03, 0x1a, 0x01, 0xff];
  const many = Buffer.from([...authority, ...Array.from({ length: 1000 }, () => [0x1a, 0x00]).flat()]);
  assert.throws(() => readBiscuitEnvelope(many.toString('base64url')), /more than 8 blocks/);
});

test('limits are options: a verifier may be stricter', async () => {
  const strict = createVerifier({ issuer: issuer.issuer, audience: AUDIENCE, feed: { wait: 5 }, biscuitLimits: { maxBlocks: 2 } });
  try {
    const twice = withBlocks(mint(), rootKey.publicKey, 3);
    await assert.rejects(strict.verify(twice, send), (e: unknown) => refusal(e) === 'invalid_token: the token has more than 2 blocks');
    await assert.rejects(strict.attenuate(withBlocks(mint(), rootKey.publicKey, 2), { expires_in: 10 }), /would have more than 2 blocks/);
  } finally {
    strict.close();
  }
});

test('attenuation refuses to make a token nobody would accept', () => {
  const atBlocks = withBlocks(mint(), rootKey.publicKey, maxBlocks);
  assert.throws(() => attenuateBiscuit(atBlocks, rootKey.publicKey, { expires_in: 10 }), (e: unknown) => refusal(e) === `invalid_token: an attenuated token would have more than ${maxBlocks} blocks`);
  const nearBytes = withLength(mint(), rootKey.publicKey, maxBytes - 50);
  assert.throws(() => attenuateBiscuit(nearBytes, rootKey.publicKey, { expires_in: 10 }), (e: unknown) => refusal(e) === `invalid_token: an attenuated token would be larger than ${maxBytes} bytes`);
});

test('attenuated variants of one token read its authority facts once', () => {
  const base = withBlocks(mint(), rootKey.publicKey, 3);
  openBiscuit(base, resolver).biscuit.free();
  const before = authorityFactsStats().reads;
  for (let i = 0; i < 20; i++) {
    const variant = attenuateBiscuit(base, rootKey.publicKey, { expires_in: 100 + i });
    const opened = openBiscuit(variant, resolver);
    assert.equal(opened.facts.revocation_ids.length, 4, 'each variant keeps its own revocation ids');
    assert.equal(opened.facts.org_id, 'org_x');
    opened.biscuit.free();
  }
  assert.equal(authorityFactsStats().reads, before, 'no variant read the authority block again');
  // Another root key with the same authority bytes would be another entry: the key is part of it.
  assert.throws(() => openBiscuit(base, () => generateBiscuitRootKey(3).publicKey), CapabilityError);
});
