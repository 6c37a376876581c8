// Biscuit capabilities under attack, against a running Writ and the verifier library that reads
// only its published keys: another root key, blocks that try to add rights, a Datalog bomb, a
// token over the size limit, and an authorizer that forgets the time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Biscuit, BlockBuilder, PublicKey, SignatureAlgorithm } from '@biscuit-auth/biscuit-wasm';
import { createVerifier } from '../../src/verifier/index.ts';
import { mintBiscuitCapability, openBiscuit } from '../../src/capability/index.ts';
import { authorizeRawBiscuit } from '../capability/raw-biscuit.ts';
import { generateBiscuitRootKey } from '../../src/capability/keys.ts';
import { BISCUIT } from '../support/exchange.ts';
import { assertNothingIssued, capability, introspect, ledger, presentAsSubject, scene } from './support.ts';

const NARROW = JSON.stringify([{ type: 'tool_access', tools: ['demo.notes.create'], resources: ['demo:notebook:team'] }]);
const ALLOWED = { tool: 'demo.notes.create', resource: 'demo:notebook:team' };

/** Append any block a hostile holder likes: extending a Biscuit needs no key. */
function appendRaw(token: string, rootPublicKeyHex: string, code: string): string {
  const biscuit = Biscuit.fromBase64(token, PublicKey.fromBytes(Buffer.from(rootPublicKeyHex, 'hex'), SignatureAlgorithm.Ed25519));
  const block = new BlockBuilder();
  block.addCode(code);
  const appended = biscuit.appendBlock(block);
  try { return appended.toBase64(); } finally { appended.free(); biscuit.free(); }
}

