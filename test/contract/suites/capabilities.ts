import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CapabilityRecord } from '../../../src/storage/index.ts';
import { freshStore, isoAt, plain, T0, type ContractSuite } from '../support/harness.ts';

function capability(org_id: string, jti: string, extra: Partial<CapabilityRecord> = {}): CapabilityRecord {
  return {
    jti, org_id, auth_event_id: 'grt_1', client_id: 'agt_1', format: 'jwt', revocation_ids: [], single_use: false,
    exp: 1_900_000_000, created_at: T0, ...extra,
  };
}

export const capabilitiesContract: ContractSuite = (adapter, factory) => {
  describe(`capabilities port (${adapter})`, () => {
    test('a capability round-trips and is found only with its org', async (t) => {
      const { store } = await freshStore(t, factory);
      const c = capability('org_A', 'cap_1', {
        format: 'biscuit', revocation_ids: ['ab01', 'cd02'], single_use: true, parent_jti: 'at_1',
      });
      await store.capabilities.recordCapability('org_A', c);
      assert.deepEqual(plain(await store.capabilities.getCapability('org_A', 'cap_1')), plain(c));
      assert.equal(await store.capabilities.getCapability('org_B', 'cap_1'), undefined);
      await assert.rejects(store.capabilities.recordCapability('org_A', c), 'a jti is recorded once per org');
    });

    test('a single-use capability is spent by exactly one of many concurrent callers', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.capabilities.recordCapability('org_A', capability('org_A', 'cap_1', { single_use: true }));
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.capabilities.spendCapability('org_A', 'cap_1', isoAt(i))));
      assert.equal(results.filter(Boolean).length, 1);
      assert.ok((await store.capabilities.getCapability('org_A', 'cap_1'))?.spent_at);
      assert.equal(await store.capabilities.spendCapability('org_B', 'cap_1', T0), false, 'another org cannot spend it');
      assert.equal(await store.capabilities.spendCapability('org_A', 'cap_missing', T0), false);
      await store.capabilities.recordCapability('org_A', capability('org_A', 'cap_2', { single_use: true, revoked_at: T0 }));
      assert.equal(await store.capabilities.spendCapability('org_A', 'cap_2', T0), false, 'a revoked capability is not spent');
    });

    test('a spend that reached nothing is released once, by the spender only, and the capability can be spent again', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.capabilities.recordCapability('org_A', capability('org_A', 'cap_1', { single_use: true }));
      assert.equal(await store.capabilities.releaseCapability('org_A', 'cap_1', T0), false, 'nothing to release before a spend');
      assert.equal(await store.capabilities.spendCapability('org_A', 'cap_1', isoAt(1)), true);
      assert.equal(await store.capabilities.releaseCapability('org_A', 'cap_1', isoAt(2)), false, 'another spend time is not this spend');
      assert.equal(await store.capabilities.releaseCapability('org_B', 'cap_1', isoAt(1)), false, 'another org cannot release it');
      const released = await Promise.all(Array.from({ length: 6 }, () => store.capabilities.releaseCapability('org_A', 'cap_1', isoAt(1))));
      assert.equal(released.filter(Boolean).length, 1, 'released once');
      assert.equal((await store.capabilities.getCapability('org_A', 'cap_1'))?.spent_at, undefined);
      assert.equal(await store.capabilities.spendCapability('org_A', 'cap_1', isoAt(3)), true, 'live again: spent by the next use');
      await store.capabilities.recordCapability('org_A', capability('org_A', 'cap_2', { single_use: true }));
      assert.equal(await store.capabilities.spendCapability('org_A', 'cap_2', isoAt(1)), true);
      await store.capabilities.revokeCapabilitiesOfGrants('org_A', [capability('org_A', 'cap_2').auth_event_id], isoAt(2));
      assert.equal(await store.capabilities.releaseCapability('org_A', 'cap_2', isoAt(1)), false, 'a revoked capability stays spent');
    });

    test('revoking grants revokes their live capabilities once, in that org only', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.capabilities.recordCapability('org_A', capability('org_A', 'cap_1', { auth_event_id: 'grt_1' }));
      await store.capabilities.recordCapability('org_A', capability('org_A', 'cap_2', { auth_event_id: 'grt_2' }));
      await store.capabilities.recordCapability('org_A', capability('org_A', 'cap_3', { auth_event_id: 'grt_3' }));
      await store.capabilities.recordCapability('org_B', capability('org_B', 'cap_4', { auth_event_id: 'grt_1' }));
      const first = await store.capabilities.revokeCapabilitiesOfGrants('org_A', ['grt_1', 'grt_2'], isoAt(1));
      assert.deepEqual(first.map((c) => c.jti).sort(), ['cap_1', 'cap_2']);
      for (const c of first) assert.equal(c.revoked_at, isoAt(1));
      assert.deepEqual((await store.capabilities.revokeCapabilitiesOfGrants('org_A', ['grt_1', 'grt_3'], isoAt(2))).map((c) => c.jti), ['cap_3']);
      assert.deepEqual(await store.capabilities.revokeCapabilitiesOfGrants('org_A', [], isoAt(3)), []);
      assert.equal((await store.capabilities.getCapability('org_B', 'cap_4'))?.revoked_at, undefined);
      assert.equal((await store.capabilities.getCapability('org_A', 'cap_1'))?.revoked_at, isoAt(1));
    });
  });
};
