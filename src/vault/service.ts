import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import { safeEqual } from '../core/secrets.ts';
import { UNEXPECTED, WritError } from '../errors/index.ts';
import type {
  AccountFilter, AccountOwner, AccountStatus, ConnectedAccountRecord, DataKeyRecord, VaultStore,
} from '../storage/ports/vault.ts';
import {
  associatedData, credentialAad, generateKey, openWithKey, sealedKeyVersion, sealWithKey, VaultCryptoError,
  type KeyProvider,
} from './crypto.ts';
import {
  createAuthorizationRequest, exchangeCode, type OAuthProviderConfig, type OAuthRequestOptions, type TokenSet,
} from './oauth-client.ts';
import { apiKeyHint, credentialSchema, safeView, type Credential, type OAuthCredential, type SafeAccount } from './records.ts';

// The vault: the only module that opens a credential. Every method takes `org_id` first and
// looks records up by (org, id); nothing is found by an account or user id alone.

export interface VaultOptions {
  store: VaultStore;
  keys: KeyProvider;
  clock?: Clock;
}

export interface RotationProgress {
  done: number;
  total: number;
}

const DATA_KEY_VERSION = 1;
/** Opened credentials kept in memory, one per account (least recently opened evicted first). */
const OPENED_CREDENTIALS = 10_000;

export class Vault {
  readonly #store: VaultStore;
  readonly #keys: KeyProvider;
  readonly #clock: Clock;
  /** Unwrapped data keys by `org_id + wrapped`; the record is re-read on every use, so a deleted key is never used. */
  readonly #unwrapped = new Map<string, Buffer>();
  /**
   * Opened credentials by `org_id + account id`, each with the ciphertext it was opened from and
   * the wrapped data key that opened it. A hit needs both to be what the store holds now: every
   * credential write (a refresh, a rotation, a reconnect) seals a new ciphertext and a master-key
   * rotation re-wraps the data key, so either is a miss at once; a revoked or removed account is
   * refused from its record before its credential is opened.
   */
  readonly #opened = new Map<string, { sealed: string; wrapped: string; credential: Credential }>();
  #openedMisses = 0;

  constructor(options: VaultOptions) {
    this.#store = options.store;
    this.#keys = options.keys;
    this.#clock = options.clock ?? systemClock;
  }

  get store(): VaultStore { return this.#store; }

  #now(): string { return new Date(this.#clock.now()).toISOString(); }

  // ---- data keys -------------------------------------------------------------------------

  async #dataKey(org_id: string, create: boolean): Promise<{ version: number; key: Buffer; wrapped: string }> {
    let record: DataKeyRecord | undefined = await this.#store.getDataKey(org_id);
    if (!record) {
      if (!create) throw new VaultCryptoError('unknown_key', 'the org has no data key');
      const fresh = generateKey();
      const { wrapped, master_version } = await this.#keys.wrapDataKey(fresh, org_id);
      // Two processes may race to create it; both use whichever landed first.
      record = await this.#store.putDataKeyIfAbsent({ org_id, version: DATA_KEY_VERSION, wrapped, master_version, created_at: this.#now() });
    }
    const cacheKey = `${org_id}\u0000${record.wrapped}`;
    let key = this.#unwrapped.get(cacheKey);
    if (!key) {
      key = await this.#keys.unwrapDataKey(record.wrapped, org_id);
      this.#unwrapped.set(cacheKey, key);
    }
    return { version: record.version, key, wrapped: record.wrapped };
  }

  /** Seals an org-scoped secret (e.g. a connector's client secret) bound to `purpose` and `id`. */
  async sealOrgSecret(org_id: string, purpose: string, id: string, plaintext: string): Promise<string> {
    const dk = await this.#dataKey(org_id, true);
    return sealWithKey(dk.version, dk.key, plaintext, associatedData(purpose, org_id, id, dk.version));
  }

