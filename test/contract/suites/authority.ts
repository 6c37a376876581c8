import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuditRecord, CapabilityRecord, EndedAuthority, Publication, WritStore } from '../../../src/storage/index.ts';
import { freshStore, grantRecord, isoAt, T0, type ContractSuite } from '../support/harness.ts';

// Ending authority is one atomic step: the grants and capabilities revoked, the feed entries and
// the audit events written, all together or none. A retry by id publishes again.

function capability(jti: string, extra: Partial<CapabilityRecord> = {}): CapabilityRecord {
  return { jti, org_id: 'org_A', auth_event_id: 'grt_1', client_id: 'agt_1', format: 'jwt', revocation_ids: [], single_use: false, exp: 1_900_000_000, created_at: T0, ...extra };
}

function publication(ended: EndedAuthority): Publication {
  const ids = [...ended.grants.map((g) => g.id), ...ended.capabilities.map((c) => c.jti)];
  return {
    feed: ids.map((id) => ({ id, type: 'jti' as const, at: T0, expires: 2_000_000_000 })),
    audit: ended.retry ? [] : [(head): AuditRecord => ({
      id: `evt_${(head?.seq ?? 0) + 1}_${ids.length}`, org_id: 'org_A', seq: (head?.seq ?? 0) + 1, at: T0, type: 'grant.revoked',
      actor: { kind: 'admin' }, subject: { ids }, details: {}, prev_hash: head?.hash ?? 'genesis', hash: `h${(head?.seq ?? 0) + 1}`,
    })],
  };
}

async function feed(store: WritStore): Promise<string[]> {
  return (await store.revocationFeed.listRevocations(0, 1000)).entries.map((e) => e.id);
}

async function seed(store: WritStore): Promise<void> {
  await store.grants.createGrant('org_A', grantRecord('org_A', { id: 'grt_1', agent_id: 'agt_1' }));
  await store.grants.createGrant('org_A', grantRecord('org_A', { id: 'grt_2', agent_id: 'agt_1' }));
  // agt_1 holds cap_a under grt_1; agt_2 holds cap_b, delegated from cap_a; agt_3 holds cap_c from cap_b.
  await store.capabilities.recordCapability('org_A', capability('cap_a', { parent_jti: 'at_1' }));
  await store.capabilities.recordCapability('org_A', capability('cap_b', { client_id: 'agt_2', parent_jti: 'cap_a' }));
  await store.capabilities.recordCapability('org_A', capability('cap_c', { client_id: 'agt_3', parent_jti: 'cap_b' }));
  await store.capabilities.recordCapability('org_A', capability('cap_d', { auth_event_id: 'grt_2', client_id: 'agt_2', parent_jti: 'at_2' }));
  await store.capabilities.recordCapability('org_A', capability('cap_e', { auth_event_id: 'grt_2', parent_jti: 'at_2' }));
}

export const authorityContract: ContractSuite = (adapter, factory) => {
  describe(`ending authority (${adapter})`, () => {
    test('a failure while publishing leaves nothing revoked, nothing on the feed and nothing audited', async (t) => {
      const { store } = await freshStore(t, factory);
      await seed(store);
      await assert.rejects(store.grants.endAuthority('org_A', { grants: { id: 'grt_1' } }, isoAt(1), () => { throw new Error('crash'); }), /crash/);
      assert.equal((await store.grants.getGrant('org_A', 'grt_1'))?.revoked_at, undefined);
      assert.equal((await store.capabilities.getCapability('org_A', 'cap_a'))?.revoked_at, undefined);
      assert.deepEqual(await feed(store), []);
      assert.deepEqual(await store.audit.scanAudit('org_A', 0, 10), []);
    });

    test('a grant, its capabilities, their feed entries and the audit event commit together; a retry publishes again', async (t) => {
      const { store } = await freshStore(t, factory);
      await seed(store);
      const ended = await store.grants.endAuthority('org_A', { grants: { id: 'grt_1' } }, isoAt(1), publication);
      assert.deepEqual(ended.grants.map((g) => g.id), ['grt_1']);
      assert.deepEqual(ended.capabilities.map((c) => c.jti).sort(), ['cap_a', 'cap_b', 'cap_c']);
      assert.equal(ended.retry, false);
      assert.deepEqual((await feed(store)).sort(), ['cap_a', 'cap_b', 'cap_c', 'grt_1']);
      assert.equal((await store.audit.scanAudit('org_A', 0, 10)).length, 1);
      assert.equal((await store.capabilities.getCapability('org_A', 'cap_e'))?.revoked_at, undefined, 'another grant is untouched');

      const again = await store.grants.endAuthority('org_A', { grants: { id: 'grt_1' } }, isoAt(2), publication);
      assert.equal(again.retry, true);
      assert.deepEqual(again.capabilities.map((c) => c.jti).sort(), ['cap_a', 'cap_b', 'cap_c']);
      assert.equal((await feed(store)).filter((id) => id === 'grt_1').length, 2, 'the retry published the grant again');
      assert.equal((await store.audit.scanAudit('org_A', 0, 10)).length, 1, 'and audited nothing twice');
      assert.equal((await store.grants.getGrant('org_A', 'grt_1'))?.revoked_at, isoAt(1), 'the first revocation time stands');
    });

    test('an agent ends with what it holds and everything delegated through it, whatever the grant', async (t) => {
      const { store } = await freshStore(t, factory);
      await seed(store);
      const ended = await store.grants.endAuthority('org_A', { grants: { agent_id: 'agt_2' }, agent: 'agt_2' }, isoAt(1), publication);
      assert.deepEqual(ended.grants, [], 'agt_2 is the agent of no grant');
      assert.deepEqual(ended.capabilities.map((c) => c.jti).sort(), ['cap_b', 'cap_c', 'cap_d']);
      assert.equal((await store.capabilities.getCapability('org_A', 'cap_a'))?.revoked_at, undefined, 'the orchestrator keeps its own');
      assert.equal((await store.grants.getGrant('org_A', 'grt_1'))?.revoked_at, undefined);
      assert.deepEqual((await feed(store)).sort(), ['cap_b', 'cap_c', 'cap_d']);
    });
  });
};
