// RFC 9449 §11.1 across processes: with two workers over one store, one DPoP proof is accepted
// once, at the executor (a DPoP-bound Biscuit capability) and at the token endpoint (a token
// exchange), however the requests are spread over the workers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { remoteWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, BISCUIT } from '../support/exchange.ts';
import { serveWrit } from '../support/workers.ts';

const PRESENTATIONS = 16;

type Holder = Awaited<ReturnType<typeof holderKey>>;

async function holderKey() {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA');
  return { privateKey, jwk: await exportJWK(publicKey) };
}

/** One proof; `token` adds the access token hash a proof that presents a token carries. */
function proof(holder: Holder, htu: string, token?: string): Promise<string> {
  return new SignJWT({
    htm: 'POST', htu, jti: randomUUID(), iat: Math.floor(Date.now() / 1000),
    ...(token && { ath: createHash('sha256').update(token).digest('base64url') }),
  }).setProtectedHeader({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: holder.jwk as never }).sign(holder.privateKey);
}

test('two workers: one DPoP proof is accepted once at the token endpoint and once at the executor', async (t) => {
  // The demo connector is registered (its tools exist) but never connected: a presentation that
  // passes the DPoP check is answered `not_connected`, one that fails it `invalid_dpop_proof`.
  const served = await serveWrit({ WRIT_WORKERS: '2', WRIT_DEMO_PROVIDER_URL: 'http://127.0.0.1:9' });
  t.after(() => served.stop());
  const { issuer } = served;
  const writ = remoteWrit(issuer, served.adminToken);
  const seeded = await seedOrg(writ, { tools: ['demo.notes.list'] });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.list'] }] });
  assert.ok(run.tokens, 'delegation through two workers');
  const holder = await holderKey();
  const tokenUrl = `${issuer}/token`;
  const exchangeParams = {
    subject_token: run.tokens.access_token, subject_token_type: ACCESS_TOKEN, requested_token_type: BISCUIT,
    authorization_details: details(['demo.notes.list']),
  };

  await t.test('the token endpoint: the same proof on many exchanges issues one token', async () => {
    const once = await proof(holder, tokenUrl);
    // Fresh connections: the cluster spreads them over both workers.
    const answers = await Promise.all(Array.from({ length: PRESENTATIONS }, () => exchange(writ, seeded.agent, exchangeParams, { dpop: once, connection: 'close' })));
    const issued = answers.filter((a) => a.status === 200);
    assert.equal(issued.length, 1, `statuses: ${answers.map((a) => a.status).join(',')}`);
    for (const refused of answers.filter((a) => a.status !== 200)) {
      // oidc-provider answers a replayed proof with a generic invalid_grant; the subject, the client
      // and the request are the same as the one that was issued.
      assert.deepEqual([refused.status, refused.json.error], [400, 'invalid_grant'], JSON.stringify(refused.json));
    }
  });

  await t.test('the executor: the same proof with a DPoP-bound Biscuit passes once', async () => {
    const bound = await exchange(writ, seeded.agent, exchangeParams, { dpop: await proof(holder, tokenUrl) });
    assert.equal(bound.status, 200, JSON.stringify(bound.json));
    assert.equal(bound.json.token_type, 'DPoP');
    const capability = bound.json.access_token as string;
    const url = `${issuer}/v1/tools/demo.notes.list/execute`;
    const once = await proof(holder, url, capability);
    const answers = await Promise.all(Array.from({ length: PRESENTATIONS }, () => fetch(url, {
      method: 'POST',
      headers: { authorization: `DPoP ${capability}`, dpop: once, 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ input: {} }),
    }).then(async (r) => ({ status: r.status, json: (await r.json()) as any }))));
    const passed = answers.filter((a) => a.json.error?.code === 'not_connected');
    assert.equal(passed.length, 1, `answers: ${answers.map((a) => a.json.error?.reason ?? a.json.error?.code).join(',')}`);
    for (const refused of answers.filter((a) => a !== passed[0])) {
      assert.equal(refused.status, 401);
      assert.deepEqual([refused.json.error.code, refused.json.error.reason], ['invalid_token', 'invalid_dpop_proof'], JSON.stringify(refused.json));
    }
    // A fresh proof still passes: the claim is per proof, not per token.
    const again = await fetch(url, {
      method: 'POST', headers: { authorization: `DPoP ${capability}`, dpop: await proof(holder, url, capability), 'content-type': 'application/json' },
      body: JSON.stringify({ input: {} }),
    });
    assert.equal(((await again.json()) as any).error.code, 'not_connected');
  });
});
