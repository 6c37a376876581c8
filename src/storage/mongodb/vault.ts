import type { Collection, Db, Document, Filter, WithId } from 'mongodb';
import type {
  AccountFilter, AccountPatch, AccountStatus, ConnectedAccountRecord, CredentialWrite, DataKeyRecord, VaultStore,
} from '../ports/vault.ts';
import { isDuplicateKey, rethrowAsConflict, retryOnDuplicate, setAndUnset, type IndexPlan } from './database.ts';

// The vault's documents. Every atomic step of the port is one single-document operation, so it
// needs no transaction: the credential compare-and-swap is `findOneAndUpdate` filtered on
// `credential_version`, the lease is an upsert on the unique (org_id, account_id) key whose
// filter only matches a free, expired or own lease.

interface DataKeyDoc { org_id: string; version: number; wrapped: string; master_version: number; created_at: string; rewrapped_at?: string }

interface AccountDoc {
  org_id: string; id: string;
  /** The owner, flattened so that filters and the owner index are plain fields. */
  owner_kind: 'user' | 'org'; owner_user_id?: string;
  connector: string; status: AccountStatus; scopes: string[]; expires_at?: string;
  created_at: string; updated_at: string; credential_version: number;
  credential_type?: 'oauth2' | 'api_key'; api_key_hint?: string; sealed_credential?: string; sealed_connect?: string;
  cooldown_until?: string; last_error?: string;
}

interface LeaseDoc {
  org_id: string; account_id: string; owner: string;
  /** Epoch ms on the caller's clock: the only thing that decides whether the lease is live. */
  expires_at: number;
  /** Wall-clock date for the TTL index, which only collects abandoned leases. */
  gc_at: Date;
}

/** How long after its wall-clock expiry an abandoned lease is left before the TTL monitor drops it. */
const LEASE_GC_GRACE_SECONDS = 3600;

export const vaultIndexes: IndexPlan[] = [
  {
    collection: 'vault_data_keys',
    indexes: [
      { key: { org_id: 1 }, name: 'vault_data_keys_org', unique: true },
      // Master key rotation walks the keys still wrapped by an older master key, in org order.
      { key: { master_version: 1, org_id: 1 }, name: 'vault_data_keys_master' },
    ],
  },
  {
    collection: 'vault_accounts',
    indexes: [
      { key: { org_id: 1, id: 1 }, name: 'vault_accounts_org_id', unique: true },
      { key: { org_id: 1, owner_kind: 1, owner_user_id: 1, connector: 1 }, name: 'vault_accounts_org_owner' },
    ],
  },
  {
    collection: 'vault_leases',
    indexes: [
      { key: { org_id: 1, account_id: 1 }, name: 'vault_leases_org_account', unique: true },
      // Garbage collection of abandoned leases, on the server's clock and with a grace period;
      // acquireLease decides expiry itself, on the caller's clock.
      { key: { gc_at: 1 }, name: 'vault_leases_gc_ttl', expireAfterSeconds: LEASE_GC_GRACE_SECONDS },
    ],
  },
];

const toDataKey = (d: WithId<DataKeyDoc>): DataKeyRecord => ({
  org_id: d.org_id, version: d.version, wrapped: d.wrapped, master_version: d.master_version,
  created_at: d.created_at, rewrapped_at: d.rewrapped_at ?? undefined,
});

const toAccount = (d: WithId<AccountDoc>): ConnectedAccountRecord => ({
  id: d.id,
  org_id: d.org_id,
  owner: d.owner_kind === 'user' ? { kind: 'user', user_id: String(d.owner_user_id) } : { kind: 'org' },
  connector: d.connector,
  status: d.status,
  scopes: [...d.scopes],
  expires_at: d.expires_at ?? undefined,
  created_at: d.created_at,
  updated_at: d.updated_at,
  credential_version: d.credential_version,
  credential_type: d.credential_type ?? undefined,
  api_key_hint: d.api_key_hint ?? undefined,
  sealed_credential: d.sealed_credential ?? undefined,
  sealed_connect: d.sealed_connect ?? undefined,
  cooldown_until: d.cooldown_until ?? undefined,
  last_error: d.last_error ?? undefined,
});

/** The update for an AccountPatch: `null` clears (`$unset`), `undefined` leaves alone. */
function patchUpdate(patch: AccountPatch): Document {
  const $set: Document = { updated_at: patch.updated_at };
  const $unset: Document = {};
  if (patch.status !== undefined) $set.status = patch.status;
  if (patch.scopes !== undefined) $set.scopes = [...patch.scopes];
  for (const field of ['sealed_connect', 'cooldown_until', 'last_error'] as const) {
    const value = patch[field];
    if (value === null) $unset[field] = '';
    else if (value !== undefined) $set[field] = value;
  }
  return Object.keys($unset).length > 0 ? { $set, $unset } : { $set };
}

export class MongoVaultStore implements VaultStore {
  readonly #keys: Collection<DataKeyDoc>;
  readonly #accounts: Collection<AccountDoc>;
  readonly #leases: Collection<LeaseDoc>;

  constructor(db: Db) {
    this.#keys = db.collection<DataKeyDoc>('vault_data_keys');
    this.#accounts = db.collection<AccountDoc>('vault_accounts');
    this.#leases = db.collection<LeaseDoc>('vault_leases');
  }

  // Data keys

  async getDataKey(org_id: string) {
    const d = await this.#keys.findOne({ org_id });
    return d ? toDataKey(d) : undefined;
  }

