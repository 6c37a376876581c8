import { SqliteDatabase } from '../../src/storage/sqlite/database.ts';
import { SqliteVaultStore, vaultMigrations } from '../../src/storage/sqlite/vault.ts';
import { vaultStoreContract } from '../vault/store-contract.ts';

// The vault port's contract against every adapter available here. The MongoDB adapter runs the
// same `vaultStoreContract` from its own test file once it exists.
vaultStoreContract('sqlite', async () => {
  const db = new SqliteDatabase(':memory:');
  db.migrate(vaultMigrations);
  return { store: new SqliteVaultStore(db), close: async () => db.close() };
});
