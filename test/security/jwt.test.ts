// JWT capabilities under attack: forged headers, foreign keys, claims out of bounds, token type
// confusion and keys after rotation. Each forgery is presented where a capability is accepted —
// as an RFC 8693 subject token, at RFC 7662 introspection and at the verifier library — and must
// be refused there with nothing issued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createVerifier } from '../../src/verifier/index.ts';
import { ACCESS_TOKEN, JWT } from '../support/exchange.ts';
import {
  attackerKey, capability, decodeJwt, introspect, ledger, assertNothingIssued, offsetClock, presentAsSubject, scene,
  signEd25519, signHs256, unsigned,
} from './support.ts';

test('forged and out-of-bounds JWT capabilities are refused at exchange, introspection and the verifier, and nothing is issued', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const genuine = await capability(s, { authorization_details: JSON.stringify([{ type: 'tool_access', tools: ['demo.notes.create'], resources: ['demo:notebook:team'] }]) });
  const { header, payload } = decodeJwt(genuine);
  const real = s.writ.keys.capabilitySigningKey;
  const evil = attackerKey();
  const now = Math.floor(Date.now() / 1000);

  // A server the attacker controls: a key URL in a header must never be fetched.
  let fetched = 0;
  const trap = createServer((_req, res) => { fetched++; res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ keys: [evil.jwk] })); });
  await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => trap.close(() => r())));
  const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}/jwks`;

  const jwks = await (await fetch(`${s.writ.issuer}/jwks`)).json() as { keys: Array<Record<string, string>> };
  const publicJwk = jwks.keys.find((k) => k.kid === header.kid)!;
  assert.ok(publicJwk, 'the genuine key is published');

  const forged: Array<[string, string]> = [
    ['alg none, no signature', unsigned({ ...header, alg: 'none' }, payload)],
    ['alg none with a copied signature', `${unsigned({ ...header, alg: 'none' }, payload)}${genuine.split('.')[2]}`],
    ['HS256 keyed with the public JWK x', signHs256({ ...header, alg: 'HS256' }, payload, Buffer.from(publicJwk.x!, 'base64url'))],
    ['HS256 keyed with the public JWK as JSON', signHs256({ ...header, alg: 'HS256' }, payload, JSON.stringify(publicJwk))],
    ['HS256 keyed with the public key PEM', signHs256({ ...header, alg: 'HS256' }, payload, real.publicKey.export({ format: 'pem', type: 'spki' }) as string)],
    ['an attacker key under an unknown kid', signEd25519({ ...header, kid: 'key_attacker' }, payload, evil.privateKey)],
    ['an attacker key under the real kid', signEd25519(header, payload, evil.privateKey)],
    ['kid path traversal', signEd25519({ ...header, kid: '../../../../etc/passwd' }, payload, evil.privateKey)],
    ['kid SQL text', signEd25519({ ...header, kid: "x' OR '1'='1" }, payload, evil.privateKey)],
    ['kid not a string', signEd25519({ ...header, kid: { $ne: null } }, payload, evil.privateKey)],
    ['an embedded jwk header with the attacker key', signEd25519({ ...header, kid: 'evil', jwk: evil.jwk }, payload, evil.privateKey)],
    ['a jku header pointing to the attacker', signEd25519({ ...header, kid: 'evil', jku: trapUrl }, payload, evil.privateKey)],
    ['an x5u header pointing to the attacker', signEd25519({ ...header, kid: 'evil', x5u: trapUrl }, payload, evil.privateKey)],
    ['a widened payload under the genuine signature', `${genuine.split('.')[0]}.${Buffer.from(JSON.stringify({ ...payload, authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create', 'notion.pages.create'] }] })).toString('base64url')}.${genuine.split('.')[2]}`],
    // Signed with Writ's real key: the claims themselves must be checked.
    ['a crit header', signEd25519({ ...header, crit: ['exp'] }, payload, real.privateKey)],
    ['typ JWT instead of at+jwt', signEd25519({ ...header, typ: 'JWT' }, payload, real.privateKey)],
    ['no typ', signEd25519({ alg: 'EdDSA', kid: header.kid }, payload, real.privateKey)],
    ['expired', signEd25519(header, { ...payload, iat: now - 600, exp: now - 1 }, real.privateKey)],
    ['nbf in the future', signEd25519(header, { ...payload, nbf: now + 3600 }, real.privateKey)],
    ['iat in the future', signEd25519(header, { ...payload, iat: now + 3600, exp: now + 4000 }, real.privateKey)],
    ['another issuer', signEd25519(header, { ...payload, iss: 'https://evil.example' }, real.privateKey)],
    ['no audience', signEd25519(header, (({ aud: _a, ...rest }) => rest)(payload), real.privateKey)],
  ];

  const before = await ledger(s.writ, s.seeded.org.id);
  const verifier = createVerifier({ issuer: s.writ.issuer, audience: s.writ.executorResource });
  t.after(() => verifier.close());
  for (const [name, token] of forged) {
    await t.test(name, async () => {
      const asSubject = await presentAsSubject(s, token, JWT);
      assert.equal(asSubject.status, 400, JSON.stringify(asSubject.json));
      assert.equal(asSubject.json.error, 'invalid_grant');
      assert.equal(asSubject.json.access_token, undefined);
      assert.ok(!JSON.stringify(asSubject.json).includes(token), 'the token is not echoed');
      const seen = await introspect(s.writ, s.seeded.agent, token);
      assert.equal(seen.status, 200);
      assert.deepEqual(seen.json, { active: false });
      await assert.rejects(verifier.verify(token, { tool: 'demo.notes.create', resource: 'demo:notebook:team' }), (e: any) => ['invalid_token', 'expired'].includes(e.code));
    });
  }
  assertNothingIssued(before, await ledger(s.writ, s.seeded.org.id));
  assert.equal(fetched, 0, 'no key URL from a token header was ever fetched');
  assert.ok(!s.writ.logs.some((l) => l.includes(genuine.split('.')[2]!)), 'no signature in the logs');

  await t.test('the genuine token still works after all that', async () => {
    assert.equal((await introspect(s.writ, s.seeded.agent, genuine)).json.active, true);
    const verified = await verifier.verify(genuine, { tool: 'demo.notes.create', resource: 'demo:notebook:team' });
    assert.equal(verified.org_id, s.seeded.org.id);
  });

  await t.test('a capability for another audience is refused by a verifier of this one', async () => {
    const other = signEd25519(header, { ...payload, aud: 'https://billing.example/api' }, real.privateKey);
    await assert.rejects(verifier.verify(other, { tool: 'demo.notes.create', resource: 'demo:notebook:team' }), (e: any) => e.code === 'invalid_token');
  });
});

test('token type confusion: a capability is not a delegated access token, a delegated token is not a capability', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const cap = await capability(s);
  const before = await ledger(s.writ, s.seeded.org.id);
  const asAccess = await presentAsSubject(s, cap, ACCESS_TOKEN);
  assert.equal(asAccess.status, 400);
  assert.equal(asAccess.json.error, 'invalid_grant');
  const asJwt = await presentAsSubject(s, s.subject, JWT);
  assert.equal(asJwt.status, 400);
  assert.equal(asJwt.json.error, 'invalid_grant');
  const asBiscuit = await presentAsSubject(s, s.subject, 'urn:writ:params:oauth:token-type:biscuit');
  assert.equal(asBiscuit.status, 400);
  assert.equal(asBiscuit.json.error, 'invalid_grant');
  assertNothingIssued(before, await ledger(s.writ, s.seeded.org.id));
});

