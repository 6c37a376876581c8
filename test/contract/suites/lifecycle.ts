import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../../src/core/ids.ts';
import { isWritError } from '../../../src/errors/index.ts';
import type { GroupRecord } from '../../../src/storage/index.ts';
import { agentRecord, freshStore, isoAt, plain, T0, twoOrgs, userRecord, type ContractSuite } from '../support/harness.ts';

const isConflict = (err: unknown) => isWritError(err) && err.code === 'conflict';

function groupRecord(org_id: string, display_name: string, members: string[] = []): GroupRecord {
  return { id: newId('grp'), org_id, display_name, members, created_at: T0, updated_at: T0 };
}

// The lifecycle the directory keeps: users and agents updated, disabled (invisible to every
// authentication lookup), enabled and deleted; groups of users; sessions ended by account.
export const lifecycleContract: ContractSuite = (adapter, factory) => {
  describe(`directory lifecycle and groups (${adapter})`, () => {
    test('users: updated field by field, null clears, disabled users are left out of lookups unless asked, deleted with their memberships', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a, b] = await twoOrgs(store);
      const alice = userRecord(a.id, 'alice');
      await store.directory.createUser(a.id, alice);
      await store.directory.createUser(a.id, userRecord(a.id, 'bob'));
      const updated = await store.directory.updateUser(a.id, alice.id, { display_name: 'Alice L.', external_id: 'idp-1', email: null, roles: ['admin'] }, isoAt(1));
      assert.equal(updated?.display_name, 'Alice L.');
      assert.equal(updated?.external_id, 'idp-1');
      assert.equal(updated?.email, undefined, 'null clears');
      assert.deepEqual(updated?.roles, ['admin']);
      assert.equal(updated?.updated_at, isoAt(1));
      assert.equal(updated?.password_hash, alice.password_hash, 'fields not named are left alone');
      await assert.rejects(store.directory.updateUser(a.id, alice.id, { username: 'bob' }, isoAt(2)), isConflict);
      assert.equal(await store.directory.updateUser(b.id, alice.id, { display_name: 'X' }, isoAt(2)), undefined, 'another org finds nothing');

      await store.directory.updateUser(a.id, alice.id, { disabled_at: isoAt(3) }, isoAt(3));
      assert.equal(await store.directory.getUser(a.id, alice.id), undefined);
      assert.equal(await store.directory.findUserByUsername(a.id, 'alice'), undefined);
      assert.equal((await store.directory.getUser(a.id, alice.id, { includeDisabled: true }))?.disabled_at, isoAt(3));
      assert.equal((await store.directory.findUserByUsername(a.id, 'alice', { includeDisabled: true }))?.id, alice.id);
      assert.equal((await store.directory.listUsers(a.id)).length, 2, 'lists show disabled users');
      await store.directory.updateUser(a.id, alice.id, { disabled_at: null }, isoAt(4));
      assert.equal((await store.directory.getUser(a.id, alice.id))?.id, alice.id);

      const group = groupRecord(a.id, 'Finance', [alice.id]);
      await store.directory.createGroup(a.id, group);
      assert.equal(await store.directory.deleteUser(b.id, alice.id), false);
      assert.equal(await store.directory.deleteUser(a.id, alice.id), true);
      assert.equal(await store.directory.getUser(a.id, alice.id, { includeDisabled: true }), undefined);
      assert.deepEqual((await store.directory.getGroup(a.id, group.id))?.members, [], 'memberships go with the user');
      assert.equal(await store.directory.deleteUser(a.id, alice.id), false);
    });

    test('agents: updated, disabled (no client authentication lookup), overlap fields round-trip, enabled', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a, b] = await twoOrgs(store);
      const agent = agentRecord(a.id);
      await store.directory.createAgent(a.id, agent);
      const previous_secret = { digest: 'cd'.repeat(32), expires_at: isoAt(10) };
      const previous_jwks = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'old' }], expires_at: isoAt(10) };
      const updated = await store.directory.updateAgent(a.id, agent.client_id, { name: 'Renamed', tools: ['notion.pages.create'], previous_secret, previous_jwks, jwks_uri: 'https://agent.example/jwks' }, isoAt(1));
      assert.deepEqual(plain(updated?.previous_secret), previous_secret);
      assert.deepEqual(plain(updated?.previous_jwks), previous_jwks);
      assert.equal(updated?.jwks_uri, 'https://agent.example/jwks');
      assert.deepEqual(updated?.tools, ['notion.pages.create']);
      assert.equal(updated?.client_secret_digest, agent.client_secret_digest);
      const cleared = await store.directory.updateAgent(a.id, agent.client_id, { previous_secret: null, jwks_uri: null }, isoAt(2));
      assert.equal(cleared?.previous_secret, undefined);
      assert.equal(cleared?.jwks_uri, undefined);
      assert.equal(await store.directory.updateAgent(b.id, agent.client_id, { name: 'X' }, isoAt(2)), undefined);

      await store.directory.updateAgent(a.id, agent.client_id, { disabled_at: isoAt(3) }, isoAt(3));
      assert.equal(await store.directory.findAgentForClientAuthentication(agent.client_id), undefined, 'a disabled agent does not authenticate');
      assert.equal(await store.directory.getAgent(a.id, agent.client_id), undefined);
      assert.equal((await store.directory.getAgent(a.id, agent.client_id, { includeDisabled: true }))?.disabled_at, isoAt(3));
      assert.equal((await store.directory.listAgents(a.id)).length, 1);
      await store.directory.updateAgent(a.id, agent.client_id, { disabled_at: null }, isoAt(4));
      assert.equal((await store.directory.findAgentForClientAuthentication(agent.client_id))?.org_id, a.id);
    });

    test('groups: unique names within an org, members deduplicated, found by member, updated and deleted within their org only', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a, b] = await twoOrgs(store);
      const finance = groupRecord(a.id, 'Finance', ['usr_1', 'usr_2', 'usr_1']);
      await store.directory.createGroup(a.id, finance);
      assert.deepEqual((await store.directory.getGroup(a.id, finance.id))?.members, ['usr_1', 'usr_2']);
      await assert.rejects(store.directory.createGroup(a.id, groupRecord(a.id, 'Finance')), isConflict);
      await store.directory.createGroup(b.id, groupRecord(b.id, 'Finance', ['usr_1']));
      const ops = groupRecord(a.id, 'Ops', ['usr_2']);
      await store.directory.createGroup(a.id, ops);
      assert.deepEqual((await store.directory.listGroupsOfUser(a.id, 'usr_2')).map((g) => g.display_name).sort(), ['Finance', 'Ops']);
      assert.deepEqual((await store.directory.listGroupsOfUser(a.id, 'usr_1')).map((g) => g.id), [finance.id], 'only this org\'s groups');
      assert.equal(await store.directory.getGroup(b.id, finance.id), undefined);
      const renamed = await store.directory.updateGroup(a.id, finance.id, { display_name: 'Money', members: ['usr_3', 'usr_3'], external_id: 'ext' }, isoAt(1));
      assert.deepEqual(renamed?.members, ['usr_3']);
      assert.equal(renamed?.external_id, 'ext');
      assert.equal(renamed?.updated_at, isoAt(1));
      await assert.rejects(store.directory.updateGroup(a.id, finance.id, { display_name: 'Ops' }, isoAt(2)), isConflict);
      assert.equal(await store.directory.updateGroup(b.id, finance.id, { display_name: 'X' }, isoAt(2)), undefined);
      assert.equal(await store.directory.deleteGroup(b.id, finance.id), false);
      assert.equal(await store.directory.deleteGroup(a.id, finance.id), true);
      assert.deepEqual((await store.directory.listGroups(a.id)).map((g) => g.id), [ops.id]);
    });

    test('oidc sessions end by account, and only that account\'s', async (t) => {
      const { store } = await freshStore(t, factory);
      const far = Date.now() + 3_600_000;
      await store.oidc.upsert('Session', 'sess-1', { uid: 'u1', accountId: 'usr_a' }, far);
      await store.oidc.upsert('Session', 'sess-2', { uid: 'u2', accountId: 'usr_a' }, far);
      await store.oidc.upsert('Session', 'sess-3', { uid: 'u3', accountId: 'usr_b' }, far);
      await store.oidc.upsert('Interaction', 'int-1', { uid: 'u4', accountId: 'usr_a' }, far);
      assert.equal(await store.oidc.destroySessionsOf('usr_a'), 2);
      assert.equal(await store.oidc.find('Session', 'sess-1'), undefined);
      assert.ok(await store.oidc.find('Session', 'sess-3'));
      assert.ok(await store.oidc.find('Interaction', 'int-1'), 'other models stay');
      assert.equal(await store.oidc.destroySessionsOf('usr_a'), 0);
    });
  });
};
