// User and agent lifecycle through the admin API, over real HTTP: update, disable, re-enable and
// delete, each end of authority refused everywhere at once; and an agent's secret and keys
// rotated with an overlap window the test moves past on the server's clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { exportJWK, generateKeyPair } from 'jose';
import { seedOrg, startTestWrit, type TestWrit } from '../support/writ.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { skippingClock } from '../support/clock.ts';

const TOOL = 'github.issues.get';

async function execute(writ: TestWrit, capability: string) {
  const res = await fetch(`${writ.issuer}/v1/tools/${TOOL}/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${capability}`, 'content-type': 'application/json' },
    body: JSON.stringify({ input: { owner: 'acme', repo: 'api', issue_number: 1 } }),
  });
  return { status: res.status, code: ((await res.json()) as { error?: { code: string } }).error?.code };
}

/** True when the agent's credentials authenticate at the introspection endpoint. */
async function authenticates(config: oauth.Configuration): Promise<boolean> {
  try {
    await oauth.tokenIntrospection(config, 'not-a-token');
    return true;
  } catch (err) {
    if ((err as { error?: string }).error === 'invalid_client') return false;
    throw err;
  }
}

async function events(writ: TestWrit, org_id: string, type: string) {
  return (await writ.admin('GET', `/orgs/${org_id}/audit?type=${type}&limit=100`)).json.events as Array<{ subject: Record<string, string>; details: Record<string, unknown>; actor: Record<string, unknown> }>;
}

test('a user is updated, disabled (everything ends, sign-in refused), enabled (nothing comes back) and deleted', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: [TOOL] });
  const org = seeded.org.id;
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
  const cap = (await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([TOOL]) })).json.access_token as string;
  assert.notEqual((await execute(writ, cap)).status, 401);

  const updated = await writ.admin('PATCH', `/orgs/${org}/users/${seeded.user.id}`, { email: 'john@xcorp.example', display_name: 'John Smith', roles: ['admin'] });
  assert.equal(updated.status, 200, updated.text);
  assert.equal(updated.json.email, 'john@xcorp.example');
  assert.deepEqual(updated.json.roles, ['admin']);
  assert.equal(updated.json.password_hash, undefined, 'no hash in an answer');
  assert.equal((await writ.admin('PATCH', `/orgs/${org}/users/${seeded.user.id}`, { org_id: 'org_other' })).status, 400, 'unknown fields are refused');
  assert.equal((await writ.admin('PATCH', `/orgs/${org}/users/usr_nobody`, { email: 'x@y.example' })).status, 404);

  const disabled = await writ.admin('POST', `/orgs/${org}/users/${seeded.user.id}/disable`);
  assert.equal(disabled.status, 200, disabled.text);
  assert.ok(disabled.json.disabled_at);
  assert.deepEqual(await execute(writ, cap), { status: 401, code: 'invalid_token' });
  assert.equal((await oauth.tokenIntrospection(await agentClient(writ, seeded.agent), cap)).active, false);
  // Sign-in is refused: the consent flow never reaches the agent's callback.
  const refused = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
  assert.equal(refused.tokens, undefined, 'a disabled user cannot delegate');
  // Disabling twice ends nothing new and records nothing new.
  assert.equal((await writ.admin('POST', `/orgs/${org}/users/${seeded.user.id}/disable`)).status, 200);
  const once = await events(writ, org, 'user.disabled');
  assert.equal(once.length, 1);
  assert.equal(once[0]!.details.cause, 'admin');

  const enabled = await writ.admin('POST', `/orgs/${org}/users/${seeded.user.id}/enable`);
  assert.equal(enabled.status, 200);
  assert.equal(enabled.json.disabled_at, undefined);
  assert.deepEqual(await execute(writ, cap), { status: 401, code: 'invalid_token' }, 'nothing that ended comes back');
  const again = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
  assert.ok(again.tokens, 'an enabled user delegates again');

  assert.equal((await writ.admin('DELETE', `/orgs/${org}/users/${seeded.user.id}`)).status, 204);
  assert.equal((await writ.admin('GET', `/orgs/${org}/users/${seeded.user.id}`)).status, 404);
  assert.equal((await oauth.tokenIntrospection(await agentClient(writ, seeded.agent), again.tokens!.access_token)).active, false, 'the new delegation ended with the deletion');
  const deleted = await events(writ, org, 'user.deleted');
  assert.equal(deleted.length, 1);
  assert.equal(deleted[0]!.details.grants_revoked, 1);
  assert.equal((await writ.admin('DELETE', `/orgs/${org}/users/${seeded.user.id}`)).status, 404);
  assert.equal((await writ.admin('POST', `/orgs/${org}/audit/verify`)).json.ok, true);
});

