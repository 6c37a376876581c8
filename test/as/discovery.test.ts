// Discovery advertises exactly what works: every value in the RFC 8414 metadata is tried against
// the server, so a grant type, response type or mode, client authentication method, signing
// algorithm or endpoint that is advertised but refused fails here. A new kind of value fails
// until this test knows how to try it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { seedOrg, startTestWrit, type TestWrit } from '../support/writ.ts';

const REDIRECT = 'http://127.0.0.1:9/callback';

async function form(url: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(params) });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, headers: res.headers, text };
}

const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}` });
/** A code nobody issued: a token request that gets as far as the grant fails with invalid_grant. */
const bogusCode = () => ({ grant_type: 'authorization_code', code: randomBytes(16).toString('base64url'), redirect_uri: REDIRECT, code_verifier: randomBytes(32).toString('base64url') });

/** Key pairs for each JWS algorithm the metadata may name. */
async function keyFor(alg: string): Promise<{ privateKey: CryptoKey; jwk: JWK; jwsAlg: string }> {
  const params: Record<string, [string, Record<string, unknown>]> = {
    RS256: ['RS256', {}], PS256: ['PS256', {}], ES256: ['ES256', {}], EdDSA: ['EdDSA', { crv: 'Ed25519' }], Ed25519: ['Ed25519', {}],
  };
  const entry = params[alg];
  assert.ok(entry, `the test has no key for ${alg}: teach it, or stop advertising ${alg}`);
  const { privateKey, publicKey } = await generateKeyPair(entry[0], { extractable: true, ...entry[1] });
  return { privateKey: privateKey as CryptoKey, jwk: { ...(await exportJWK(publicKey)), alg, use: 'sig', kid: randomUUID() }, jwsAlg: alg };
}

test('every value the authorization server metadata advertises is accepted by the server', async (t) => {
  const writ: TestWrit = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const org = seeded.org.id;
  const meta = (await (await fetch(`${writ.issuer}/.well-known/oauth-authorization-server`)).json()) as Record<string, any>;
  const openid = (await (await fetch(`${writ.issuer}/.well-known/openid-configuration`)).json()) as Record<string, any>;
  const tokenEndpoint = meta.token_endpoint as string;
  const agent = seeded.agent as { client_id: string; client_secret: string };

  for (const field of ['grant_types_supported', 'response_types_supported', 'response_modes_supported', 'token_endpoint_auth_methods_supported', 'token_endpoint_auth_signing_alg_values_supported', 'code_challenge_methods_supported', 'dpop_signing_alg_values_supported']) {
    assert.ok(Array.isArray(meta[field]) && meta[field].length > 0, `${field} is advertised`);
    assert.deepEqual(openid[field], meta[field], `${field}: both discovery documents say the same`);
  }
  // What an agent cannot use is not offered.
  assert.ok(!meta.grant_types_supported.includes('implicit'));
  assert.ok(!meta.response_types_supported.some((t: string) => t.split(' ').includes('id_token') || t.split(' ').includes('token')));
  assert.ok(!meta.token_endpoint_auth_methods_supported.includes('client_secret_jwt'));
  assert.ok(!meta.token_endpoint_auth_signing_alg_values_supported.some((a: string) => a.startsWith('HS')));

  await t.test('grant types: the token endpoint knows each one', async () => {
    for (const grant of meta.grant_types_supported as string[]) {
      const res = await form(tokenEndpoint, { grant_type: grant }, basic(agent.client_id, agent.client_secret));
      assert.notEqual(res.json?.error, 'unsupported_grant_type', `${grant}: ${res.text}`);
      assert.ok(res.status < 500, `${grant}: ${res.status}`);
    }
  });

  await t.test('response types, response modes and PKCE methods: each combination starts a sign-in', async () => {
    for (const response_type of meta.response_types_supported as string[]) {
      for (const response_mode of meta.response_modes_supported as string[]) {
        for (const method of meta.code_challenge_methods_supported as string[]) {
          const verifier = randomBytes(32).toString('base64url');
          const url = new URL(meta.authorization_endpoint);
          url.search = new URLSearchParams({
            response_type, response_mode, client_id: agent.client_id, redirect_uri: REDIRECT, state: randomBytes(8).toString('hex'),
            code_challenge: method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier, code_challenge_method: method,
            authorization_details: JSON.stringify([{ type: meta.authorization_details_types_supported[0], tools: ['demo.notes.create'] }]),
          }).toString();
          const res = await fetch(url, { redirect: 'manual' });
          const location = res.headers.get('location') ?? '';
          assert.ok([302, 303].includes(res.status) && new URL(location, writ.issuer).pathname.startsWith('/interaction/'),
            `${response_type} / ${response_mode} / ${method}: ${res.status} ${location} ${res.status === 200 ? (await res.text()).slice(0, 200) : ''}`);
        }
      }
    }
  });

  await t.test('client authentication: each method authenticates a client of that method', async () => {
    for (const method of meta.token_endpoint_auth_methods_supported as string[]) {
      if (method === 'client_secret_basic') {
        assert.equal((await form(tokenEndpoint, bogusCode(), basic(agent.client_id, agent.client_secret))).json?.error, 'invalid_grant', method);
      } else if (method === 'client_secret_post') {
        const created = await writ.admin('POST', `/orgs/${org}/agents`, { name: 'Post agent', tools: ['demo.notes.create'], redirect_uris: [REDIRECT], token_endpoint_auth_method: method });
        assert.equal(created.status, 201, created.text);
        const res = await form(tokenEndpoint, { ...bogusCode(), client_id: created.json.client_id, client_secret: created.json.client_secret });
        assert.equal(res.json?.error, 'invalid_grant', `${method}: ${res.text}`);
      } else if (method === 'private_key_jwt') {
        for (const alg of meta.token_endpoint_auth_signing_alg_values_supported as string[]) {
          const key = await keyFor(alg);
          const created = await writ.admin('POST', `/orgs/${org}/agents`, { name: `Keyed ${alg}`, tools: ['demo.notes.create'], redirect_uris: [REDIRECT], token_endpoint_auth_method: method, jwks: { keys: [key.jwk] } });
          assert.equal(created.status, 201, `${alg}: ${created.text}`);
          const id = created.json.client_id as string;
          const assertion = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: key.jwsAlg, kid: key.jwk.kid! })
            .setIssuer(id).setSubject(id).setAudience(meta.issuer).setIssuedAt().setExpirationTime('1m').sign(key.privateKey);
          const res = await form(tokenEndpoint, { ...bogusCode(), client_id: id, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
          assert.equal(res.json?.error, 'invalid_grant', `${method} with ${alg}: ${res.text}`);
        }
      } else if (method === 'none') {
        // A public client (registered as MCP clients register) with PKCE and no secret.
        const registered = await fetch(meta.registration_endpoint, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] }),
        });
        assert.equal(registered.status, 201, await registered.clone().text());
        const client = (await registered.json()) as { client_id: string };
        const res = await form(tokenEndpoint, { ...bogusCode(), client_id: client.client_id });
        assert.equal(res.json?.error, 'invalid_grant', `${method}: ${res.text}`);
      } else {
        assert.fail(`the test cannot try ${method}: teach it, or stop advertising it`);
      }
    }
  });

  await t.test('DPoP: a proof signed with each advertised algorithm is accepted', async () => {
    for (const alg of meta.dpop_signing_alg_values_supported as string[]) {
      const key = await keyFor(alg);
      const { kid: _kid, use: _use, alg: _alg, ...jwk } = key.jwk;
      const proof = (nonce?: string) => new SignJWT({ htm: 'POST', htu: tokenEndpoint, jti: randomUUID(), ...(nonce ? { nonce } : {}) })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: key.jwsAlg, jwk }).setIssuedAt().sign(key.privateKey);
      let res = await form(tokenEndpoint, bogusCode(), { ...basic(agent.client_id, agent.client_secret), dpop: await proof() });
      if (res.json?.error === 'use_dpop_nonce') res = await form(tokenEndpoint, bogusCode(), { ...basic(agent.client_id, agent.client_secret), dpop: await proof(res.headers.get('dpop-nonce')!) });
      assert.equal(res.json?.error, 'invalid_grant', `DPoP with ${alg}: ${res.text}`);
    }
  });

  await t.test('endpoints: each one answers at its URL', async () => {
    for (const [field, value] of Object.entries(meta)) {
      if (!(field.endsWith('_endpoint') || field === 'jwks_uri') || typeof value !== 'string') continue;
      const url = new URL(value);
      assert.equal(url.origin, new URL(writ.issuer).origin, `${field} is served by Writ`);
      const get = await fetch(url, { redirect: 'manual' });
      const post = await fetch(url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
      assert.ok(get.status !== 404 || post.status !== 404, `${field} (${value}) answers 404 to GET and POST`);
      assert.ok(get.status < 500 && post.status < 500, `${field}: GET ${get.status}, POST ${post.status}`);
    }
  });
});
