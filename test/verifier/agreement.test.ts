// One table of capabilities, presented to every party that verifies one: the token exchange (as a
// subject token), introspection, the verifier library of a downstream service (keys and
// revocations over HTTP) and the executor (the same library, keys and revocations in process).
// They share one verification, so each answers each row the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import * as oauth from 'openid-client';
import {
  generateBiscuitRootKey, generateJwtKey, mintBiscuitCapability, mintJwtCapability, type CapabilityClaims,
} from '../../src/capability/index.ts';
import { createVerifier, VerifierError } from '../../src/verifier/index.ts';
import { seedOrg } from '../support/writ.ts';
import { startWritWithDemo } from '../support/connect.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { exchange, ACCESS_TOKEN, BISCUIT, JWT } from '../support/exchange.ts';
import { waitFor } from '../support/wait.ts';

const TOOL = 'demo.notes.create';
const GRANTED = [{ type: 'tool_access', tools: [TOOL] }];

/** What every party should say: accepted, or refused with the verifier's code. */
type Outcome = 'valid' | 'invalid_token' | 'expired' | 'revoked';

interface Row { name: string; token: string; type: string; outcome: Outcome }

test('the exchange, introspection, the verifier library and the executor agree on one table of capabilities', async (t) => {
  // The demo connector holds the tool; nobody connects an account, so a call the executor lets
  // through stops at `not_connected`, after every check of the capability.
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ);
  const introspection = await agentClient(writ, seeded.agent);

  // Two grants: one stays, one is revoked below.
  const capabilityPair = async () => {
    const run = await delegate(writ, seeded, { authorization_details: GRANTED });
    const subject = { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN };
    const jwt = await exchange(writ, seeded.agent, subject);
    const biscuit = await exchange(writ, seeded.agent, { ...subject, requested_token_type: BISCUIT });
    assert.equal(jwt.status, 200, JSON.stringify(jwt.json));
    assert.equal(biscuit.status, 200, JSON.stringify(biscuit.json));
    return { jwt: jwt.json.access_token as string, biscuit: biscuit.json.access_token as string };
  };
  const live = await capabilityPair();
  const doomed = await capabilityPair();

  // Signed by the server's own keys, so only the audience or the time can refuse them.
  const claims = decodeJwt(live.jwt) as unknown as CapabilityClaims;
  const now = Math.floor(Date.now() / 1000);
  const elsewhere = { ...claims, aud: 'https://evil.example/api' };
  const expired = { ...claims, iat: now - 600, exp: now - 300 };
  const { capabilitySigningKey, biscuitRootKey } = writ.keys;
  // Signed by someone else: under the server's key ids, or under ids it never published.
  const forgedJwtKey = { kid: capabilitySigningKey.kid, privateKey: generateJwtKey(capabilitySigningKey.kid).privateKey };
  const strangerJwtKey = generateJwtKey('key_stranger');

  const rows: Row[] = [
    { name: 'valid JWT', token: live.jwt, type: JWT, outcome: 'valid' },
    { name: 'valid Biscuit', token: live.biscuit, type: BISCUIT, outcome: 'valid' },
    { name: 'JWT for another audience', token: mintJwtCapability(elsewhere, capabilitySigningKey), type: JWT, outcome: 'invalid_token' },
    { name: 'Biscuit for another audience', token: mintBiscuitCapability(elsewhere, biscuitRootKey).token, type: BISCUIT, outcome: 'invalid_token' },
    { name: 'expired JWT', token: mintJwtCapability(expired, capabilitySigningKey), type: JWT, outcome: 'expired' },
    { name: 'expired Biscuit', token: mintBiscuitCapability(expired, biscuitRootKey).token, type: BISCUIT, outcome: 'expired' },
    { name: 'forged JWT (the server\'s kid)', token: mintJwtCapability(claims, forgedJwtKey), type: JWT, outcome: 'invalid_token' },
    { name: 'forged Biscuit (the server\'s root key id)', token: mintBiscuitCapability(claims, generateBiscuitRootKey(biscuitRootKey.kid)).token, type: BISCUIT, outcome: 'invalid_token' },
    { name: 'JWT under an unknown kid', token: mintJwtCapability(claims, strangerJwtKey), type: JWT, outcome: 'invalid_token' },
    { name: 'Biscuit under an unknown root key id', token: mintBiscuitCapability(claims, generateBiscuitRootKey(4242)).token, type: BISCUIT, outcome: 'invalid_token' },
    { name: 'revoked JWT', token: doomed.jwt, type: JWT, outcome: 'revoked' },
    { name: 'revoked Biscuit', token: doomed.biscuit, type: BISCUIT, outcome: 'revoked' },
  ];

  const revokedGrant = (decodeJwt(doomed.jwt) as unknown as CapabilityClaims).auth_event_id;
  assert.equal((await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants/${revokedGrant}`)).status, 204);

  // A downstream service: keys from the JWKS and revocations from the feed, over HTTP.
  const verifier = createVerifier({ issuer: writ.issuer, audience: writ.executorResource, keyRefreshIntervalSec: 0 });
  t.after(() => verifier.close());
  const verdict = async (token: string): Promise<Outcome> => {
    try {
      await verifier.verify(token, { tool: TOOL });
      return 'valid';
    } catch (error) {
      if (!(error instanceof VerifierError)) throw error;
      return error.code as Outcome;
    }
  };
  // The feed reaches a remote verifier within about a second.
  await waitFor('the downstream verifier learns of the revocation', async () => (await verdict(doomed.jwt)) === 'revoked');

  for (const row of rows) {
    await t.test(row.name, async () => {
      assert.equal(await verdict(row.token), row.outcome, 'verifier library');

      const executed = await fetch(`${writ.issuer}/v1/tools/${TOOL}/execute`, {
        method: 'POST',
        headers: { authorization: `Bearer ${row.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ input: { title: 'agreement', body: 'one verification' } }),
      });
      const answer = (await executed.json()) as { error?: { code: string; reason?: string } };
      if (row.outcome === 'valid') {
        // Past every check of the capability, the call stops at the missing connected account.
        assert.equal(answer.error?.code, 'not_connected', `executor: ${JSON.stringify(answer)}`);
      } else {
        assert.equal(executed.status, 401, `executor: ${JSON.stringify(answer)}`);
        assert.equal(answer.error?.reason, row.outcome, 'executor');
      }

      const introspected = await oauth.tokenIntrospection(introspection, row.token);
      assert.equal(introspected.active, row.outcome === 'valid', 'introspection');

      const exchanged = await exchange(writ, seeded.agent, { subject_token: row.token, subject_token_type: row.type });
      if (row.outcome === 'valid') {
        assert.equal(exchanged.status, 200, `exchange: ${JSON.stringify(exchanged.json)}`);
      } else {
        assert.equal(exchanged.status, 400, `exchange: ${JSON.stringify(exchanged.json)}`);
        assert.equal(exchanged.json.error, 'invalid_grant');
        if (row.outcome === 'expired') assert.match(exchanged.json.error_description, /expired/);
        if (row.outcome === 'revoked') assert.match(exchanged.json.error_description, /revoked/);
      }
    });
  }
});