test('Biscuit forgeries and hostile blocks are refused by Writ and by the verifier, and widen nothing', async (t) => {
  const s = await scene();
  t.after(() => s.writ.stop());
  const genuine = await capability(s, { authorization_details: NARROW, requested_token_type: BISCUIT });
  const rootHex = s.writ.keys.biscuitRootKey.publicKey;
  const rootKid = s.writ.keys.biscuitRootKey.kid;
  const verifier = createVerifier({ issuer: s.writ.issuer, audience: s.writ.executorResource });
  t.after(() => verifier.close());
  assert.equal((await verifier.verify(genuine, ALLOWED)).org_id, s.seeded.org.id, 'the genuine token works');

  const opened = openBiscuit(genuine, () => rootHex);
  const facts = opened.facts;
  opened.biscuit.free();
  const claims = {
    iss: facts.iss, aud: facts.aud, sub: facts.sub, principal: facts.principal, org_id: facts.org_id, client_id: facts.client_id,
    act: { sub: facts.client_id }, authorization_details: [{ type: 'tool_access' as const, tools: ['demo.notes.create', 'notion.pages.create', 'gmail.messages.send'] }],
    scope: 'tool:demo.notes.create tool:notion.pages.create tool:gmail.messages.send', auth_event_id: facts.auth_event_id, jti: 'cap_forged',
    iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300,
  };

  const before = await ledger(s.writ, s.seeded.org.id);
  const hostile: Array<[string, string, { tool: string; resource: string }, string[]]> = [
    ['another root key under Writ\'s key id', mintBiscuitCapability(claims, generateBiscuitRootKey(rootKid)).token, ALLOWED, ['invalid_token']],
    ['another root key under an unknown key id', mintBiscuitCapability(claims, generateBiscuitRootKey(9999)).token, ALLOWED, ['invalid_token']],
    ['a block that states a new right', appendRaw(genuine, rootHex, 'right("gmail.messages.send", "*");'), { tool: 'gmail.messages.send', resource: 'gmail:mailbox:me' }, ['insufficient_scope']],
    ['a block that widens the resource', appendRaw(genuine, rootHex, 'right("demo.notes.create", "*");'), { tool: 'demo.notes.create', resource: 'demo:notebook:private' }, ['insufficient_scope']],
    ['a block that adds a resource pattern', appendRaw(genuine, rootHex, 'right("demo.notes.create", "demo:*"); resource_pattern("demo:*", "demo:", "");'), { tool: 'demo.notes.create', resource: 'demo:notebook:x' }, ['insufficient_scope']],
    ['a block that restates the time', appendRaw(genuine, rootHex, 'time(2000-01-01T00:00:00Z);'), ALLOWED, []],
    ['a block that claims another org', appendRaw(genuine, rootHex, 'org("org_other"); user("usr_other");'), ALLOWED, []],
  ];
  for (const [name, token, request, codes] of hostile) {
    await t.test(name, async () => {
      if (codes.length) {
        await assert.rejects(verifier.verify(token, request), (e: any) => codes.includes(e.code), `refused with ${codes.join('|')}`);
      } else {
        // Facts in an appended block are not visible to the authority's checks or the allow policy:
        // the request is still authorised only by what Writ signed, for the org Writ named.
        const verified = await verifier.verify(token, request);
        assert.equal(verified.org_id, s.seeded.org.id);
        assert.equal(verified.sub, s.seeded.user.id);
      }
      const asSubject = await presentAsSubject(s, token, BISCUIT);
      assert.equal(asSubject.status, 400);
      assert.equal(asSubject.json.error, 'invalid_grant', 'a forged or attenuated Biscuit is never exchanged');
      const seen = await introspect(s.writ, s.seeded.agent, token);
      if (name.startsWith('another root key')) assert.deepEqual(seen.json, { active: false });
      else assert.equal(seen.json.attenuated, true, 'introspection says the token was attenuated');
    });
  }

  await t.test('a Datalog bomb in an appended block is stopped by the run limits with a clear error', async () => {
    const bomb = appendRaw(genuine, rootHex, [
      'n(0); n(1); n(2); n(3); n(4); n(5); n(6); n(7); n(8); n(9);',
      'pair($a, $b) <- n($a), n($b);',
      'triple($a, $b, $c) <- pair($a, $b), n($c);',
      'quad($a, $b, $c, $d) <- triple($a, $b, $c), n($d);',
      'check if quad($a, $b, $c, $d), $a + $b + $c + $d == 1000;',
    ].join('\n'));
    const started = performance.now();
    await assert.rejects(verifier.verify(bomb, ALLOWED), (e: any) => e.code === 'invalid_token' && /run limits/.test(e.message));
    t.diagnostic(`bomb refused in ${(performance.now() - started).toFixed(1)} ms`);
    // Presented for exchange, the same bomb is refused without harm to the server.
    const asSubject = await presentAsSubject(s, bomb, BISCUIT);
    assert.equal(asSubject.status, 400);
    assert.equal(asSubject.json.error, 'invalid_grant');
    assert.equal((await verifier.verify(genuine, ALLOWED)).org_id, s.seeded.org.id, 'the verifier still works after the bombs');
  });

  await t.test('a token over the size limit is refused before it is parsed', async () => {
    const huge = genuine + 'A'.repeat(70 * 1024);
    await assert.rejects(verifier.verify(huge, ALLOWED), (e: any) => e.code === 'invalid_token');
    const asSubject = await presentAsSubject(s, huge, BISCUIT);
    assert.equal(asSubject.status, 400);
    assert.equal(asSubject.json.error, 'invalid_request', 'the exchange parameters cap subject_token at 16 KiB');
    const seen = await introspect(s.writ, s.seeded.agent, huge);
    assert.ok(seen.status === 200 || seen.status === 400 || seen.status === 413, `status ${seen.status}`);
    assert.notEqual(seen.json.active, true);
  });

  await t.test('an authorizer that forgets the time fact fails closed on the expiry check', () => {
    const withoutTime = 'tool("demo.notes.create"); resource("demo:notebook:team"); audience("' + s.writ.executorResource + '"); allow if tool($t), resource($r), right($t, $r);';
    assert.throws(() => authorizeRawBiscuit(Buffer.from(genuine, 'base64url'), rootHex, withoutTime), (e: any) => e.code === 'expired' || e.code === 'invalid_token');
    const withTime = `time(${new Date().toISOString()}); ${withoutTime}`;
    assert.equal(authorizeRawBiscuit(Buffer.from(genuine, 'base64url'), rootHex, withTime).policy, 0, 'the same authorizer with the time passes');
  });

  assertNothingIssued(before, await ledger(s.writ, s.seeded.org.id));
});
