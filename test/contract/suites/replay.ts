import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, type ContractSuite } from '../support/harness.ts';

// Once-only claims (DPoP proof ids): one winner among concurrent callers and across handles, and an
// expired claim can be made again.

const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000);

export const replayContract: ContractSuite = (adapter, factory) => {
  describe(`replay port (${adapter})`, () => {
    test('a key is claimed once; other keys are independent', async (t) => {
      const { store } = await freshStore(t, factory);
      assert.equal(await store.replay.claimOnce('dpop:k1:j1', inMinutes(1)), true);
      assert.equal(await store.replay.claimOnce('dpop:k1:j1', inMinutes(1)), false);
      assert.equal(await store.replay.claimOnce('dpop:k1:j1', inMinutes(5)), false, 'a later expiry does not win it back');
      assert.equal(await store.replay.claimOnce('dpop:k1:j2', inMinutes(1)), true);
      assert.equal(await store.replay.claimOnce('dpop:k2:j1', inMinutes(1)), true);
    });

    test('one winner among many concurrent claims, from two handles', async (t) => {
      const opened = await freshStore(t, factory);
      const handles = [opened.store, ...(opened.openPeer ? [await opened.openPeer()] : [])];
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => handles[i % handles.length]!.replay.claimOnce('dpop:race', inMinutes(1))));
      assert.equal(results.filter(Boolean).length, 1);
      if (handles[1]) assert.equal(await handles[1].replay.claimOnce('dpop:race', inMinutes(1)), false, 'the peer sees the claim');
    });

    test('an expired claim can be claimed again, once', async (t) => {
      const { store } = await freshStore(t, factory);
      assert.equal(await store.replay.claimOnce('dpop:old', new Date(Date.now() - 1000)), true);
      const again = await Promise.all(Array.from({ length: 8 }, () => store.replay.claimOnce('dpop:old', inMinutes(1))));
      assert.equal(again.filter(Boolean).length, 1);
      assert.equal(await store.replay.claimOnce('dpop:old', inMinutes(1)), false);
    });
  });
};
