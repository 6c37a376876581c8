// The vault keeps opened credentials in memory behind the ciphertext and data key they came from.
// Every change another process makes — a rotated credential, a revocation, a disconnect, a
// master-key rotation, a shredded data key — must take effect on the very next call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixedClock } from '../../src/core/clock.ts';
import { generateKey, LocalKeyProvider } from '../../src/vault/crypto.ts';
import { CredentialRefresher } from '../../src/vault/refresh.ts';
import { Vault } from '../../src/vault/service.ts';
import { openVaultStore, ringOf, tempDir } from './helpers.ts';

const START = Date.parse('2025-03-01T12:00:00Z');
const ORG = 'org_cache';

async function setup(t: Parameters<typeof tempDir>[0]) {
  const path = join(tempDir(t), 'vault.sqlite');
  const oldKey = generateKey();
  const newKey = generateKey();
  const clock = fixedClock(START);
  // Two processes on one database file: `serving` caches, `admin` changes things underneath it.
  const open = (ring: ReturnType<typeof ringOf>) => {
    const { store } = openVaultStore(t, path);
    const vault = new Vault({ store, keys: new LocalKeyProvider(ring), clock });
    return { store, vault, refresher: new CredentialRefresher({ vault, clock, resolveProvider: async () => undefined }) };
  };
  const serving = open(ringOf([1, oldKey]));
  const admin = open(ringOf([1, oldKey]));
  const account = await admin.vault.createPendingAccount(ORG, { owner: { kind: 'user', user_id: 'usr_1' }, connector: 'demo' });
  await admin.vault.storeCredential(ORG, account.id, { type: 'api_key', api_key: 'key-number-one-000' });
  return { serving, admin, open, account_id: account.id, oldKey, newKey };
}

const apiKey = (credential: { type: string; api_key?: string }) => (credential.type === 'api_key' ? credential.api_key : undefined);

test('an unchanged credential is opened once, then found opened', async (t) => {
  const { serving, account_id } = await setup(t);
  const before = serving.vault.credentialOpens;
  for (let i = 0; i < 5; i++) assert.equal(apiKey((await serving.refresher.getFreshCredential(ORG, account_id)).credential), 'key-number-one-000');
  assert.equal(serving.vault.credentialOpens - before, 1);
});

test('a credential rotated by another process is used on the next call', async (t) => {
  const { serving, admin, account_id } = await setup(t);
  await serving.refresher.getFreshCredential(ORG, account_id);
  for (let i = 2; i <= 6; i++) {
    await admin.vault.storeCredential(ORG, account_id, { type: 'api_key', api_key: `key-number-${i}-rotated` });
    assert.equal(apiKey((await serving.refresher.getFreshCredential(ORG, account_id)).credential), `key-number-${i}-rotated`);
    // And again from memory, still the new one.
    assert.equal(apiKey((await serving.refresher.getFreshCredential(ORG, account_id)).credential), `key-number-${i}-rotated`);
  }
});

test('a revoked or disconnected account is refused on the next call despite the opened credential', async (t) => {
  const { serving, admin, account_id } = await setup(t);
  await serving.refresher.getFreshCredential(ORG, account_id);
  const record = (await admin.store.getAccount(ORG, account_id))!;
  await admin.store.setStatusIfVersion(ORG, account_id, record.credential_version, { status: 'revoked', updated_at: new Date(START).toISOString() });
  await assert.rejects(serving.refresher.getFreshCredential(ORG, account_id), { code: 'auth_revoked' });

  const second = await admin.vault.createPendingAccount(ORG, { owner: { kind: 'user', user_id: 'usr_2' }, connector: 'demo' });
  await admin.vault.storeCredential(ORG, second.id, { type: 'api_key', api_key: 'key-of-the-second-one' });
  await serving.refresher.getFreshCredential(ORG, second.id);
  await admin.vault.disconnect(ORG, second.id);
  await assert.rejects(serving.refresher.getFreshCredential(ORG, second.id), { code: 'not_connected' });
});

test('a master-key rotation re-opens under the re-wrapped data key, and a shredded data key opens nothing', async (t) => {
  const { serving, open, account_id, oldKey, newKey } = await setup(t);
  await serving.refresher.getFreshCredential(ORG, account_id);
  const opens = serving.vault.credentialOpens;
  // The operator rotates the master key; the serving process's ring has both versions.
  const rotating = open(ringOf([1, oldKey], [2, newKey]));
  const progress = await rotating.vault.rotateMasterKey();
  assert.equal(progress.done, 1);
  const servingBoth = open(ringOf([1, oldKey], [2, newKey]));
  await servingBoth.refresher.getFreshCredential(ORG, account_id);
  // The process that opened it under the old wrapping sees the new wrapping and opens again.
  const afterRotation = serving.vault.credentialOpens;
  await assert.rejects(serving.refresher.getFreshCredential(ORG, account_id), 'the old ring cannot unwrap the re-wrapped key, whatever it opened before');
  assert.equal(serving.vault.credentialOpens, afterRotation, 'nothing was served from memory after the rotation');
  assert.equal(afterRotation, opens);
  assert.equal(apiKey((await servingBoth.refresher.getFreshCredential(ORG, account_id)).credential), 'key-number-one-000');

  // Crypto-shredding: the org's data key goes, and with it every opened credential.
  await rotating.store.deleteDataKey(ORG);
  await assert.rejects(servingBoth.refresher.getFreshCredential(ORG, account_id));
});
