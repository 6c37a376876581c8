import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckpointKeyRecord, SiemStreamRecord } from '../../../src/storage/index.ts';
import { freshStore, isoAt, plain, T0, twoOrgs, type ContractSuite } from '../support/harness.ts';

const key = (org_id: string, kid: string): CheckpointKeyRecord => ({
  org_id, kid, public_jwk: { kty: 'OKP', crv: 'Ed25519', x: kid, kid }, sealed_private_key: `sealed-${kid}`, created_at: T0,
});

const stream = (org_id: string, extra: Partial<SiemStreamRecord> = {}): SiemStreamRecord => ({
  org_id, url: 'https://siem.example/in', cursor: 0, failures: 0, next_attempt_at: 1000, created_at: T0, updated_at: T0, ...extra,
});

// SCIM tokens, audit checkpoints with their keys, and SIEM streams with their cursor and lease.
export const evidenceContract: ContractSuite = (adapter, factory) => {
  describe(`scim, checkpoints and siem ports (${adapter})`, () => {
    test('scim tokens: one per org, replaced, deleted', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a, b] = await twoOrgs(store);
      await store.scim.putToken({ org_id: a.id, digest: 'd1', created_at: T0 });
      await store.scim.putToken({ org_id: a.id, digest: 'd2', created_at: isoAt(1) });
      assert.deepEqual(plain(await store.scim.getToken(a.id)), { org_id: a.id, digest: 'd2', created_at: isoAt(1) });
      assert.equal(await store.scim.getToken(b.id), undefined);
      assert.equal(await store.scim.deleteToken(b.id), false);
      assert.equal(await store.scim.deleteToken(a.id), true);
      assert.equal(await store.scim.getToken(a.id), undefined);
    });

    test('checkpoint keys: the first writer\'s key wins, concurrently too; checkpoints once per sequence, in order', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a, b] = await twoOrgs(store);
      const winners = await Promise.all(['k1', 'k2', 'k3', 'k4'].map((kid) => store.checkpoints.createKeyIfAbsent(key(a.id, kid))));
      assert.equal(new Set(winners.map((k) => k.kid)).size, 1, 'every caller gets the same key');
      assert.deepEqual(plain(await store.checkpoints.listKeys(a.id)), [plain(winners[0])]);
      assert.deepEqual(await store.checkpoints.listKeys(b.id), []);

      const cp = (seq: number) => ({ org_id: a.id, seq, head_hash: `h${seq}`, at: isoAt(seq), kid: winners[0]!.kid, signature: `s${seq}` });
      assert.equal(await store.checkpoints.appendCheckpoint(cp(5)), true);
      assert.equal(await store.checkpoints.appendCheckpoint({ ...cp(5), head_hash: 'other' }), false, 'a sequence is checkpointed once');
      assert.equal(await store.checkpoints.appendCheckpoint(cp(2)), true);
      assert.equal(await store.checkpoints.appendCheckpoint(cp(9)), true);
      assert.deepEqual((await store.checkpoints.listCheckpoints(a.id)).map((c) => c.seq), [2, 5, 9]);
      assert.deepEqual((await store.checkpoints.listCheckpoints(a.id, { after_seq: 2, limit: 1 })).map((c) => c.seq), [5]);
      assert.deepEqual(plain(await store.checkpoints.latestCheckpoint(a.id)), cp(9));
      assert.equal((await store.checkpoints.listCheckpoints(a.id))[1]!.head_hash, 'h5');
      assert.equal(await store.checkpoints.latestCheckpoint(b.id), undefined);
    });

    test('siem streams: put and replace, due by time, one lease holder at a time, updates only by the holder', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a, b] = await twoOrgs(store);
      await store.siem.putStream(stream(a.id));
      await store.siem.putStream(stream(b.id, { next_attempt_at: 5000 }));
      assert.deepEqual((await store.siem.listDue(2000, 10)).map((s) => s.org_id), [a.id]);
      assert.deepEqual((await store.siem.listDue(6000, 10)).map((s) => s.org_id), [a.id, b.id]);

      const claims = await Promise.all(['p1', 'p2', 'p3'].map((owner) => store.siem.claim(a.id, owner, 10_000, 2000)));
      assert.equal(claims.filter(Boolean).length, 1, 'one holder');
      const holder = ['p1', 'p2', 'p3'][claims.indexOf(true)]!;
      const other = holder === 'p1' ? 'p2' : 'p1';
      assert.equal(await store.siem.claim(a.id, holder, 12_000, 2000), true, 'the holder renews');
      assert.equal(await store.siem.update(a.id, other, { cursor: 99 }, false), false, 'a non-holder changes nothing');
      assert.equal(await store.siem.update(a.id, holder, { cursor: 7, failures: 0, last_delivered_at: isoAt(1) }, false), true);
      assert.equal((await store.siem.getStream(a.id))?.cursor, 7);
      assert.equal(await store.siem.update(a.id, holder, {}, true), true, 'release');
      assert.equal(await store.siem.claim(a.id, other, 20_000, 2000), true, 'free again');
      assert.equal(await store.siem.claim(a.id, holder, 30_000, 25_000), true, 'an expired lease is taken over');

      await store.siem.putStream(stream(a.id, { url: 'https://siem2.example/in', cursor: 3 }));
      const replaced = await store.siem.getStream(a.id);
      assert.equal(replaced?.url, 'https://siem2.example/in');
      assert.equal(replaced?.cursor, 3);
      assert.equal(await store.siem.deleteStream(a.id), true);
      assert.equal(await store.siem.getStream(a.id), undefined);
      assert.equal(await store.siem.deleteStream(a.id), false);
    });
  });
};
