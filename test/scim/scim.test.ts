// SCIM 2.0 provisioning (RFC 7643/7644) as a provisioning client drives it, over real HTTP: the
// RFC's shapes for resources, lists, errors and ETags; and a deactivation in the middle of an
// agent's work, which must end everything at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import fc from 'fast-check';
import { seedOrg, startTestWrit, type TestWrit } from '../support/writ.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { DEMO_CLIENT, openConnectLink, startWritWithDemo } from '../support/connect.ts';
import { waitFor } from '../support/wait.ts';
import { createVerifier } from '../../src/verifier/index.ts';
import { Vault } from '../../src/vault/service.ts';
import { LocalKeyProvider, parseMasterKeyRing } from '../../src/vault/crypto.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

interface ScimAnswer { status: number; json: any; etag: string | null; type: string | null }

function scimClient(writ: TestWrit, token: string) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ScimAnswer> => {
    const res = await fetch(`${writ.issuer}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json', ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }), ...headers },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : undefined, etag: res.headers.get('etag'), type: res.headers.get('content-type') };
  };
}

function assertScimError(answer: ScimAnswer, status: number, scimType?: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.json));
  assert.deepEqual(answer.json.schemas, [ERROR]);
  assert.equal(answer.json.status, String(status), 'status is a string (RFC 7644 §3.12)');
  assert.equal(typeof answer.json.detail, 'string');
  if (scimType) assert.equal(answer.json.scimType, scimType);
}

test('a SCIM client\'s sequence: create, filter, patch, deactivate, delete, with groups, ETags and RFC-shaped errors', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ);
  const other = await seedOrg(writ, { name: 'Other' });
  const issued = await writ.admin('POST', `/orgs/${seeded.org.id}/scim/token`);
  assert.equal(issued.status, 201, issued.text);
  const scim = scimClient(writ, issued.json.token);

  // Discovery documents.
  const config = await scim('GET', '/ServiceProviderConfig');
  assert.equal(config.status, 200);
  assert.match(config.type ?? '', /application\/scim\+json/);
  assert.equal(config.json.patch.supported, true);
  assert.equal(config.json.etag.supported, true);
  assert.equal(config.json.filter.supported, true);
  const types = await scim('GET', '/ResourceTypes');
  assert.deepEqual(types.json.Resources.map((r: { id: string }) => r.id).sort(), ['Group', 'User']);
  assert.equal((await scim('GET', `/Schemas/${USER}`)).json.id, USER);

  // Create.
  const created = await scim('POST', '/Users', {
    schemas: [USER], userName: 'alice', externalId: 'idp-4711', name: { formatted: 'Alice Liddell' },
    emails: [{ value: 'alice@xcorp.example', primary: true, type: 'work' }], active: true,
  });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  const alice = created.json;
  assert.deepEqual(alice.schemas, [USER]);
  assert.match(alice.id, /^usr_/);
  assert.equal(alice.userName, 'alice');
  assert.equal(alice.externalId, 'idp-4711');
  assert.equal(alice.active, true);
  assert.equal(alice.emails[0].value, 'alice@xcorp.example');
  assert.equal(alice.meta.resourceType, 'User');
  assert.equal(alice.meta.location, `${writ.issuer}/scim/v2/Users/${alice.id}`);
  assert.equal(created.etag, alice.meta.version, 'the ETag header is meta.version');
  assert.equal(alice.password, undefined);
  assertScimError(await scim('POST', '/Users', { schemas: [USER], userName: 'alice' }), 409, 'uniqueness');
  assertScimError(await scim('POST', '/Users', { schemas: [USER], userName: 'bad name!' }), 400, 'invalidValue');

  // Filter.
  const found = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "alice"')}`);
  assert.equal(found.status, 200);
  assert.deepEqual(found.json.schemas, [LIST]);
  assert.equal(found.json.totalResults, 1);
  assert.equal(found.json.Resources[0].id, alice.id);
  const none = await scim('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody"')}`);
  assert.equal(none.json.totalResults, 0);
  assert.deepEqual(none.json.Resources, []);
  assertScimError(await scim('GET', `/Users?filter=${encodeURIComponent('userName co "ali"')}`), 400, 'invalidFilter');
  // The org's own users only: the other org's john is not there, and its ids are not found.
  const all = await scim('GET', '/Users');
  assert.deepEqual(all.json.Resources.map((u: { userName: string }) => u.userName).sort(), ['alice', 'john']);
  assertScimError(await scim('GET', `/Users/${other.user.id}`), 404);
  const second = await scim('GET', '/Users?startIndex=2&count=1');
  assert.deepEqual([second.json.totalResults, second.json.startIndex, second.json.itemsPerPage, second.json.Resources.length], [2, 2, 1, 1]);
  assert.equal(second.json.Resources[0].id, all.json.Resources[1].id, 'pages follow the list\'s order');

  // Conditional GET and PATCH with ETags.
  assert.equal((await scim('GET', `/Users/${alice.id}`, undefined, { 'if-none-match': created.etag! })).status, 304);
  const renamed = await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Alice L.' }] }, { 'if-match': created.etag! });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.json));
  assert.equal(renamed.json.displayName, 'Alice L.');
  assert.notEqual(renamed.etag, created.etag, 'a change changes the version');
  assertScimError(await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Stale' }] }, { 'if-match': created.etag! }), 412);
  assert.equal((await scim('GET', `/Users/${alice.id}`)).json.displayName, 'Alice L.', 'a refused PATCH changed nothing');
  assertScimError(await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'password', value: 'x' }] }), 400, 'invalidPath');
  // What Entra ID and Okta send by default for attributes Writ does not keep is accepted and not stored.
  const extra = await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [
    { op: 'add', path: 'title', value: 'Analyst' }, { op: 'replace', path: 'name.givenName', value: 'Alice' },
    { op: 'add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555' },
    { op: 'replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: 'Finance' },
    { op: 'replace', value: { preferredLanguage: 'en', 'name.familyName': 'Liddell' } },
  ] });
  assert.equal(extra.status, 200, JSON.stringify(extra.json));
  assert.equal(extra.json.title, undefined);
  assert.equal(extra.etag, renamed.etag, 'nothing Writ keeps changed');

  // Groups, with members: visible on the user and through the directory (for policy and approvals).
  const group = await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Finance', members: [{ value: alice.id }] });
  assert.equal(group.status, 201, JSON.stringify(group.json));
  assert.deepEqual(group.json.members.map((m: { value: string }) => m.value), [alice.id]);
  assertScimError(await scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Strangers', members: [{ value: other.user.id }] }), 400, 'invalidValue');
  assert.deepEqual((await scim('GET', `/Users/${alice.id}`)).json.groups.map((g: { display: string }) => g.display), ['Finance']);
  assert.deepEqual((await writ.store.directory.listGroupsOfUser(seeded.org.id, alice.id)).map((g) => g.display_name), ['Finance']);
  const added = await scim('PATCH', `/Groups/${group.json.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: seeded.user.id }] }] });
  assert.equal(added.json.members.length, 2);
  const removed = await scim('PATCH', `/Groups/${group.json.id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: `members[value eq "${seeded.user.id}"]` }] });
  assert.deepEqual(removed.json.members.map((m: { value: string }) => m.value), [alice.id]);
  assert.equal((await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "finance"')}`)).json.totalResults, 1);
  assert.equal((await scim('GET', `/Groups/${group.json.id}`, undefined, { 'if-none-match': removed.etag! })).status, 304);
  assertScimError(await scim('DELETE', `/Groups/${group.json.id}`, undefined, { 'if-match': added.etag! }), 412);

  // Deactivate (the path-less form Entra ID sends, with a capitalised op), then re-activate.
  const off = await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', value: { active: false } }] });
  assert.equal(off.status, 200, JSON.stringify(off.json));
  assert.equal(off.json.active, false);
  assert.equal(await writ.store.directory.getUser(seeded.org.id, alice.id), undefined, 'a disabled user is not found by sign-in lookups');
  const on = await scim('PATCH', `/Users/${alice.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: true }] });
  assert.equal(on.json.active, true);
  const put = await scim('PUT', `/Users/${alice.id}`, { schemas: [USER], userName: 'alice', active: false, emails: [{ value: 'alice@xcorp.example' }] });
  assert.equal(put.status, 200);
  assert.equal(put.json.active, false);
  assert.equal(put.json.displayName, undefined, 'PUT replaces: an attribute left out is cleared');

  // Delete: gone, and gone from its group.
  assert.equal((await scim('DELETE', `/Users/${alice.id}`)).status, 204);
  assertScimError(await scim('GET', `/Users/${alice.id}`), 404);
  assert.deepEqual((await scim('GET', `/Groups/${group.json.id}`)).json.members, []);
  const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?user_id=${alice.id}&limit=100`)).json.events.map((e: { type: string }) => e.type);
  for (const type of ['user.created', 'user.updated', 'user.disabled', 'user.enabled', 'user.deleted']) assert.ok(events.includes(type), `${type} is on the record`);

  // Authentication: another org's token, a made-up one, none, and a rotated-out one are refused.
  assertScimError(await scimClient(writ, `${other.org.id}.nope`)('GET', '/Users'), 401);
  assertScimError(await scimClient(writ, 'garbage')('GET', '/Users'), 401);
  const rotated = await writ.admin('POST', `/orgs/${seeded.org.id}/scim/token`);
  assertScimError(await scim('GET', '/Users'), 401);
  assert.equal((await scimClient(writ, rotated.json.token)('GET', '/Users')).status, 200);
  assert.equal((await writ.store.scim.getToken(seeded.org.id))!.digest.includes(rotated.json.token.split('.')[1]), false, 'the token is stored as a digest');
  assertScimError(await scimClient(writ, rotated.json.token)('GET', '/Nothing'), 404);
});