test('an agent is updated, disabled (no client authentication, its capabilities refused), enabled and deleted', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: [TOOL] });
  const org = seeded.org.id;
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
  const cap = (await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([TOOL]) })).json.access_token as string;
  const config = await agentClient(writ, seeded.agent);
  assert.equal(await authenticates(config), true);

  const renamed = await writ.admin('PATCH', `/orgs/${org}/agents/${seeded.agent.client_id}`, { name: 'Renamed agent', tools: [TOOL, 'github.issues.update'] });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.json.name, 'Renamed agent');
  assert.equal(renamed.json.client_secret_digest, undefined, 'no digest in an answer');
  assert.equal((await writ.admin('PATCH', `/orgs/${org}/agents/${seeded.agent.client_id}`, { client_secret_digest: 'x' })).status, 400);

  assert.equal((await writ.admin('POST', `/orgs/${org}/agents/${seeded.agent.client_id}/disable`)).status, 200);
  assert.equal(await authenticates(config), false, 'a disabled agent cannot authenticate');
  assert.deepEqual(await execute(writ, cap), { status: 401, code: 'invalid_token' });
  const disabled = await events(writ, org, 'agent.disabled');
  assert.equal(disabled.length, 1);
  assert.equal(disabled[0]!.details.grants_revoked, 1);
  assert.ok((disabled[0]!.details.capabilities_revoked as number) >= 1);
  assert.ok((await writ.admin('GET', `/orgs/${org}/agents/${seeded.agent.client_id}`)).json.disabled_at, 'the admin still sees it');

  assert.equal((await writ.admin('POST', `/orgs/${org}/agents/${seeded.agent.client_id}/enable`)).status, 200);
  assert.equal(await authenticates(config), true);
  assert.deepEqual(await execute(writ, cap), { status: 401, code: 'invalid_token' }, 'nothing that ended comes back');

  assert.equal((await writ.admin('DELETE', `/orgs/${org}/agents/${seeded.agent.client_id}`)).status, 204);
  assert.equal(await authenticates(config), false);
  const deleted = await events(writ, org, 'agent.deleted');
  assert.equal(deleted.length, 1);
  assert.equal(deleted[0]!.details.cause, 'admin');
  assert.equal((await writ.admin('GET', `/orgs/${org}/agents/${seeded.agent.client_id}`)).status, 404);
});

test('a client secret rotates with an overlap: both work until it ends, then only the new one; overlap 0 ends the old at once', async (t) => {
  const clock = skippingClock();
  const writ = await startTestWrit({ writ: { clock } });
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: [TOOL] });
  const path = `/orgs/${seeded.org.id}/agents/${seeded.agent.client_id}/secret`;

  const rotated = await writ.admin('POST', path, { overlap_seconds: 600 });
  assert.equal(rotated.status, 200, rotated.text);
  assert.ok(rotated.json.previous_secret_expires_at);
  const fresh = { client_id: seeded.agent.client_id, client_secret: rotated.json.client_secret as string };
  assert.equal(await authenticates(await agentClient(writ, seeded.agent)), true, 'the old secret works during the overlap');
  assert.equal(await authenticates(await agentClient(writ, fresh)), true, 'the new secret works');
  clock.advance(601_000);
  assert.equal(await authenticates(await agentClient(writ, seeded.agent)), false, 'the old secret stops when the overlap ends');
  assert.equal(await authenticates(await agentClient(writ, fresh)), true);

  const immediate = await writ.admin('POST', path, { overlap_seconds: 0 });
  assert.equal(await authenticates(await agentClient(writ, fresh)), false, 'overlap 0 ends the old secret at once');
  assert.equal(await authenticates(await agentClient(writ, { client_id: seeded.agent.client_id, client_secret: immediate.json.client_secret })), true);
  assert.equal((await writ.admin('POST', path, { overlap_seconds: -1 })).status, 400);
  const rotations = await events(writ, seeded.org.id, 'agent.credentials_rotated');
  assert.equal(rotations.length, 2);
  assert.ok(!JSON.stringify(rotations).includes(fresh.client_secret), 'no secret on the record');
});

test('private_key_jwt keys rotate with an overlap: assertions signed by the old key verify until it ends', async (t) => {
  const clock = skippingClock();
  const writ = await startTestWrit({ writ: { clock } });
  t.after(() => writ.stop());
  const org = (await writ.admin('POST', '/orgs', { name: 'Keys' })).json.id as string;
  const keyPair = async (kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    return { privateKey, kid, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
  };
  const oldKey = await keyPair('old');
  const newKey = await keyPair('new');
  const agent = (await writ.admin('POST', `/orgs/${org}/agents`, { name: 'Keyed', tools: [TOOL], token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [oldKey.jwk] } })).json;
  const signedBy = (key: { privateKey: CryptoKey; kid: string }) => oauth.discovery(new URL(writ.issuer), agent.client_id, undefined, oauth.PrivateKeyJwt({ key: key.privateKey, kid: key.kid }), {
    execute: [oauth.allowInsecureRequests], algorithm: 'oauth2',
  });
  assert.equal(await authenticates(await signedBy(oldKey)), true);
  assert.equal(await authenticates(await signedBy(newKey)), false, 'an unknown key is refused');

  const rotated = await writ.admin('PUT', `/orgs/${org}/agents/${agent.client_id}/keys`, { jwks: { keys: [newKey.jwk] }, overlap_seconds: 300 });
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal(await authenticates(await signedBy(newKey)), true, 'the new key works at once');
  assert.equal(await authenticates(await signedBy(oldKey)), true, 'the old key works during the overlap');
  clock.advance(301_000);
  assert.equal(await authenticates(await signedBy(oldKey)), false, 'the old key stops when the overlap ends');
  assert.equal(await authenticates(await signedBy(newKey)), true);

  assert.equal((await writ.admin('PUT', `/orgs/${org}/agents/${agent.client_id}/keys`, { jwks: { keys: [{ ...newKey.jwk, d: 'private' }] } })).status, 400, 'private keys are refused');
  assert.equal((await writ.admin('PUT', `/orgs/${org}/agents/${agent.client_id}/keys`, { jwks_uri: 'http://keys.example/jwks' })).status, 400, 'a jwks_uri must be https');
  assert.equal((await writ.admin('POST', `/orgs/${org}/agents/${agent.client_id}/secret`, {})).status, 400, 'a key-authenticated agent has no secret to rotate');
});