  async openOrgSecret(org_id: string, purpose: string, id: string, sealed: string): Promise<string> {
    const dk = await this.#dataKey(org_id, false);
    const version = sealedKeyVersion(sealed);
    return openWithKey(dk.key, sealed, associatedData(purpose, org_id, id, version)).toString('utf8');
  }

  // ---- accounts --------------------------------------------------------------------------

  async createPendingAccount(org_id: string, params: { owner: AccountOwner; connector: string; scopes?: string[] }): Promise<SafeAccount> {
    const now = this.#now();
    const account: ConnectedAccountRecord = {
      id: newId('acct', this.#clock.now()),
      org_id,
      owner: params.owner,
      connector: params.connector,
      status: 'pending',
      scopes: params.scopes ?? [],
      created_at: now,
      updated_at: now,
      credential_version: 0,
    };
    await this.#store.createAccount(org_id, account);
    return safeView(account);
  }

  async getAccount(org_id: string, account_id: string): Promise<SafeAccount | undefined> {
    const account = await this.#store.getAccount(org_id, account_id);
    return account && safeView(account);
  }

  async listAccounts(org_id: string, filter?: AccountFilter): Promise<SafeAccount[]> {
    return (await this.#store.listAccounts(org_id, filter)).map(safeView);
  }

  /** Seals and stores a credential (OAuth tokens or an API key); the account becomes `active`. */
  async storeCredential(
    org_id: string,
    account_id: string,
    credential: Credential,
    options: { scopes?: string[]; expected_version?: number } = {},
  ): Promise<SafeAccount> {
    const account = await this.#store.getAccount(org_id, account_id);
    if (!account) throw new VaultError('not_connected', 'no such connected account');
    const written = await this.writeCredential(account, options.expected_version ?? account.credential_version, credential, {
      status: 'active', scopes: options.scopes ?? account.scopes,
    });
    if (!written) throw new VaultError('conflict', 'the credential changed while it was being stored');
    return safeView(written);
  }

  /**
   * Compare-and-swap write of a credential, for the refresher: undefined when the account's
   * credential version is no longer `expected_version`.
   */
  async writeCredential(
    account: Pick<ConnectedAccountRecord, 'org_id' | 'id'>,
    expected_version: number,
    credential: Credential,
    next: { status: AccountStatus; scopes: string[] },
  ): Promise<ConnectedAccountRecord | undefined> {
    const parsed = credentialSchema.parse(credential);
    const dk = await this.#dataKey(account.org_id, true);
    const sealed = sealWithKey(dk.version, dk.key, JSON.stringify(parsed), credentialAad(account.org_id, account.id, dk.version));
    return this.#store.swapCredential(account.org_id, account.id, expected_version, {
      sealed_credential: sealed,
      credential_type: parsed.type,
      api_key_hint: parsed.type === 'api_key' ? apiKeyHint(parsed.api_key) : undefined,
      status: next.status,
      scopes: next.scopes,
      expires_at: parsed.type === 'oauth2' ? parsed.expires_at : undefined,
      updated_at: this.#now(),
    });
  }

