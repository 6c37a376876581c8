import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CapabilityRecord, RevocationEntry } from '../../../src/storage/index.ts';
import { freshStore, isoAt, plain, T0, type ContractSuite } from '../support/harness.ts';

function capability(org_id: string, jti: string, extra: Partial<CapabilityRecord> = {}): CapabilityRecord {
  return {
    jti, org_id, auth_event_id: 'grt_1', client_id: 'agt_1', format: 'jwt', revocation_ids: [], single_use: false,
    exp: 1_900_000_000, created_at: T0, ...extra,
  };
}

const entry = (id: string, expires = 2_000_000_000): RevocationEntry => ({ id, type: 'jti', at: T0, expires });

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

    test('the revocation feed pages by cursor and never moves its cursor backwards', async (t) => {
      const { store } = await freshStore(t, factory);
      assert.deepEqual(await store.capabilities.listRevocations(0, 10), { entries: [], cursor: 0 });
      await store.capabilities.appendRevocations([entry('a'), entry('b', 100)]);
      await store.capabilities.appendRevocations([entry('c', 100)]);
      await store.capabilities.appendRevocations([]);
      const page1 = await store.capabilities.listRevocations(0, 2);
      assert.deepEqual(page1.entries.map((e) => e.id), ['a', 'b']);
      assert.deepEqual(page1.entries[0], entry('a'));
      const page2 = await store.capabilities.listRevocations(page1.cursor, 2);
      assert.deepEqual(page2.entries.map((e) => e.id), ['c']);
      const idle = await store.capabilities.listRevocations(page2.cursor, 2);
      assert.deepEqual(idle, { entries: [], cursor: page2.cursor });

      assert.equal(await store.capabilities.purgeRevocations(1000), 2, 'b and c have expired');
      const afterPurge = await store.capabilities.listRevocations(0, 10);
      assert.deepEqual(afterPurge.entries.map((e) => e.id), ['a']);
      const behind = await store.capabilities.listRevocations(page1.cursor, 10);
      assert.deepEqual(behind.entries, []);
      assert.ok(behind.cursor >= page1.cursor, 'a follower behind purged entries is never moved back');
      // Positions are never reused, even after the newest entries were purged.
      await store.capabilities.appendRevocations([entry('d')]);
      const next = await store.capabilities.listRevocations(page2.cursor, 10);
      assert.deepEqual(next.entries.map((e) => e.id), ['d']);
      assert.ok(next.cursor > page2.cursor);
    });

    test('a follower polling while two handles append never passes an entry it has not seen', async (t) => {
      const opened = await freshStore(t, factory);
      const writers = [opened.store, opened.openPeer ? await opened.openPeer() : opened.store];
      let writing = true;
      const appended: string[] = [];
      const appends = writers.map(async (store, w) => {
        for (let i = 0; i < 60; i++) {
          await store.capabilities.appendRevocations([entry(`w${w}-${i}`)]);
          appended.push(`w${w}-${i}`);
        }
      });
      const followers = Array.from({ length: 3 }, async (_, f) => {
        const reader = writers[f % writers.length]!;
        const seen = new Set<string>();
        let cursor = 0;
        const drain = async () => {
          for (;;) {
            const page = await reader.capabilities.listRevocations(cursor, 5);
            assert.ok(page.cursor >= cursor, 'the cursor never moves back');
            cursor = page.cursor;
            for (const e of page.entries) seen.add(e.id);
            if (page.entries.length === 0) return;
          }
        };
        while (writing) { await drain(); await new Promise((r) => setImmediate(r)); }
        await drain();
        return seen;
      });
      await Promise.all(appends);
      writing = false;
      for (const seen of await Promise.all(followers)) {
        assert.deepEqual(appended.filter((id) => !seen.has(id)), [], 'every appended entry reaches every follower');
      }
    });

    test('concurrent feed appends lose nothing and keep positions distinct', async (t) => {
      const { store } = await freshStore(t, factory);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.capabilities.appendRevocations([entry(`r${i}`), entry(`s${i}`)])));
      const seen: string[] = [];
      for (let cursor = 0; ;) {
        const page = await store.capabilities.listRevocations(cursor, 7);
        if (page.entries.length === 0) break;
        assert.ok(page.cursor > cursor);
        seen.push(...page.entries.map((e) => e.id));
        cursor = page.cursor;
      }
      assert.equal(seen.length, 40);
      assert.equal(new Set(seen).size, 40);
      for (let i = 0; i < 20; i++) assert.ok(seen.indexOf(`r${i}`) < seen.indexOf(`s${i}`), 'one call keeps its order');
    });
  });
};
