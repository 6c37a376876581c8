import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SigningKeyRecord } from '../../../src/storage/index.ts';
import { freshStore, isoAt, plain, type ContractSuite } from '../support/harness.ts';

const key = (kid: string, created_at: string, use: SigningKeyRecord['use'] = 'EdDSA'): SigningKeyRecord => ({
  kid, use, sealed_private: `sealed-${kid}`, public_jwk: { kty: 'OKP', crv: 'Ed25519', x: `x-${kid}`, kid }, created_at,
});

export const keysContract: ContractSuite = (adapter, factory) => {
  describe(`keys port (${adapter})`, () => {
    test('keys are listed oldest first (kid breaks ties) and round-trip', async (t) => {
      const { store } = await freshStore(t, factory);
      assert.deepEqual(await store.keys.listKeys(), []);
      const late = key('k-late', isoAt(10));
      const b = key('k-b', isoAt(0), 'biscuit');
      const a = key('k-a', isoAt(0), 'RS256');
      for (const k of [late, b, a]) await store.keys.putKey(k);
      assert.deepEqual(plain(await store.keys.listKeys()), plain([a, b, late]));
      await assert.rejects(store.keys.putKey({ ...a, sealed_private: 'other' }), 'a kid is stored once');
      assert.equal((await store.keys.listKeys())[0]?.sealed_private, 'sealed-k-a');
    });

    test('updateKey re-seals a key in place (master key rotation)', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.keys.putKey(key('k1', isoAt(0)));
      await store.keys.putKey(key('k2', isoAt(1)));
      await store.keys.updateKey('k1', { sealed_private: 'sealed-again' });
      const [k1, k2] = await store.keys.listKeys();
      assert.equal(k1?.sealed_private, 'sealed-again');
      assert.equal(k2?.sealed_private, 'sealed-k2');
      assert.equal(k1?.superseded_at, undefined);
    });

    test('updateKey sets only the fields given, and only on that kid', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.keys.putKey(key('k1', isoAt(0)));
      await store.keys.putKey(key('k2', isoAt(1)));
      await store.keys.updateKey('k1', { superseded_at: isoAt(5) });
      let [k1, k2] = await store.keys.listKeys();
      assert.equal(k1?.superseded_at, isoAt(5));
      assert.equal(k1?.retire_after, undefined);
      assert.equal(k2?.superseded_at, undefined);
      await store.keys.updateKey('k1', { retire_after: isoAt(65) });
      await store.keys.updateKey('k1', {});
      await store.keys.updateKey('k-missing', { retire_after: isoAt(1) });
      [k1, k2] = await store.keys.listKeys();
      assert.equal(k1?.superseded_at, isoAt(5), 'an absent field is left alone');
      assert.equal(k1?.retire_after, isoAt(65));
      assert.equal(k2?.retire_after, undefined);
      assert.equal((await store.keys.listKeys()).length, 2, 'updating an unknown kid creates nothing');
    });
  });
};