  /** Opens the account's credential. Fails if the ciphertext was moved, tampered with or shredded. */
  async openCredential(account: ConnectedAccountRecord): Promise<Credential> {
    if (!account.sealed_credential) throw new VaultError('not_connected', 'the account has no credential yet');
    const dk = await this.#dataKey(account.org_id, false);
    const cacheKey = `${account.org_id}\u0000${account.id}`;
    const cached = this.#opened.get(cacheKey);
    if (cached && cached.sealed === account.sealed_credential && cached.wrapped === dk.wrapped) return cached.credential;
    this.#openedMisses++;
    const version = sealedKeyVersion(account.sealed_credential);
    const plaintext = openWithKey(dk.key, account.sealed_credential, credentialAad(account.org_id, account.id, version));
    const credential = Object.freeze(credentialSchema.parse(JSON.parse(plaintext.toString('utf8')))) as Credential;
    this.#opened.delete(cacheKey);
    this.#opened.set(cacheKey, { sealed: account.sealed_credential, wrapped: dk.wrapped, credential });
    // The least recently opened goes first.
    if (this.#opened.size > OPENED_CREDENTIALS) this.#opened.delete(this.#opened.keys().next().value!);
    return credential;
  }

  /** How many credentials were opened from ciphertext rather than found opened (for tests and metrics). */
  get credentialOpens(): number {
    return this.#openedMisses;
  }

  /** Reads and opens an account's credential as stored, without any freshness check. */
  async readCredential(org_id: string, account_id: string): Promise<{ account: SafeAccount; credential: Credential }> {
    const account = await this.#store.getAccount(org_id, account_id);
    if (!account) throw new VaultError('not_connected', 'no such connected account');
    return { account: safeView(account), credential: await this.openCredential(account) };
  }

  /**
   * Removes the account. `revokeUpstream` gets the opened credential first (RFC 7009 at the
   * provider, best effort: a failure there is reported but the account is removed anyway).
   */
  async disconnect(
    org_id: string,
    account_id: string,
    options: { revokeUpstream?: (credential: Credential) => Promise<unknown> } = {},
  ): Promise<{ account: SafeAccount; upstream: 'revoked' | 'not_attempted' | 'failed' } | undefined> {
    const account = await this.#store.getAccount(org_id, account_id);
    if (!account) return undefined;
    let upstream: 'revoked' | 'not_attempted' | 'failed' = 'not_attempted';
    if (options.revokeUpstream && account.sealed_credential) {
      try {
        await options.revokeUpstream(await this.openCredential(account));
        upstream = 'revoked';
      } catch {
        upstream = 'failed';
      }
    }
    await this.#store.deleteAccount(org_id, account_id);
    this.#opened.delete(`${org_id}\u0000${account_id}`);
    return { account: { ...safeView(account), status: 'revoked' }, upstream };
  }

  // ---- connect (flow 5) --------------------------------------------------------------------

  /**
   * Starts the provider's authorization for a pending account. The `state` names the org and the
   * account (so the callback can find them) plus a random part checked in constant time; the PKCE
   * verifier is sealed on the account.
   */
  async beginConnect(
    org_id: string,
    account_id: string,
    provider: OAuthProviderConfig,
    params: { redirect_uri: string; scopes: string[] },
  ): Promise<{ url: string; state: string }> {
    const account = await this.#store.getAccount(org_id, account_id);
    if (!account) throw new VaultError('not_connected', 'no such connected account');
    const state = `${org_id}.${account_id}.${randomBytes(24).toString('base64url')}`;
    const request = createAuthorizationRequest(provider, { ...params, state });
    const sealed_connect = await this.sealOrgSecret(org_id, 'connect', account_id, JSON.stringify({
      state, code_verifier: request.code_verifier, redirect_uri: params.redirect_uri, scopes: params.scopes,
    }));
    await this.#store.updateAccount(org_id, account_id, { sealed_connect, updated_at: this.#now() });
    return { url: request.url, state };
  }

  /** Completes the connect at the callback: checks `state`, exchanges the code, stores the tokens. */
  async completeConnect(
    org_id: string,
    account_id: string,
    provider: OAuthProviderConfig,
    params: { state: string; code: string },
    options: OAuthRequestOptions = {},
  ): Promise<SafeAccount> {
    const account = await this.#store.getAccount(org_id, account_id);
    if (!account?.sealed_connect) throw new VaultError('invalid_state', 'no authorization is in progress for this account');
    const pending = JSON.parse(await this.openOrgSecret(org_id, 'connect', account_id, account.sealed_connect)) as {
      state: string; code_verifier: string; redirect_uri: string; scopes: string[];
    };
    if (!safeEqual(pending.state, params.state)) throw new VaultError('invalid_state', 'state does not match the authorization in progress');
    // One use: clear the pending state before the exchange.
    await this.#store.updateAccount(org_id, account_id, { sealed_connect: null, updated_at: this.#now() });
    let tokens: TokenSet;
    try {
      tokens = await exchangeCode(provider, { code: params.code, redirect_uri: pending.redirect_uri, code_verifier: pending.code_verifier }, options);
    } catch (err) {
      await this.#store.updateAccount(org_id, account_id, {
        status: 'error', last_error: `authorization code exchange failed: ${(err as Error).message}`, updated_at: this.#now(),
      });
      throw err;
    }
    return this.storeCredential(org_id, account_id, credentialFromTokens(tokens), { scopes: tokens.scopes ?? pending.scopes });
  }

  // ---- keys and orgs ---------------------------------------------------------------------

  /**
   * Re-wraps every org's data key under the key provider's current master key version. Safe to
   * run while serving: readers unwrap with any version in the ring, and each re-wrap is a
   * compare-and-swap, so a concurrent rotation or org deletion is skipped, not overwritten.
   */
  async rotateMasterKey(options: { batchSize?: number; onProgress?: (progress: RotationProgress) => void } = {}): Promise<RotationProgress> {
    const target = this.#keys.currentVersion;
    const total = await this.#store.countDataKeysToRewrap(target);
    let done = 0;
    let after: string | undefined;
    for (;;) {
      const batch = await this.#store.listDataKeysToRewrap(target, { after, limit: options.batchSize ?? 100 });
      if (batch.length === 0) break;
      for (const record of batch) {
        const key = await this.#keys.unwrapDataKey(record.wrapped, record.org_id);
        const next = await this.#keys.wrapDataKey(key, record.org_id);
        if (await this.#store.rewrapDataKey(record.org_id, record.wrapped, { ...next, rewrapped_at: this.#now() })) done++;
        after = record.org_id;
        options.onProgress?.({ done, total });
      }
    }
    return { done, total };
  }

  /** Crypto-shredding first (the data key goes), then every vault record of the org. */
  async destroyOrg(org_id: string): Promise<void> {
    await this.#store.deleteDataKey(org_id);
    for (const cacheKey of this.#unwrapped.keys()) if (cacheKey.startsWith(`${org_id}\u0000`)) this.#unwrapped.delete(cacheKey);
    for (const cacheKey of this.#opened.keys()) if (cacheKey.startsWith(`${org_id}\u0000`)) this.#opened.delete(cacheKey);
    await this.#store.deleteOrg(org_id);
  }
}

export function credentialFromTokens(tokens: TokenSet, previous?: OAuthCredential): OAuthCredential {
  const credential: OAuthCredential = { type: 'oauth2', access_token: tokens.access_token, token_type: tokens.token_type };
  // A provider that does not rotate omits the refresh token on refresh: keep the one we have.
  const refresh_token = tokens.refresh_token ?? previous?.refresh_token;
  if (refresh_token !== undefined) credential.refresh_token = refresh_token;
  if (tokens.expires_at !== undefined) credential.expires_at = new Date(tokens.expires_at).toISOString();
  return credential;
}

export type VaultErrorCode = 'not_connected' | 'conflict' | 'invalid_state';

/** The account changed under a call (removed, rewritten, its connect restarted); callers translate what a client may see. */
export class VaultError extends WritError {
  declare readonly reason: VaultErrorCode;
  constructor(reason: VaultErrorCode, message: string) {
    super('server_error', UNEXPECTED, { message, reason });
    this.name = 'VaultError';
  }
}

/** Parses the org and account out of a connect `state`; the random part is checked by completeConnect. */
export function parseConnectState(state: string): { org_id: string; account_id: string } | undefined {
  const m = /^([A-Za-z0-9_-]{1,100})\.([A-Za-z0-9_-]{1,100})\.[A-Za-z0-9_-]{32}$/.exec(state);
  return m ? { org_id: m[1]!, account_id: m[2]! } : undefined;
}
