import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  associatedData, createKeyRing, generateKey, LocalKeyProvider, open, parseMasterKeyRing, seal, VaultCryptoError,
} from '../../src/vault/crypto.ts';
import { Vault } from '../../src/vault/service.ts';
import { newVault, openVaultStore, ringOf, tempDir } from './helpers.ts';

const decryptFailed = (err: unknown) => err instanceof VaultCryptoError && err.reason === 'decrypt_failed';

test('seal/open round-trips and binds the associated data', () => {
  const ring = ringOf([1, generateKey()]);
  const sealed = seal(ring, 'signing key material', associatedData('signing-key', 'kid-1'));
  assert.match(sealed, /^v1\.1\.[\w-]{16}\.[\w-]{22}\.[\w-]+$/);
  assert.equal(open(ring, sealed, associatedData('signing-key', 'kid-1')).toString(), 'signing key material');
  assert.throws(() => open(ring, sealed, associatedData('signing-key', 'kid-2')), decryptFailed);
});

test('a tampered sealed value fails authentication', () => {
  const ring = ringOf([1, generateKey()]);
  const sealed = seal(ring, 'plaintext', 'aad');
  const parts = sealed.split('.');
  const ct = Buffer.from(parts[4]!, 'base64url');
  ct[0]! ^= 1;
  parts[4] = ct.toString('base64url');
  assert.throws(() => open(ring, parts.join('.'), 'aad'), decryptFailed);
  assert.throws(() => open(ring, 'v2.1.a.b.c', 'aad'), (e: unknown) => e instanceof VaultCryptoError && e.reason === 'malformed');
  assert.throws(() => open(ring, sealed.replace(/^v1\.1\./, 'v1.7.'), 'aad'), (e: unknown) => e instanceof VaultCryptoError && e.reason === 'unknown_key');
});

test('the master key ring parses the configured format and seals with the newest key', () => {
  const k1 = generateKey(); const k2 = generateKey();
  const ring = parseMasterKeyRing(`v2:${k2.toString('base64url')}, v1:${k1.toString('base64url')}`);
  assert.equal(ring.current, 2);
  assert.deepEqual(ring.versions(), [1, 2]);
  const old = seal(createKeyRing([{ version: 1, key: k1 }]), 'x', 'a');
  assert.equal(open(ring, old, 'a').toString(), 'x');
  assert.equal(parseMasterKeyRing(k1.toString('base64url')).current, 1);
  assert.throws(() => parseMasterKeyRing('v1:c2hvcnQ'), /32 bytes/);
  assert.throws(() => parseMasterKeyRing('version-one:abc'), /WRIT_MASTER_KEY/);
});

test('a credential moved to another account or another org does not decrypt', async (t) => {
  const { store } = openVaultStore(t, join(tempDir(t), 'v.sqlite'));
  const vault = newVault(store);
  const a = await vault.createPendingAccount('org_A', { owner: { kind: 'user', user_id: 'usr_1' }, connector: 'demo' });
  const b = await vault.createPendingAccount('org_A', { owner: { kind: 'user', user_id: 'usr_2' }, connector: 'demo' });
  const c = await vault.createPendingAccount('org_B', { owner: { kind: 'user', user_id: 'usr_1' }, connector: 'demo' });
  await vault.storeCredential('org_A', a.id, { type: 'oauth2', access_token: 'at-A', token_type: 'Bearer', refresh_token: 'rt-A' });
  await vault.storeCredential('org_B', c.id, { type: 'api_key', api_key: 'key-for-org-b-0000' });
  const rowA = (await store.getAccount('org_A', a.id))!;
  assert.equal((await vault.readCredential('org_A', a.id)).credential.type, 'oauth2');

  // Same org, other account: the account id is in the associated data.
  await store.swapCredential('org_A', b.id, 0, { sealed_credential: rowA.sealed_credential!, credential_type: 'oauth2', status: 'active', scopes: [], updated_at: rowA.updated_at });
  await assert.rejects(vault.readCredential('org_A', b.id), decryptFailed);

  // Other org, same account id: another data key and another org in the associated data.
  await store.createAccount('org_B', { ...rowA, org_id: 'org_B' });
  await assert.rejects(vault.readCredential('org_B', a.id), decryptFailed);

  // A user id alone finds nothing; org B's account is not visible from org A.
  assert.equal(await vault.getAccount('org_A', c.id), undefined);
  assert.deepEqual((await vault.listAccounts('org_B')).map((x) => x.id).sort(), [a.id, c.id].sort());
});

