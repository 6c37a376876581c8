// The agent SDK against a real Writ: exchange in both formats, with DPoP and with
// private_key_jwt; execute through the real executor and the demo provider; typed errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, generateKeyPair, decodeJwt } from 'jose';
import { WritClient, TokenExchangeError, ExecutorError } from '../../src/client/index.ts';
import { createVerifier } from '../../src/verifier/index.ts';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';

const TOOLS = ['demo.notes.create', 'demo.notes.get', 'demo.notes.list'];

test('exchange through the SDK: JWT and Biscuit capabilities that a verifier accepts, DPoP-bound on request, refusals typed', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const client = new WritClient({ issuer: writ.issuer, clientId: seeded.agent.client_id, clientSecret: seeded.agent.client_secret });
  const verifier = createVerifier({ issuer: writ.issuer, audience: writ.executorResource });
  t.after(() => verifier.close());

  const jwt = await client.exchange({ subjectToken: run.tokens!.access_token, tool: 'demo.notes.create' });
  assert.equal(jwt.tokenType, 'Bearer');
  assert.equal(jwt.issuedTokenType, 'urn:ietf:params:oauth:token-type:jwt');
  assert.ok(jwt.expiresIn > 0);
  assert.deepEqual(jwt.authorizationDetails.flatMap((d) => d.tools), ['demo.notes.create']);
  assert.equal((await verifier.verify(jwt.token, { tool: 'demo.notes.create' })).org_id, seeded.org.id);

  const biscuit = await client.exchange({ subjectToken: run.tokens!.access_token, tool: 'demo.notes.create', format: 'biscuit' });
  assert.equal(biscuit.issuedTokenType, 'urn:writ:params:oauth:token-type:biscuit');
  assert.equal((await verifier.verify(biscuit.token, { tool: 'demo.notes.create' })).org_id, seeded.org.id);

  const bound = await client.exchange({ subjectToken: run.tokens!.access_token, tool: 'demo.notes.create', dpop: true });
  assert.equal(bound.tokenType, 'DPoP');
  const { publicJwk } = await client.dpopKey();
  const cnf = (decodeJwt(bound.token) as { cnf?: { jkt?: string } }).cnf;
  const { calculateJwkThumbprint } = await import('jose');
  assert.equal(cnf?.jkt, await calculateJwkThumbprint(publicJwk), 'bound to this client\'s key');
  await assert.rejects(verifier.verify(bound.token, { tool: 'demo.notes.create' }), (e: any) => e.code === 'dpop_required');

  await assert.rejects(client.exchange({ subjectToken: run.tokens!.access_token, tool: 'notion.pages.create' }),
    (e: unknown) => e instanceof TokenExchangeError && e.code === 'invalid_authorization_details' && e.status === 400 && !e.message.includes(run.tokens!.access_token));
  await assert.rejects(new WritClient({ issuer: writ.issuer, clientId: seeded.agent.client_id, clientSecret: 'wrong' }).exchange({ subjectToken: run.tokens!.access_token, tool: 'demo.notes.create' }),
    (e: unknown) => e instanceof TokenExchangeError && e.code === 'invalid_client');
  assert.throws(() => new WritClient({ issuer: writ.issuer, clientId: 'x' }), TypeError);
});

test('private_key_jwt: the SDK signs a client assertion with a JWK', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  const created = await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, {
    name: 'Keyed agent', redirect_uris: [seeded.redirect_uri], tools: ['demo.notes.create'], token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [{ ...(await exportJWK(publicKey)), alg: 'EdDSA', use: 'sig' }] },
  });
  assert.equal(created.status, 201, created.text);
  // Delegation goes through openid-client with a secret; the keyed agent gets an org-level grant instead.
  const grant = await writ.admin('POST', `/orgs/${seeded.org.id}/agents/${created.json.client_id}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  assert.equal(grant.status, 201, grant.text);
  const client = new WritClient({ issuer: writ.issuer, clientId: created.json.client_id, privateKey: jwk });
  // client_credentials through the same client authentication, then exchange.
  const cc = await client.clientCredentials();
  const ccJson = { access_token: cc.accessToken };
  const cap = await client.exchange({ subjectToken: ccJson.access_token, tool: 'demo.notes.create' });
  assert.equal((decodeJwt(cap.token) as any).client_id, created.json.client_id);

  const wrongKey = await exportJWK((await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })).privateKey);
  await assert.rejects(new WritClient({ issuer: writ.issuer, clientId: created.json.client_id, privateKey: wrongKey }).exchange({ subjectToken: ccJson.access_token, tool: 'demo.notes.create' }),
    (e: unknown) => e instanceof TokenExchangeError && e.code === 'invalid_client');
});

test('execute through the SDK against the real executor: data, typed refusals, DPoP at the executor', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: TOOLS });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: TOOLS }] });
  const client = new WritClient({ issuer: writ.issuer, clientId: seeded.agent.client_id, clientSecret: seeded.agent.client_secret });
  const subjectToken = run.tokens!.access_token;

  // Not connected yet: the error carries the link.
  const early = await client.exchange({ subjectToken, tool: 'demo.notes.list' });
  await assert.rejects(client.execute('demo.notes.list', {}, early), (e: unknown) =>
    e instanceof ExecutorError && e.code === 'not_connected' && e.status === 409 && typeof e.connectUrl === 'string' && e.connectUrl.startsWith(writ.issuer));

  const created = await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
  const page = await openConnectLink(run.browser, created.json.authorization_url, { providerUser: seeded.user.username });
  assert.match(page.text, /is connected/);

  const cap = await client.exchange({ subjectToken, tool: 'demo.notes.create' });
  const note = await client.execute<{ title: string; owner: string }>('demo.notes.create', { title: 'from the SDK', body: 'hello' }, cap);
  assert.equal(note.title, 'from the SDK');
  assert.equal(note.owner, seeded.user.username);

  const bound = await client.exchange({ subjectToken, tool: 'demo.notes.create', dpop: true, format: 'biscuit' });
  assert.equal((await client.execute<{ title: string }>('demo.notes.create', { title: 'bound', body: 'dpop' }, bound)).title, 'bound');
  // The same DPoP-bound token presented as a plain bearer is refused.
  await assert.rejects(client.execute('demo.notes.create', { title: 'x', body: 'y' }, bound.token), (e: unknown) => e instanceof ExecutorError && e.code === 'invalid_token');

  await assert.rejects(client.execute('demo.notes.list', {}, cap), (e: unknown) => e instanceof ExecutorError && e.code === 'insufficient_scope' && e.status === 403);
  await assert.rejects(client.execute('demo.notes.create', { title: '' }, cap), (e: unknown) => e instanceof ExecutorError && e.code === 'invalid_input');
  await assert.rejects(client.execute('demo.nothing.here', {}, cap), (e: unknown) => e instanceof ExecutorError && e.code === 'unknown_tool');

});
