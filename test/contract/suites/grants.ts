import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, grantRecord, isoAt, plain, T0, type ContractSuite } from '../support/harness.ts';

export const grantsContract: ContractSuite = (adapter, factory) => {
  describe(`grants port (${adapter})`, () => {
    test('a grant round-trips, details and all, and is found only with its org', async (t) => {
      const { store } = await freshStore(t, factory);
      const g = grantRecord('org_A', {
        authorization_details: [{
          type: 'tool_access', tools: ['gmail.messages.send'], resources: ['gmail:label:*'], expires_at: isoAt(60),
          // Input field names are caller-chosen: dots and dollars must survive.
          constraints: { 'to.domain': { ends_with: '@acme.test' }, $limit: { max: 5, min: 1 }, flag: { eq: true } },
        }],
        expires_at: isoAt(120),
      });
      await store.grants.createGrant('org_A', g);
      assert.deepEqual(plain(await store.grants.getGrant('org_A', g.id)), plain(g));
      assert.equal(await store.grants.getGrant('org_B', g.id), undefined);
      assert.equal(await store.grants.getGrant('org_A', 'usr_1'), undefined, 'a user id finds no grant');
      assert.deepEqual(await store.grants.listGrants('org_B'), []);
      const orgLevel = grantRecord('org_A', { user_id: undefined });
      await store.grants.createGrant('org_A', orgLevel);
      assert.equal((await store.grants.getGrant('org_A', orgLevel.id))?.user_id, undefined);
    });

    test('listGrants: newest id first, filtered by user and agent, revoked ones only on request', async (t) => {
      const { store } = await freshStore(t, factory);
      const g1 = grantRecord('org_A', { id: 'grt_1', user_id: 'usr_1', agent_id: 'agt_1' });
      const g2 = grantRecord('org_A', { id: 'grt_2', user_id: 'usr_2', agent_id: 'agt_1' });
      const g3 = grantRecord('org_A', { id: 'grt_3', user_id: 'usr_1', agent_id: 'agt_2', revoked_at: T0 });
      const g4 = grantRecord('org_A', { id: 'grt_4', user_id: undefined, agent_id: 'agt_2' });
      const other = grantRecord('org_B', { id: 'grt_5', user_id: 'usr_1', agent_id: 'agt_1' });
      for (const g of [g1, g2, g3, g4]) await store.grants.createGrant('org_A', g);
      await store.grants.createGrant('org_B', other);
      const ids = (list: Array<{ id: string }>) => list.map((g) => g.id);
      assert.deepEqual(ids(await store.grants.listGrants('org_A')), ['grt_4', 'grt_2', 'grt_1']);
      assert.deepEqual(ids(await store.grants.listGrants('org_A', { include_revoked: true })), ['grt_4', 'grt_3', 'grt_2', 'grt_1']);
      assert.deepEqual(ids(await store.grants.listGrants('org_A', { user_id: 'usr_1' })), ['grt_1']);
      assert.deepEqual(ids(await store.grants.listGrants('org_A', { user_id: 'usr_1', include_revoked: true })), ['grt_3', 'grt_1']);
      assert.deepEqual(ids(await store.grants.listGrants('org_A', { agent_id: 'agt_2' })), ['grt_4']);
      assert.deepEqual(ids(await store.grants.listGrants('org_A', { user_id: 'usr_2', agent_id: 'agt_1' })), ['grt_2']);
      assert.deepEqual(ids(await store.grants.listGrants('org_B')), ['grt_5']);
    });

    test('revokeGrants returns only the grants this call revoked, within the org and the selector', async (t) => {
      const { store } = await freshStore(t, factory);
      const mk = (id: string, user_id: string | undefined, agent_id: string, org = 'org_A') =>
        store.grants.createGrant(org, grantRecord(org, { id, user_id, agent_id }));
      await mk('grt_1', 'usr_1', 'agt_1');
      await mk('grt_2', 'usr_1', 'agt_2');
      await mk('grt_3', 'usr_2', 'agt_1');
      await mk('grt_4', undefined, 'agt_1');
      await mk('grt_1', 'usr_1', 'agt_1', 'org_B');
      const ids = (list: Array<{ id: string }>) => list.map((g) => g.id).sort();

      const byId = await store.grants.revokeGrants('org_A', { id: 'grt_1' }, isoAt(1));
      assert.deepEqual(ids(byId), ['grt_1']);
      assert.equal(byId[0]?.revoked_at, isoAt(1));
      assert.equal(byId[0]?.org_id, 'org_A');
      assert.deepEqual(await store.grants.revokeGrants('org_A', { id: 'grt_1' }, isoAt(2)), [], 'already revoked: not repeated');
      assert.equal((await store.grants.getGrant('org_A', 'grt_1'))?.revoked_at, isoAt(1), 'the first revocation time stays');
      assert.equal((await store.grants.getGrant('org_B', 'grt_1'))?.revoked_at, undefined, 'the same id in another org is untouched');

      const byUser = await store.grants.revokeGrants('org_A', { user_id: 'usr_1' }, isoAt(3));
      assert.deepEqual(ids(byUser), ['grt_2'], 'grt_1 was already revoked');
      const byAgent = await store.grants.revokeGrants('org_A', { agent_id: 'agt_1' }, isoAt(4));
      assert.deepEqual(ids(byAgent), ['grt_3', 'grt_4'], 'org-level grants go with their agent');
      for (const g of byAgent) assert.equal(g.revoked_at, isoAt(4));
      assert.deepEqual(await store.grants.revokeGrants('org_A', { user_id: 'usr_1', agent_id: 'agt_9' }, isoAt(5)), []);
      assert.deepEqual(await store.grants.listGrants('org_A'), []);
      assert.deepEqual(ids(await store.grants.listGrants('org_B')), ['grt_1']);
      assert.deepEqual(await store.grants.revokeGrants('org_C', { agent_id: 'agt_1' }, isoAt(6)), []);
      await assert.rejects(store.grants.revokeGrants('org_A', {}, isoAt(7)), TypeError);
    });

    test('concurrent revocations report each grant exactly once', async (t) => {
      const { store } = await freshStore(t, factory);
      for (let i = 0; i < 10; i++) await store.grants.createGrant('org_A', grantRecord('org_A', { id: `grt_${i}`, agent_id: 'agt_1' }));
      const results = await Promise.all([
        store.grants.revokeGrants('org_A', { agent_id: 'agt_1' }, isoAt(1)),
        store.grants.revokeGrants('org_A', { user_id: 'usr_1' }, isoAt(1)),
        store.grants.revokeGrants('org_A', { id: 'grt_3' }, isoAt(1)),
        store.grants.revokeGrants('org_A', { agent_id: 'agt_1', user_id: 'usr_1' }, isoAt(1)),
      ]);
      const reported = results.flat().map((g) => g.id).sort();
      assert.deepEqual(reported, Array.from({ length: 10 }, (_, i) => `grt_${i}`).sort());
    });
  });
};
