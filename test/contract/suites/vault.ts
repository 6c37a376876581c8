import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectedAccountRecord, CredentialWrite } from '../../../src/storage/index.ts';
import { vaultStoreContract } from '../../vault/store-contract.ts';
import { freshStore, isoAt, plain, T0, type ContractSuite } from '../support/harness.ts';

// The vault port: the vault team's suite (test/vault/store-contract.ts) run against the whole
// store, plus the cases it leaves out.

function account(org_id: string, id: string, extra: Partial<ConnectedAccountRecord> = {}): ConnectedAccountRecord {
  return {
    id, org_id, owner: { kind: 'user', user_id: 'usr_1' }, connector: 'gmail', status: 'pending', scopes: ['gmail.send'],
    created_at: T0, updated_at: T0, credential_version: 0, ...extra,
  };
}

const apiKeyWrite: CredentialWrite = {
  sealed_credential: 'sealed-key', credential_type: 'api_key', api_key_hint: 'x9Zq', status: 'active', scopes: [],
  updated_at: isoAt(1),
};

export const vaultContract: ContractSuite = (adapter, factory) => {
  vaultStoreContract(adapter, async () => {
    const opened = await factory();
    return { store: opened.store.vault, close: opened.close };
  });

  describe(`vault port, further cases (${adapter})`, () => {
    test('every account field round-trips; an account id is taken once per org; org_id must match', async (t) => {
      const { store } = await freshStore(t, factory);
      const full = account('org_A', 'acct_1', {
        owner: { kind: 'org' }, status: 'error', expires_at: isoAt(60), credential_version: 3, credential_type: 'oauth2',
        api_key_hint: 'abcd', sealed_credential: 'sealed-c', sealed_connect: 'sealed-s', cooldown_until: isoAt(2),
        last_error: 'HTTP 503 from provider', scopes: ['a', 'b.c'],
      });
      await store.vault.createAccount('org_A', full);
      assert.deepEqual(plain(await store.vault.getAccount('org_A', 'acct_1')), plain(full));
      await store.vault.createAccount('org_B', account('org_B', 'acct_1'));
      await assert.rejects(store.vault.createAccount('org_A', account('org_A', 'acct_1')));
      assert.equal((await store.vault.getAccount('org_A', 'acct_1'))?.status, 'error', 'the refused insert changed nothing');
      await assert.rejects(store.vault.createAccount('org_A', account('org_B', 'acct_2')), TypeError);
      assert.equal(await store.vault.getAccount('org_B', 'acct_2'), undefined);
      assert.equal(await store.vault.getAccount('org_A', 'acct_2'), undefined);
    });

    test('a credential write replaces optional fields it does not carry and clears the connect state', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.vault.createAccount('org_A', account('org_A', 'acct_1', { sealed_connect: 'sealed-state' }));
      const oauth = await store.vault.swapCredential('org_A', 'acct_1', 0, {
        sealed_credential: 's1', credential_type: 'oauth2', status: 'active', scopes: ['gmail.send'], expires_at: isoAt(60), updated_at: isoAt(1),
      });
      assert.equal(oauth?.sealed_connect, undefined, 'a finished connect leaves no state behind');
      assert.equal(oauth?.expires_at, isoAt(60));
      const key = await store.vault.swapCredential('org_A', 'acct_1', 1, apiKeyWrite);
      assert.equal(key?.credential_version, 2);
      assert.equal(key?.credential_type, 'api_key');
      assert.equal(key?.api_key_hint, 'x9Zq');
      assert.equal(key?.expires_at, undefined, 'an API key that never expires clears the old expiry');
      assert.deepEqual(key?.scopes, []);
      const back = await store.vault.swapCredential('org_A', 'acct_1', 2, { ...apiKeyWrite, credential_type: 'oauth2', api_key_hint: undefined });
      assert.equal(back?.api_key_hint, undefined);
      assert.deepEqual(plain(await store.vault.getAccount('org_A', 'acct_1')), plain(back));
      assert.equal(await store.vault.swapCredential('org_A', 'acct_missing', 0, apiKeyWrite), undefined);
    });

    test('updateAccount sets status and scopes, clears with null, and answers undefined for a missing account', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.vault.createAccount('org_A', account('org_A', 'acct_1', { sealed_connect: 'st', last_error: 'x' }));
      const u = await store.vault.updateAccount('org_A', 'acct_1', { status: 'expired', scopes: ['s2'], sealed_connect: null, last_error: null, updated_at: isoAt(5) });
      assert.equal(u?.status, 'expired');
      assert.deepEqual(u?.scopes, ['s2']);
      assert.equal(u?.sealed_connect, undefined);
      assert.equal(u?.last_error, undefined);
      assert.equal(u?.updated_at, isoAt(5));
      assert.equal(u?.credential_version, 0);
      const again = await store.vault.updateAccount('org_A', 'acct_1', { sealed_connect: 'st2', updated_at: isoAt(6) });
      assert.equal(again?.sealed_connect, 'st2');
      assert.equal(again?.status, 'expired', 'an absent field is left alone');
      assert.equal(await store.vault.updateAccount('org_A', 'acct_missing', { status: 'active', updated_at: T0 }), undefined);
      assert.equal(await store.vault.setStatusIfVersion('org_B', 'acct_1', 0, { status: 'revoked', updated_at: T0 }), false);
    });

    test('deleteAccount: only within its org, and its lease goes with it', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.vault.createAccount('org_A', account('org_A', 'acct_1'));
      assert.equal(await store.vault.acquireLease('org_A', 'acct_1', 'p1', 60_000, Date.now()), true);
      assert.equal(await store.vault.deleteAccount('org_B', 'acct_1'), false);
      assert.ok(await store.vault.getAccount('org_A', 'acct_1'));
      assert.equal(await store.vault.deleteAccount('org_A', 'acct_1'), true);
      assert.equal(await store.vault.getAccount('org_A', 'acct_1'), undefined);
      assert.equal(await store.vault.deleteAccount('org_A', 'acct_1'), false);
      assert.equal(await store.vault.acquireLease('org_A', 'acct_1', 'p2', 60_000, Date.now()), true, 'the lease went with the account');
    });

    test('concurrent first data keys for one org: one is stored, every caller gets that one back', async (t) => {
      const { store } = await freshStore(t, factory);
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
        store.vault.putDataKeyIfAbsent({ org_id: 'org_A', version: 1, wrapped: `w${i}`, master_version: 1, created_at: T0 })));
      const stored = await store.vault.getDataKey('org_A');
      assert.ok(stored);
      for (const r of results) assert.deepEqual(plain(r), plain(stored));
      assert.deepEqual(await store.vault.listDataKeysToRewrap(2, { limit: 0 }), []);
      assert.equal(await store.vault.deleteDataKey('org_B'), false);
    });
  });
};
