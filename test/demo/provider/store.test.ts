import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DemoStore } from '../../../src/demo/provider/store.ts';

describe('demo provider: in-memory store', () => {
  it('revokes every artefact of a grant across models, and only that grant', async () => {
    const store = new DemoStore();
    const grants = store.adapterFor('Grant');
    const access = store.adapterFor('AccessToken');
    const refresh = store.adapterFor('RefreshToken');
    await grants.upsert('g1', { accountId: 'john', clientId: 'c' }, 60);
    await grants.upsert('g2', { accountId: 'alice', clientId: 'c' }, 60);
    await access.upsert('a1', { grantId: 'g1' }, 60);
    await refresh.upsert('r1', { grantId: 'g1' }, 60);
    await access.upsert('a2', { grantId: 'g2' }, 60);

    assert.deepEqual(store.grantIdsOf('john'), ['g1']);
    store.revokeGrant('g1');
    assert.equal(await access.find('a1'), undefined);
    assert.equal(await refresh.find('r1'), undefined);
    assert.equal(await grants.find('g1'), undefined);
    assert.deepEqual(store.grantIdsOf('john'), []);
    assert.deepEqual(await access.find('a2'), { grantId: 'g2' });
  });

  it('hands out copies, marks consumption, finds sessions by uid and forgets expired records', async () => {
    const store = new DemoStore();
    const refresh = store.adapterFor('RefreshToken');
    await refresh.upsert('r', { grantId: 'g' }, 60);
    const copy = await refresh.find('r');
    assert.ok(copy);
    copy.grantId = 'changed';
    assert.equal((await refresh.find('r'))?.grantId, 'g');
    await refresh.consume('r');
    assert.equal(typeof (await refresh.find('r'))?.consumed, 'number');

    const sessions = store.adapterFor('Session');
    await sessions.upsert('s', { uid: 'u-1', accountId: 'john' });
    assert.equal((await sessions.findByUid('u-1'))?.accountId, 'john');
    await sessions.destroy('s');
    assert.equal(await sessions.findByUid('u-1'), undefined);

    await refresh.upsert('gone', { grantId: 'g' }, 0);
    assert.equal(await refresh.find('gone'), undefined);
  });
});
