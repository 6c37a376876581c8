// In-memory persistence for the demo provider's oidc-provider instance. One store per provider
// (oidc-provider's built-in memory adapter is a process-wide singleton, which would mix two
// providers in one test process) and one index from grant id to every artefact issued under it,
// so revoking a grant kills its codes, access tokens and refresh tokens together.

export type Payload = Record<string, unknown> & {
  grantId?: string;
  uid?: string;
  userCode?: string;
  accountId?: string;
  consumed?: number;
};

/** The adapter contract oidc-provider calls for each model (Session, Grant, AccessToken, ...). */
export interface OidcAdapter {
  upsert(id: string, payload: Payload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<Payload | undefined>;
  findByUid(uid: string): Promise<Payload | undefined>;
  findByUserCode(userCode: string): Promise<Payload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

interface StoredRecord {
  payload: Payload;
  expiresAt: number; // ms since epoch; Infinity when the model has no expiry
}

export class DemoStore {
  readonly #records = new Map<string, StoredRecord>(); // `${model}:${id}`
  readonly #grantMembers = new Map<string, Set<string>>(); // grantId -> record keys
  readonly #sessionIdByUid = new Map<string, string>();
  #writesSinceSweep = 0;

  adapterFor(model: string): OidcAdapter {
    const key = (id: string) => `${model}:${id}`;
    return {
      upsert: async (id, payload, expiresIn) => {
        this.#put(key(id), payload, expiresIn);
        if (model === 'Session' && typeof payload.uid === 'string') this.#sessionIdByUid.set(payload.uid, id);
      },
      find: async (id) => this.#get(key(id)),
      findByUid: async (uid) => {
        const id = this.#sessionIdByUid.get(uid);
        return id === undefined ? undefined : this.#get(key(id));
      },
      // The device flow is not enabled; nothing is ever stored under a user code.
      findByUserCode: async () => undefined,
      consume: async (id) => {
        const record = this.#records.get(key(id));
        if (record) record.payload.consumed = Math.floor(Date.now() / 1000);
      },
      destroy: async (id) => this.#delete(key(id)),
      revokeByGrantId: async (grantId) => this.revokeGrant(grantId),
    };
  }

  /** Deletes every artefact issued under the grant, and the grant itself. */
  revokeGrant(grantId: string): void {
    for (const recordKey of this.#grantMembers.get(grantId) ?? []) this.#records.delete(recordKey);
    this.#grantMembers.delete(grantId);
    this.#records.delete(`Grant:${grantId}`);
  }

  /** Ids of the live grants a user has given, to any client. */
  grantIdsOf(accountId: string): string[] {
    const ids: string[] = [];
    for (const [recordKey, record] of this.#records) {
      if (recordKey.startsWith('Grant:') && record.payload.accountId === accountId && record.expiresAt > Date.now()) {
        ids.push(recordKey.slice('Grant:'.length));
      }
    }
    return ids;
  }

  #put(recordKey: string, payload: Payload, expiresIn?: number): void {
    // A long-running quickstart would otherwise keep every expired code and token forever.
    if (++this.#writesSinceSweep >= 500) this.#sweep();
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    this.#records.set(recordKey, { payload: structuredClone(payload), expiresAt });
    if (typeof payload.grantId === 'string' && !recordKey.startsWith('Grant:') && !recordKey.startsWith('Session:')) {
      const members = this.#grantMembers.get(payload.grantId) ?? new Set<string>();
      members.add(recordKey);
      this.#grantMembers.set(payload.grantId, members);
    }
  }

  #get(recordKey: string): Payload | undefined {
    const record = this.#records.get(recordKey);
    if (!record) return undefined;
    if (record.expiresAt <= Date.now()) {
      this.#delete(recordKey);
      return undefined;
    }
    return structuredClone(record.payload);
  }

  #sweep(): void {
    this.#writesSinceSweep = 0;
    const now = Date.now();
    for (const [recordKey, record] of this.#records) if (record.expiresAt <= now) this.#delete(recordKey);
    for (const [uid, id] of this.#sessionIdByUid) if (!this.#records.has(`Session:${id}`)) this.#sessionIdByUid.delete(uid);
    for (const [grantId, members] of this.#grantMembers) if (members.size === 0) this.#grantMembers.delete(grantId);
  }

  #delete(recordKey: string): void {
    const record = this.#records.get(recordKey);
    this.#records.delete(recordKey);
    const grantId = record?.payload.grantId;
    if (typeof grantId === 'string') this.#grantMembers.get(grantId)?.delete(recordKey);
  }
}
