// Biscuit size and block limits at every entry of a running Writ: the exchange (subject token),
// the executor and introspection. A token at the limits gets past them; one byte or one block more
// is refused with the limit's own error, and nothing is issued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BISCUIT_LIMITS } from '../../src/capability/envelope.ts';
import { BISCUIT } from '../support/exchange.ts';
import { appendRaw, withBlocks, withLength } from '../capability/biscuit-limits-support.ts';
import { assertNothingIssued, capability, introspect, ledger, presentAsSubject, scene } from './support.ts';

const NARROW = JSON.stringify([{ type: 'tool_access', tools: ['demo.notes.create'], resources: ['demo:notebook:team'] }]);
const { maxBytes, maxBlocks } = DEFAULT_BISCUIT_LIMITS;

test('Biscuit limits at the exchange, the executor and introspection', async (t) => {
  // The demo connector is registered (its tools exist) and never called.
  const s = await scene({ env: { WRIT_DEMO_PROVIDER_URL: 'http://127.0.0.1:9' } });
  t.after(() => s.writ.stop());
  const genuine = await capability(s, { authorization_details: NARROW, requested_token_type: BISCUIT });
  const rootHex = s.writ.keys.biscuitRootKey.publicKey;
  const atBlocks = withBlocks(genuine, rootHex, maxBlocks);
  const atBytes = withLength(genuine, rootHex, maxBytes);
  assert.equal(atBytes.length, maxBytes);
  const tokens = {
    atBlocks, atBytes,
    overBlocks: appendRaw(atBlocks, rootHex, 'check if true;'),
    overBytes: withLength(genuine, rootHex, maxBytes + 4),
  };
  const TOO_LARGE = `the token is larger than ${maxBytes} bytes`;
  const TOO_MANY = `the token has more than ${maxBlocks} blocks`;

  await t.test('executor: over the limits is 401 invalid_token saying which; at the limits the token is opened and authorised', async () => {
    const execute = async (token: string) => {
      const res = await fetch(`${s.writ.issuer}/v1/tools/demo.notes.create/execute`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ input: { title: 'limits', body: 'x' } }),
      });
      return { status: res.status, error: ((await res.json()) as any).error };
    };
    for (const [token, message] of [[tokens.overBlocks, TOO_MANY], [tokens.overBytes, TOO_LARGE]] as const) {
      const answer = await execute(token);
      assert.deepEqual([answer.status, answer.error.code, answer.error.message], [401, 'invalid_token', message]);
    }
    for (const token of [tokens.atBlocks, tokens.atBytes]) {
      // Opened and authorised: the grant names demo:notebook:team, the tool acts on demo:notes.
      const answer = await execute(token);
      assert.deepEqual([answer.status, answer.error?.code], [403, 'insufficient_scope'], JSON.stringify(answer));
    }
  });

  await t.test('introspection: over the limits is inactive; at the limits active', async () => {
    for (const token of [tokens.overBlocks, tokens.overBytes]) assert.deepEqual((await introspect(s.writ, s.seeded.agent, token)).json, { active: false });
    for (const token of [tokens.atBlocks, tokens.atBytes]) {
      const seen = (await introspect(s.writ, s.seeded.agent, token)).json;
      assert.equal(seen.active, true);
      assert.equal(seen.attenuated, true);
    }
  });

  await t.test('exchange: over the limits is invalid_grant saying which (invalid_request past 16 KiB); at the limits only the attenuation stops it', async () => {
    const before = await ledger(s.writ, s.seeded.org.id);
    for (const [token, message] of [[tokens.overBlocks, TOO_MANY], [tokens.overBytes, TOO_LARGE]] as const) {
      const answer = await presentAsSubject(s, token, BISCUIT);
      assert.deepEqual([answer.status, answer.json.error, answer.json.error_description], [400, 'invalid_grant', `the subject token is not valid: ${message}`]);
    }
    const huge = await presentAsSubject(s, withLength(genuine, rootHex, 16 * 1024 + 4), BISCUIT);
    assert.deepEqual([huge.status, huge.json.error], [400, 'invalid_request']);
    for (const token of [tokens.atBlocks, tokens.atBytes]) {
      const answer = await presentAsSubject(s, token, BISCUIT);
      assert.equal(answer.json.error, 'invalid_grant');
      assert.match(answer.json.error_description, /attenuated Biscuit can be presented where it is accepted, not exchanged/);
    }
    assertNothingIssued(before, await ledger(s.writ, s.seeded.org.id));
  });
});