test('key rotation: the new key is published at once, the old one verifies until its retire time and then vanishes from the JWKS and stops verifying', async (t) => {
  const clock = offsetClock();
  const s = await scene({ writ: { clock } });
  t.after(() => s.writ.stop());
  const verifierClock = { now: () => clock.now() };
  const old = await capability(s);
  const oldKid = decodeJwt(old).header.kid as string;
  const oldBiscuitKid = s.writ.keys.biscuitRootKey.kid;

  const rotated = await s.writ.admin('POST', '/keys/rotate');
  assert.equal(rotated.status, 200);
  const jwksAfter = await (await fetch(`${s.writ.issuer}/jwks`)).json() as { keys: Array<{ kid: string }> };
  const fresh = await capability(s);
  const freshKid = decodeJwt(fresh).header.kid as string;
  assert.notEqual(freshKid, oldKid, 'the new key signs');
  assert.ok(jwksAfter.keys.some((k) => k.kid === freshKid), 'the new key is in the JWKS at once');
  assert.ok(jwksAfter.keys.some((k) => k.kid === oldKid), 'the old key is still published');

  // A downstream verifier that only knows the published keys accepts both.
  const verifier = createVerifier({ issuer: s.writ.issuer, audience: s.writ.executorResource, clock: verifierClock });
  t.after(() => verifier.close());
  const request = { tool: 'demo.notes.create', resource: 'demo:notebook:team' };
  assert.equal((await verifier.verify(fresh, request)).org_id, s.seeded.org.id);
  assert.equal((await verifier.verify(old, request)).org_id, s.seeded.org.id);
  assert.equal((await introspect(s.writ, s.seeded.agent, old)).json.active, true);

  // Past the retire time (30 minutes): gone from every published set, refused everywhere.
  clock.advance(31 * 60_000);
  const jwksLater = await (await fetch(`${s.writ.issuer}/jwks`)).json() as { keys: Array<{ kid: string }> };
  assert.ok(!jwksLater.keys.some((k) => k.kid === oldKid), 'the retired key left the JWKS');
  assert.ok(jwksLater.keys.some((k) => k.kid === freshKid));
  const metadata = await (await fetch(`${s.writ.issuer}/.well-known/oauth-authorization-server`)).json() as { biscuit_public_keys: Array<{ kid: number }> };
  assert.ok(!metadata.biscuit_public_keys.some((k) => k.kid === oldBiscuitKid), 'the retired Biscuit root key left the metadata');
  assert.equal((await introspect(s.writ, s.seeded.agent, old)).json.active, false);
  const before = await ledger(s.writ, s.seeded.org.id);
  const onwards = await presentAsSubject(s, old, JWT);
  assert.equal(onwards.status, 400);
  assert.equal(onwards.json.error, 'invalid_grant');
  assertNothingIssued(before, await ledger(s.writ, s.seeded.org.id));
  assert.equal(s.writ.keys.jwtVerificationKey(oldKid), undefined);
});
