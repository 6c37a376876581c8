// The EdDSA key oidc-provider signs resource servers' JWTs with follows the key manager: the kid it
// reads is the current key's, and the signature is always made with the key the header names, even
// when a rotation lands between reading the kid and signing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, verify } from 'node:crypto';
import { CurrentSigningKey, providerKeystore } from '../../src/as/current-key.ts';

const keyPair = (kid: string) => ({ kid, ...generateKeyPairSync('ed25519') });
const signingInput = (kid: string) => Buffer.from(`${Buffer.from(JSON.stringify({ alg: 'EdDSA', kid })).toString('base64url')}.${Buffer.from('{"sub":"u"}').toString('base64url')}`);

test('a rotation between reading the kid and signing: the signature is the named key\'s', async () => {
  const a = keyPair('key-a');
  const b = keyPair('key-b');
  let current = a;
  const key = new CurrentSigningKey(() => current);
  assert.equal(key.alg, 'EdDSA');
  assert.equal(key.kid, 'key-a');
  current = b;
  assert.equal(key.kid, 'key-b', 'a token issued meanwhile names the new key');
  const signedByA = await key.sign(signingInput('key-a'));
  assert.ok(verify(null, signingInput('key-a'), a.publicKey, signedByA), 'the first token is signed by the key its header names');
  assert.ok(verify(null, signingInput('key-b'), b.publicKey, await key.sign(signingInput('key-b'))));
  assert.deepEqual(key.keyObject().export({ format: 'jwk' }), b.publicKey.export({ format: 'jwk' }));
  // A header naming a key that was never read is not signed at all.
  await assert.rejects(key.sign(signingInput('key-z')));
});

test('the provider keystore keeps the RS256 keys and replaces every EdDSA key with the current one', () => {
  const keystore = providerKeystore({ keys: [{ kty: 'RSA', alg: 'RS256', kid: 'rsa' }, { kty: 'OKP', alg: 'EdDSA', kid: 'old-1' }, { kty: 'OKP', alg: 'EdDSA', kid: 'old-2' }] }, () => keyPair('now'));
  assert.equal(keystore.keys.length, 2);
  assert.deepEqual(keystore.keys[0], { kty: 'RSA', alg: 'RS256', kid: 'rsa' });
  assert.ok(keystore.keys[1] instanceof CurrentSigningKey);
});