test('master key rotation re-wraps every data key and keeps every credential readable', async (t) => {
  const path = join(tempDir(t), 'v.sqlite');
  const { store } = openVaultStore(t, path);
  const k1 = generateKey(); const k2 = generateKey();
  const before = newVault(store, ringOf([1, k1]));
  const accounts: Array<[string, string]> = [];
  for (let i = 0; i < 7; i++) {
    const org = `org_${i}`;
    const acct = await before.createPendingAccount(org, { owner: { kind: 'org' }, connector: 'demo' });
    await before.storeCredential(org, acct.id, { type: 'api_key', api_key: `secret-api-key-${i}-padding` });
    accounts.push([org, acct.id]);
  }
  const ring = ringOf([1, k1], [2, k2]);
  const during = new Vault({ store, keys: new LocalKeyProvider(ring) });
  const progress: number[] = [];
  const result = await during.rotateMasterKey({ batchSize: 3, onProgress: (p) => progress.push(p.done) });
  assert.deepEqual(result, { done: 7, total: 7 });
  assert.deepEqual(progress, [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(await store.countDataKeysToRewrap(2), 0);
  assert.deepEqual(await during.rotateMasterKey(), { done: 0, total: 0 });

  // After rotation the old master key can leave the ring.
  const after = new Vault({ store, keys: new LocalKeyProvider(ringOf([2, k2])) });
  for (const [i, [org, id]] of accounts.entries()) {
    const { credential } = await after.readCredential(org, id);
    assert.deepEqual(credential, { type: 'api_key', api_key: `secret-api-key-${i}-padding` });
  }
  // And a vault holding only the old key can no longer unwrap anything.
  await assert.rejects(newVault(store, ringOf([1, k1])).readCredential(accounts[0]![0], accounts[0]![1]), VaultCryptoError);
});

test('destroyOrg shreds the data key: a restored copy of the rows stays unreadable', async (t) => {
  const { store } = openVaultStore(t, join(tempDir(t), 'v.sqlite'));
  const vault = newVault(store);
  const acct = await vault.createPendingAccount('org_gone', { owner: { kind: 'org' }, connector: 'demo' });
  await vault.storeCredential('org_gone', acct.id, { type: 'oauth2', access_token: 'at', token_type: 'Bearer' });
  const backup = (await store.getAccount('org_gone', acct.id))!;
  const keep = await vault.createPendingAccount('org_kept', { owner: { kind: 'org' }, connector: 'demo' });
  await vault.storeCredential('org_kept', keep.id, { type: 'api_key', api_key: 'still-here-12345' });

  await vault.destroyOrg('org_gone');
  assert.equal(await store.getDataKey('org_gone'), undefined);
  assert.deepEqual(await vault.listAccounts('org_gone'), []);

  await store.createAccount('org_gone', backup);
  await assert.rejects(vault.readCredential('org_gone', acct.id), VaultCryptoError);
  // Even once the org gets a new data key, the old ciphertext does not open.
  await vault.sealOrgSecret('org_gone', 'probe', 'x', 'new key please');
  await assert.rejects(vault.readCredential('org_gone', acct.id), decryptFailed);
  assert.equal((await vault.readCredential('org_kept', keep.id)).credential.type, 'api_key');
});

test('safeView holds no ciphertext and no token, only an API key hint', async (t) => {
  const { store } = openVaultStore(t, join(tempDir(t), 'v.sqlite'));
  const vault = newVault(store);
  const acct = await vault.createPendingAccount('org_1', { owner: { kind: 'user', user_id: 'usr_1' }, connector: 'linear' });
  const view = await vault.storeCredential('org_1', acct.id, { type: 'api_key', api_key: 'lin_api_SECRETSECRET9z4Q' });
  assert.equal(view.api_key_hint, '9z4Q');
  assert.equal(view.status, 'active');
  const text = JSON.stringify([view, await vault.listAccounts('org_1'), await vault.getAccount('org_1', acct.id)]);
  assert.ok(!text.includes('SECRETSECRET'));
  assert.ok(!text.includes('v1.1.'));
  assert.ok(!('sealed_credential' in view));
});