test('deactivation in the middle of an agent\'s work ends everything at once: executor, introspection, a feed follower, the upstream account, one event naming the cause', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: ['demo.notes.create', 'demo.notes.list'] });
  const token = (await writ.admin('POST', `/orgs/${seeded.org.id}/scim/token`)).json.token as string;
  const scim = scimClient(writ, token);

  // John delegates, connects his notes account, and the agent is at work.
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create', 'demo.notes.list'] }] });
  const link = await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
  assert.match((await openConnectLink(run.browser, link.json.authorization_url, { providerUser: seeded.user.username })).text, /is connected/);
  const mint = async () => {
    const res = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['demo.notes.create']) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    return res.json.access_token as string;
  };
  const execute = async (capability: string) => {
    const res = await fetch(`${writ.issuer}/v1/tools/demo.notes.create/execute`, {
      method: 'POST', headers: { authorization: `Bearer ${capability}`, 'content-type': 'application/json' },
      body: JSON.stringify({ input: { title: 'quarterly report', body: 'draft' } }),
    });
    return { status: res.status, json: await res.json() as any };
  };
  const capability = await mint();
  assert.equal((await execute(capability)).status, 200, 'the agent works before');
  const verifier = createVerifier({ issuer: writ.issuer, audience: writ.executorResource, feed: { wait: 1 } });
  t.after(() => verifier.close());
  await verifier.verify(capability, { tool: 'demo.notes.create', resource: 'demo:notes' }).catch((err: { code?: string }) => {
    // A resource the capability does not name is a refusal of its own, not a revocation.
    assert.notEqual(err.code, 'revoked');
  });
  const client = await agentClient(writ, seeded.agent);
  assert.equal((await oauth.tokenIntrospection(client, capability)).active, true);
  // The upstream refresh token, as the provider knows it, to ask the provider afterwards.
  const vault = new Vault({ store: writ.store.vault, keys: new LocalKeyProvider(parseMasterKeyRing(writ.masterKey)) });
  const { credential } = await vault.readCredential(seeded.org.id, link.json.id);
  assert.equal(credential.type, 'oauth2');
  const upstreamRefresh = credential.type === 'oauth2' ? credential.refresh_token : undefined;
  assert.ok(upstreamRefresh, 'the demo provider issued a refresh token');
  const seqBefore = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?limit=1`)).json.events[0].seq as number;

  // The identity provider deactivates John.
  const off = await scim('PATCH', `/Users/${seeded.user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });
  assert.equal(off.status, 200, JSON.stringify(off.json));

  // The next execute, introspection and exchange refuse at once.
  assert.deepEqual((await execute(capability)).json.error?.code, 'invalid_token', 'the executor refuses');
  assert.equal((await oauth.tokenIntrospection(client, capability)).active, false, 'introspection says inactive');
  const again = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['demo.notes.create']) });
  assert.equal(again.status, 400);
  assert.equal(again.json.error, 'invalid_grant', 'the delegated token no longer exchanges');
  // A verifier following the feed learns it from the feed.
  await waitFor('the feed follower to refuse', async () => {
    try {
      await verifier.verify(capability, { tool: 'demo.notes.create' });
      return false;
    } catch (err) {
      return (err as { code?: string }).code === 'revoked';
    }
  });
  // The provider revoked John's token at Writ's request.
  const upstream = await fetch(`${demo.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${DEMO_CLIENT.client_id}:${DEMO_CLIENT.client_secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: upstreamRefresh! }),
  });
  assert.equal(upstream.status, 400);
  assert.equal(((await upstream.json()) as { error: string }).error, 'invalid_grant', 'the upstream refresh token is revoked');
  assert.deepEqual((await writ.admin('GET', `/orgs/${seeded.org.id}/connected-accounts`)).json.connected_accounts, []);
  // His browser session at Writ's authorization server is gone: a new authorization asks him to sign in.
  assert.equal(await writ.store.oidc.destroySessionsOf(seeded.user.id), 0, 'no oidc-provider session of his is left');

  // One event names the cause, committed with the revocation.
  const after = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?limit=100`)).json.events.filter((e: { seq: number }) => e.seq > seqBefore);
  const disabled = after.filter((e: { type: string }) => e.type === 'user.disabled');
  assert.equal(disabled.length, 1, 'one user.disabled event');
  assert.equal(disabled[0].details.cause, 'scim');
  assert.equal(disabled[0].actor.via, 'scim');
  assert.equal(disabled[0].details.grants_revoked, 1);
  assert.ok(disabled[0].details.sessions_ended >= 1, 'his oidc-provider session ended');
  assert.ok(disabled[0].details.capabilities_revoked >= 1);
  assert.deepEqual(disabled[0].details.accounts_disconnected, [link.json.id]);
  assert.ok(after.some((e: { type: string; details: { upstream?: string } }) => e.type === 'account.disconnected' && e.details.upstream === 'revoked'));
  assert.ok(after.filter((e: { type: string }) => e.type === 'grant.revoked').every((e: { details: { reason: string } }) => /disabled \(scim\)/.test(e.details.reason)));
  assert.equal((await writ.admin('POST', `/orgs/${seeded.org.id}/audit/verify`)).json.ok, true);

  // Re-activation brings nothing back.
  assert.equal((await scim('PATCH', `/Users/${seeded.user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: true }] })).json.active, true);
  assert.equal((await execute(capability)).json.error?.code, 'invalid_token');
  assert.equal((await oauth.tokenIntrospection(client, capability)).active, false);
});

test('generated SCIM requests: never a 5xx, always SCIM\'s error shape, and a refused request changes nothing', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const token = (await writ.admin('POST', `/orgs/${seeded.org.id}/scim/token`)).json.token as string;
  const scim = scimClient(writ, token);
  const user = (await scim('POST', '/Users', { schemas: [USER], userName: 'target' })).json;
  const value = fc.oneof(fc.string(), fc.boolean(), fc.integer(), fc.constant(null), fc.array(fc.record({ value: fc.string() }), { maxLength: 2 }), fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue(), { maxKeys: 3 }));
  const operation = fc.record({
    op: fc.constantFrom('add', 'replace', 'remove', 'Replace', 'delete', ''),
    path: fc.option(fc.constantFrom('active', 'userName', 'displayName', 'emails', 'roles', 'externalId', 'name', 'groups', 'id', 'meta.version', 'members[value eq "x"]', 'emails[type eq "work"].value'), { nil: undefined }),
    value: fc.option(value, { nil: undefined }),
  });
  await fc.assert(fc.asyncProperty(
    fc.oneof(
      fc.record({ kind: fc.constant('patch' as const), body: fc.record({ schemas: fc.constantFrom([PATCH], ['x']), Operations: fc.array(operation, { minLength: 1, maxLength: 3 }) }) }),
      fc.record({ kind: fc.constant('filter' as const), filter: fc.oneof(fc.string(), fc.constantFrom('userName eq "target"', 'userName eq target', 'userName eq "\\"', 'id eq "x"', 'userName eq "a" or userName eq "b"')) }),
      fc.record({ kind: fc.constant('put' as const), body: fc.dictionary(fc.constantFrom('schemas', 'userName', 'active', 'emails', 'roles', 'password', 'id'), value) }),
    ),
    async (request) => {
      const before = await scim('GET', `/Users/${user.id}`);
      let answer: ScimAnswer;
      if (request.kind === 'patch') answer = await scim('PATCH', `/Users/${user.id}`, request.body);
      else if (request.kind === 'put') answer = await scim('PUT', `/Users/${user.id}`, request.body);
      else answer = await scim('GET', `/Users?filter=${encodeURIComponent(request.filter)}`);
      assert.ok(answer.status < 500, `${JSON.stringify(request)} → ${answer.status} ${JSON.stringify(answer.json)}`);
      if (answer.status >= 400) {
        assert.deepEqual(answer.json.schemas, [ERROR]);
        assert.equal(answer.json.status, String(answer.status));
        assert.equal((await scim('GET', `/Users/${user.id}`)).etag, before.etag, 'a refused request changed nothing');
      }
      // Put the user back for the next run.
      await scim('PUT', `/Users/${user.id}`, { schemas: [USER], userName: 'target', active: true });
    },
  ), { numRuns: 150 });
});
