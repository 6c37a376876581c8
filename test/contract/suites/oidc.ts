import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, type ContractSuite } from '../support/harness.ts';

// Expiry is checked against the store's clock at read time; these use real time with margins of
// minutes, so no assertion depends on how fast the test runs.
const past = () => Date.now() - 60_000;
const future = () => Date.now() + 10 * 60_000;

export const oidcContract: ContractSuite = (adapter, factory) => {
  describe(`oidc port (${adapter})`, () => {
    test('upsert then find, per model; upsert replaces the whole payload', async (t) => {
      const { store } = await freshStore(t, factory);
      const payload = {
        accountId: 'usr_1', grantId: 'grt_1', kind: 'AccessToken',
        // Keys oidc-provider really uses: client ids and resource URLs, dots included.
        resources: { 'https://writ.example/executor': 'tool:notion.pages.create' }, 'claims.$weird': [1, 'two', null],
      };
      await store.oidc.upsert('AccessToken', 'at_1', payload, future());
      assert.deepEqual(await store.oidc.find('AccessToken', 'at_1'), payload);
      assert.equal(await store.oidc.find('RefreshToken', 'at_1'), undefined, 'models do not share ids');
      assert.equal(await store.oidc.find('AccessToken', 'at_2'), undefined);
      await store.oidc.upsert('AccessToken', 'at_1', { accountId: 'usr_2' }, undefined);
      assert.deepEqual(await store.oidc.find('AccessToken', 'at_1'), { accountId: 'usr_2' });
    });

    test('expired records are never returned, whichever way they are looked up', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.oidc.upsert('Interaction', 'old', { uid: 'uid-old', kind: 'Interaction' }, past());
      await store.oidc.upsert('DeviceCode', 'old', { userCode: 'OLD-CODE', kind: 'DeviceCode' }, past());
      await store.oidc.upsert('Session', 'old', { uid: 'uid-s-old' }, past());
      await store.oidc.upsert('Interaction', 'new', { uid: 'uid-new', kind: 'Interaction' }, future());
      await store.oidc.upsert('DeviceCode', 'new', { userCode: 'NEW-CODE', kind: 'DeviceCode' }, future());
      await store.oidc.upsert('Session', 'forever', { uid: 'uid-forever' }, undefined);
      assert.equal(await store.oidc.find('Interaction', 'old'), undefined);
      assert.equal(await store.oidc.findByUid('Session', 'uid-s-old'), undefined);
      assert.equal(await store.oidc.findByUserCode('DeviceCode', 'OLD-CODE'), undefined);
      assert.equal((await store.oidc.find('Interaction', 'new'))?.uid, 'uid-new');
      assert.equal((await store.oidc.findByUserCode('DeviceCode', 'NEW-CODE'))?.kind, 'DeviceCode');
      assert.equal((await store.oidc.findByUid('Session', 'uid-forever'))?.uid, 'uid-forever');
      // Renewing an expired record brings it back; expiring a live one hides it.
      await store.oidc.upsert('Interaction', 'old', { uid: 'uid-old' }, future());
      assert.equal((await store.oidc.find('Interaction', 'old'))?.uid, 'uid-old');
      await store.oidc.upsert('Session', 'forever', { uid: 'uid-forever' }, past());
      assert.equal(await store.oidc.findByUid('Session', 'uid-forever'), undefined);
    });

    test('findByUid and findByUserCode look within one model', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.oidc.upsert('Session', 's1', { uid: 'shared', accountId: 'usr_1' }, future());
      await store.oidc.upsert('DeviceCode', 'd1', { userCode: 'ABCD-EFGH', grantId: 'grt_1' }, future());
      assert.equal((await store.oidc.findByUid('Session', 'shared'))?.accountId, 'usr_1');
      assert.equal(await store.oidc.findByUid('Interaction', 'shared'), undefined);
      assert.equal(await store.oidc.findByUid('Session', 'other'), undefined);
      assert.equal((await store.oidc.findByUserCode('DeviceCode', 'ABCD-EFGH'))?.grantId, 'grt_1');
      assert.equal(await store.oidc.findByUserCode('BackchannelAuthenticationRequest', 'ABCD-EFGH'), undefined);
      // A lookup key dropped by a later upsert no longer finds the record.
      await store.oidc.upsert('Session', 's1', { accountId: 'usr_1' }, future());
      assert.equal(await store.oidc.findByUid('Session', 'shared'), undefined);
      assert.equal((await store.oidc.find('Session', 's1'))?.accountId, 'usr_1');
    });

    test('consume marks the record consumed at the given time and keeps the rest', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.oidc.upsert('AuthorizationCode', 'c1', { grantId: 'grt_1', scope: 'openid' }, future());
      await store.oidc.upsert('AuthorizationCode', 'c2', { grantId: 'grt_1' }, future());
      assert.equal((await store.oidc.find('AuthorizationCode', 'c1'))?.consumed, undefined);
      await store.oidc.consume('AuthorizationCode', 'c1', 1_714_000_000);
      assert.deepEqual(await store.oidc.find('AuthorizationCode', 'c1'), { grantId: 'grt_1', scope: 'openid', consumed: 1_714_000_000 });
      assert.equal((await store.oidc.find('AuthorizationCode', 'c2'))?.consumed, undefined, 'only that record');
      await store.oidc.consume('AuthorizationCode', 'missing', 1);
      assert.equal(await store.oidc.find('AuthorizationCode', 'missing'), undefined, 'consuming nothing creates nothing');
      // An upsert replaces the record: a consumed mark survives only if the new payload has it.
      await store.oidc.upsert('AuthorizationCode', 'c1', { grantId: 'grt_1', consumed: 7 }, future());
      assert.equal((await store.oidc.find('AuthorizationCode', 'c1'))?.consumed, 7);
      await store.oidc.upsert('AuthorizationCode', 'c1', { grantId: 'grt_1' }, future());
      assert.equal((await store.oidc.find('AuthorizationCode', 'c1'))?.consumed, undefined);
    });

    test('destroy removes one record; revokeByGrantId removes every model of that grant and nothing else', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.oidc.upsert('AccessToken', 'at_1', { grantId: 'grt_1' }, future());
      await store.oidc.upsert('RefreshToken', 'rt_1', { grantId: 'grt_1' }, future());
      await store.oidc.upsert('AuthorizationCode', 'c_1', { grantId: 'grt_1' }, future());
      await store.oidc.upsert('Grant', 'grt_1', { accountId: 'usr_1' }, future());
      await store.oidc.upsert('AccessToken', 'at_2', { grantId: 'grt_2' }, future());
      await store.oidc.upsert('AccessToken', 'at_3', {}, future());
      await store.oidc.destroy('AccessToken', 'at_3');
      await store.oidc.destroy('AccessToken', 'missing');
      assert.equal(await store.oidc.find('AccessToken', 'at_3'), undefined);
      await store.oidc.revokeByGrantId('grt_1');
      assert.equal(await store.oidc.find('AccessToken', 'at_1'), undefined);
      assert.equal(await store.oidc.find('RefreshToken', 'rt_1'), undefined);
      assert.equal(await store.oidc.find('AuthorizationCode', 'c_1'), undefined);
      assert.deepEqual(await store.oidc.find('Grant', 'grt_1'), { accountId: 'usr_1' }, 'the record whose id is the grant id has no grantId');
      assert.deepEqual(await store.oidc.find('AccessToken', 'at_2'), { grantId: 'grt_2' });
      await store.oidc.revokeByGrantId('grt_missing');
    });
  });
};