  async putDataKeyIfAbsent(k: DataKeyRecord) {
    // $setOnInsert: the first writer's key wins, later writers get the stored one back.
    const stored = await retryOnDuplicate(() => this.#keys.findOneAndUpdate(
      { org_id: k.org_id },
      { $setOnInsert: { version: k.version, wrapped: k.wrapped, master_version: k.master_version, created_at: k.created_at, ...(k.rewrapped_at !== undefined ? { rewrapped_at: k.rewrapped_at } : {}) } },
      { upsert: true, returnDocument: 'after' },
    ));
    if (!stored) throw new Error('upsert of a data key returned no document');
    return toDataKey(stored);
  }

  async rewrapDataKey(org_id: string, expected_wrapped: string, next: { wrapped: string; master_version: number; rewrapped_at: string }) {
    const r = await this.#keys.updateOne(
      { org_id, wrapped: expected_wrapped },
      { $set: { wrapped: next.wrapped, master_version: next.master_version, rewrapped_at: next.rewrapped_at } },
    );
    return r.matchedCount === 1;
  }

  async listDataKeysToRewrap(master_version: number, options: { after?: string; limit: number }) {
    if (options.limit <= 0) return [];
    return (await this.#keys.find({ master_version: { $ne: master_version }, org_id: { $gt: options.after ?? '' } })
      .sort({ org_id: 1 }).limit(options.limit).toArray()).map(toDataKey);
  }

  countDataKeysToRewrap(master_version: number) {
    return this.#keys.countDocuments({ master_version: { $ne: master_version } });
  }

  async deleteDataKey(org_id: string) {
    return (await this.#keys.deleteOne({ org_id })).deletedCount === 1;
  }

  // Connected accounts

  async createAccount(org_id: string, a: ConnectedAccountRecord) {
    if (a.org_id !== org_id) throw new TypeError('account.org_id does not match org_id');
    try {
      await this.#accounts.insertOne({
        org_id, id: a.id, owner_kind: a.owner.kind, owner_user_id: a.owner.kind === 'user' ? a.owner.user_id : undefined,
        connector: a.connector, status: a.status, scopes: [...a.scopes], expires_at: a.expires_at,
        created_at: a.created_at, updated_at: a.updated_at, credential_version: a.credential_version,
        credential_type: a.credential_type, api_key_hint: a.api_key_hint, sealed_credential: a.sealed_credential,
        sealed_connect: a.sealed_connect, cooldown_until: a.cooldown_until, last_error: a.last_error,
      });
    } catch (err) {
      rethrowAsConflict(err, 'a connected account with this id already exists in the org');
    }
  }

  async getAccount(org_id: string, account_id: string) {
    const d = await this.#accounts.findOne({ org_id, id: account_id });
    return d ? toAccount(d) : undefined;
  }

  async listAccounts(org_id: string, filter: AccountFilter = {}) {
    const query: Filter<AccountDoc> = { org_id };
    if (filter.owner) {
      query.owner_kind = filter.owner.kind;
      if (filter.owner.kind === 'user') query.owner_user_id = filter.owner.user_id;
    }
    if (filter.connector !== undefined) query.connector = filter.connector;
    if (filter.status !== undefined) query.status = filter.status;
    return (await this.#accounts.find(query).sort({ id: 1 }).toArray()).map(toAccount);
  }

  async updateAccount(org_id: string, account_id: string, patch: AccountPatch) {
    const d = await this.#accounts.findOneAndUpdate({ org_id, id: account_id }, patchUpdate(patch), { returnDocument: 'after' });
    return d ? toAccount(d) : undefined;
  }

  async swapCredential(org_id: string, account_id: string, expected_version: number, w: CredentialWrite) {
    const update = setAndUnset(
      {
        sealed_credential: w.sealed_credential, credential_type: w.credential_type, api_key_hint: w.api_key_hint,
        status: w.status, scopes: [...w.scopes], expires_at: w.expires_at, updated_at: w.updated_at,
        cooldown_until: undefined, last_error: undefined, sealed_connect: undefined,
      },
      { $inc: { credential_version: 1 } },
    );
    const d = await this.#accounts.findOneAndUpdate(
      { org_id, id: account_id, credential_version: expected_version }, update, { returnDocument: 'after' },
    );
    return d ? toAccount(d) : undefined;
  }

  async setStatusIfVersion(org_id: string, account_id: string, expected_version: number, patch: AccountPatch) {
    const r = await this.#accounts.updateOne({ org_id, id: account_id, credential_version: expected_version }, patchUpdate(patch));
    return r.matchedCount === 1;
  }

  async deleteAccount(org_id: string, account_id: string) {
    await this.#leases.deleteOne({ org_id, account_id });
    return (await this.#accounts.deleteOne({ org_id, id: account_id })).deletedCount === 1;
  }

  // Refresh leases

  async acquireLease(org_id: string, account_id: string, owner: string, ttl_ms: number, now: number) {
    try {
      // Matches a lease that is expired or already ours; with none at all the upsert inserts one.
      // A live lease of someone else matches nothing, so the upsert's insert hits the unique key.
      const r = await this.#leases.updateOne(
        { org_id, account_id, $or: [{ expires_at: { $lte: now } }, { owner }] },
        { $set: { owner, expires_at: now + ttl_ms, gc_at: new Date(Math.max(now, Date.now()) + ttl_ms) } },
        { upsert: true },
      );
      return r.matchedCount === 1 || r.upsertedCount === 1;
    } catch (err) {
      if (isDuplicateKey(err, 'vault_leases_org_account')) return false;
      throw err;
    }
  }

  async releaseLease(org_id: string, account_id: string, owner: string) {
    await this.#leases.deleteOne({ org_id, account_id, owner });
  }

  async deleteOrg(org_id: string) {
    await this.#keys.deleteMany({ org_id });
    await this.#leases.deleteMany({ org_id });
    await this.#accounts.deleteMany({ org_id });
  }
}
