import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RevocationEntry } from '../../../src/storage/index.ts';
import { freshStore, T0, type ContractSuite } from '../support/harness.ts';

const entry = (id: string, expires = 2_000_000_000): RevocationEntry => ({ id, type: 'jti', at: T0, expires });

export const revocationFeedContract: ContractSuite = (adapter, factory) => {
  describe(`revocation feed port (${adapter})`, () => {
    test('the revocation feed pages by cursor and never moves its cursor backwards', async (t) => {
      const { store } = await freshStore(t, factory);
      assert.deepEqual(await store.revocationFeed.listRevocations(0, 10), { entries: [], cursor: 0 });
      await store.revocationFeed.appendRevocations([entry('a'), entry('b', 100)]);
      await store.revocationFeed.appendRevocations([entry('c', 100)]);
      await store.revocationFeed.appendRevocations([]);
      const page1 = await store.revocationFeed.listRevocations(0, 2);
      assert.deepEqual(page1.entries.map((e) => e.id), ['a', 'b']);
      assert.deepEqual(page1.entries[0], entry('a'));
      const page2 = await store.revocationFeed.listRevocations(page1.cursor, 2);
      assert.deepEqual(page2.entries.map((e) => e.id), ['c']);
      const idle = await store.revocationFeed.listRevocations(page2.cursor, 2);
      assert.deepEqual(idle, { entries: [], cursor: page2.cursor });

      assert.equal(await store.revocationFeed.purgeRevocations(1000), 2, 'b and c have expired');
      const afterPurge = await store.revocationFeed.listRevocations(0, 10);
      assert.deepEqual(afterPurge.entries.map((e) => e.id), ['a']);
      const behind = await store.revocationFeed.listRevocations(page1.cursor, 10);
      assert.deepEqual(behind.entries, []);
      assert.ok(behind.cursor >= page1.cursor, 'a follower behind purged entries is never moved back');
      // Positions are never reused, even after the newest entries were purged.
      await store.revocationFeed.appendRevocations([entry('d')]);
      const next = await store.revocationFeed.listRevocations(page2.cursor, 10);
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
          await store.revocationFeed.appendRevocations([entry(`w${w}-${i}`)]);
          appended.push(`w${w}-${i}`);
        }
      });
      const followers = Array.from({ length: 3 }, async (_, f) => {
        const reader = writers[f % writers.length]!;
        const seen = new Set<string>();
        let cursor = 0;
        const drain = async () => {
          for (;;) {
            const page = await reader.revocationFeed.listRevocations(cursor, 5);
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
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.revocationFeed.appendRevocations([entry(`r${i}`), entry(`s${i}`)])));
      const seen: string[] = [];
      for (let cursor = 0; ;) {
        const page = await store.revocationFeed.listRevocations(cursor, 7);
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
