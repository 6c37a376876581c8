import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectedAccountRecord, VaultStore } from '../../src/storage/ports/vault.ts';

// The vault port's contract, as a suite any adapter runs: `vaultStoreContract('sqlite', factory)`.
// The factory returns a fresh, empty store and a cleanup function.

export type VaultStoreFactory = () => Promise<{ store: VaultStore; close(): Promise<void> }>;

const T0 = '2025-03-01T12:00:00.000Z';

function account(org_id: string, id: string, extra: Partial<ConnectedAccountRecord> = {}): ConnectedAccountRecord {
  return {
    id, org_id, owner: { kind: 'user', user_id: 'usr_1' }, connector: 'demo', status: 'pending', scopes: ['notes:read'],
    created_at: T0, updated_at: T0, credential_version: 0, ...extra,
  };
}

const write = (sealed: string) => ({ sealed_credential: sealed, credential_type: 'oauth2' as const, status: 'active' as const, scopes: ['notes:read', 'notes:write'], expires_at: '2025-03-01T13:00:00.000Z', updated_at: T0 });

export function vaultStoreContract(name: string, factory: VaultStoreFactory): void {
  describe(`vault store contract: ${name}`, () => {
    const withStore = (title: string, fn: (store: VaultStore) => Promise<void>) =>
      test(title, async () => {
        const { store, close } = await factory();
        try { await fn(store); } finally { await close(); }
      });

    withStore('accounts are found only by (org, id); a user id or another org finds nothing', async (s) => {
      await s.createAccount('org_A', account('org_A', 'acct_1'));
      await s.createAccount('org_B', account('org_B', 'acct_2', { owner: { kind: 'org' } }));
      assert.equal((await s.getAccount('org_A', 'acct_1'))?.id, 'acct_1');
      assert.equal(await s.getAccount('org_B', 'acct_1'), undefined);
      assert.equal(await s.getAccount('org_A', 'usr_1'), undefined);
      assert.deepEqual((await s.listAccounts('org_A')).map((a) => a.id), ['acct_1']);
      assert.deepEqual((await s.listAccounts('org_A', { owner: { kind: 'user', user_id: 'usr_1' } })).map((a) => a.id), ['acct_1']);
      assert.deepEqual((await s.listAccounts('org_A', { owner: { kind: 'user', user_id: 'usr_2' } })), []);
      assert.deepEqual((await s.listAccounts('org_B', { owner: { kind: 'org' } })).map((a) => a.id), ['acct_2']);
      assert.deepEqual((await s.listAccounts('org_A', { status: 'active' })), []);
      assert.deepEqual((await s.listAccounts('org_A', { connector: 'demo' })).map((a) => a.id), ['acct_1']);
      const round = (await s.getAccount('org_B', 'acct_2'))!;
      assert.deepEqual(round.owner, { kind: 'org' });
      assert.deepEqual(round.scopes, ['notes:read']);
    });

    withStore('swapCredential is a compare-and-swap on the credential version', async (s) => {
      await s.createAccount('org_A', account('org_A', 'acct_1', { cooldown_until: T0, last_error: 'boom' }));
      const first = await s.swapCredential('org_A', 'acct_1', 0, write('sealed-1'));
      assert.equal(first?.credential_version, 1);
      assert.equal(first?.sealed_credential, 'sealed-1');
      assert.equal(first?.status, 'active');
      assert.equal(first?.cooldown_until, undefined, 'a good write clears the cooldown');
      assert.equal(first?.last_error, undefined);
      assert.equal(await s.swapCredential('org_A', 'acct_1', 0, write('stale')), undefined, 'a stale version loses');
      assert.equal((await s.getAccount('org_A', 'acct_1'))?.sealed_credential, 'sealed-1');
      assert.equal(await s.swapCredential('org_B', 'acct_1', 1, write('other-org')), undefined);
      const results = await Promise.all([1, 1, 1].map((v, i) => s.swapCredential('org_A', 'acct_1', v, write(`racer-${i}`))));
      assert.equal(results.filter(Boolean).length, 1, 'exactly one concurrent writer wins');
    });

    withStore('updateAccount and setStatusIfVersion change only what they say', async (s) => {
      await s.createAccount('org_A', account('org_A', 'acct_1'));
      await s.swapCredential('org_A', 'acct_1', 0, write('sealed-1'));
      const updated = await s.updateAccount('org_A', 'acct_1', { cooldown_until: '2025-03-01T12:00:30.000Z', last_error: 'HTTP 503', updated_at: T0 });
      assert.equal(updated?.cooldown_until, '2025-03-01T12:00:30.000Z');
      assert.equal(updated?.status, 'active');
      assert.equal((await s.updateAccount('org_A', 'acct_1', { cooldown_until: null, updated_at: T0 }))?.cooldown_until, undefined);
      assert.equal(await s.updateAccount('org_B', 'acct_1', { status: 'revoked', updated_at: T0 }), undefined);
      assert.equal(await s.setStatusIfVersion('org_A', 'acct_1', 0, { status: 'revoked', updated_at: T0 }), false);
      assert.equal(await s.setStatusIfVersion('org_A', 'acct_1', 1, { status: 'revoked', updated_at: T0 }), true);
      const after = (await s.getAccount('org_A', 'acct_1'))!;
      assert.equal(after.status, 'revoked');
      assert.equal(after.credential_version, 1, 'a status change does not bump the credential version');
    });

    withStore('leases: one holder at a time, re-entrant for the owner, taken over only once expired', async (s) => {
      assert.equal(await s.acquireLease('org_A', 'acct_1', 'p1', 1000, 10_000), true);
      assert.equal(await s.acquireLease('org_A', 'acct_1', 'p2', 1000, 10_500), false);
      assert.equal(await s.acquireLease('org_A', 'acct_1', 'p1', 1000, 10_500), true, 'the owner may extend');
      assert.equal(await s.acquireLease('org_B', 'acct_1', 'p2', 1000, 10_500), true, 'leases are per org');
      await s.releaseLease('org_A', 'acct_1', 'p2');
      assert.equal(await s.acquireLease('org_A', 'acct_1', 'p2', 1000, 11_000), false, 'only the owner releases');
      assert.equal(await s.acquireLease('org_A', 'acct_1', 'p2', 1000, 11_500), true, 'an expired lease is taken over');
      await s.releaseLease('org_A', 'acct_1', 'p2');
      const racers = await Promise.all(['a', 'b', 'c', 'd'].map((o) => s.acquireLease('org_A', 'acct_1', o, 1000, 20_000)));
      assert.equal(racers.filter(Boolean).length, 1);
    });

    withStore('data keys: insert-if-absent returns the winner, re-wrap is a compare-and-swap, rotation lists what is left', async (s) => {
      const k = (org_id: string, wrapped: string, master_version = 1) => ({ org_id, version: 1, wrapped, master_version, created_at: T0 });
      assert.equal((await s.putDataKeyIfAbsent(k('org_A', 'w1'))).wrapped, 'w1');
      assert.equal((await s.putDataKeyIfAbsent(k('org_A', 'w-late'))).wrapped, 'w1', 'the first key stays');
      await s.putDataKeyIfAbsent(k('org_B', 'w2'));
      await s.putDataKeyIfAbsent(k('org_C', 'w3', 2));
      assert.equal(await s.countDataKeysToRewrap(2), 2);
      assert.deepEqual((await s.listDataKeysToRewrap(2, { limit: 1 })).map((d) => d.org_id), ['org_A']);
      assert.deepEqual((await s.listDataKeysToRewrap(2, { after: 'org_A', limit: 10 })).map((d) => d.org_id), ['org_B']);
      assert.equal(await s.rewrapDataKey('org_A', 'not-current', { wrapped: 'x', master_version: 2, rewrapped_at: T0 }), false);
      assert.equal(await s.rewrapDataKey('org_A', 'w1', { wrapped: 'w1b', master_version: 2, rewrapped_at: T0 }), true);
      assert.equal((await s.getDataKey('org_A'))?.wrapped, 'w1b');
      assert.equal(await s.countDataKeysToRewrap(2), 1);
      assert.equal(await s.deleteDataKey('org_A'), true);
      assert.equal(await s.getDataKey('org_A'), undefined);
    });

    withStore('deleteOrg removes the org and nothing else', async (s) => {
      for (const org of ['org_A', 'org_B']) {
        await s.createAccount(org, account(org, 'acct_1'));
        await s.putDataKeyIfAbsent({ org_id: org, version: 1, wrapped: `w-${org}`, master_version: 1, created_at: T0 });
        await s.acquireLease(org, 'acct_1', 'p', 60_000, 0);
      }
      await s.deleteOrg('org_A');
      assert.equal(await s.getAccount('org_A', 'acct_1'), undefined);
      assert.equal(await s.getDataKey('org_A'), undefined);
      assert.equal(await s.acquireLease('org_A', 'acct_1', 'q', 1000, 1), true, 'its leases are gone');
      assert.ok(await s.getAccount('org_B', 'acct_1'));
      assert.ok(await s.getDataKey('org_B'));
      assert.equal(await s.acquireLease('org_B', 'acct_1', 'q', 1000, 1), false);
    });
  });
}
