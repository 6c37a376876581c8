import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../core/clock.ts';
import { WritError, type ErrorCode } from '../errors/index.ts';
import type { ConnectedAccountRecord, VaultStore } from '../storage/ports/vault.ts';
import { OAuthClientError, refreshAccessToken, type OAuthProviderConfig, type TokenSet } from './oauth-client.ts';
import { safeView, type Credential, type OAuthCredential, type SafeAccount } from './records.ts';
import { credentialFromTokens, type Vault } from './service.ts';

// Fresh credentials, one refresh per account at a time across every process (invariant 6):
//   1. in-process single-flight: concurrent callers share one promise;
//   2. a store lease (owner + TTL, atomic) keeps other processes out;
//   3. after taking the lease, re-read: another process may have refreshed already;
//   4. call the provider's token endpoint (network errors and 5xx retried, bounded);
//   5. write the new tokens with compare-and-swap on the credential version, so a rotated
//      refresh token is never overwritten by a stale one.
// `invalid_grant` marks the account `revoked`, which is not `expired` (invariant 7). Other
// failures set a short cooldown so a broken provider is not hammered.

export type VaultEvent =
  | { type: 'credential.refreshed'; org_id: string; account_id: string; connector: string; expires_at?: string | undefined; rotated: boolean }
  | { type: 'credential.refresh_failed'; org_id: string; account_id: string; connector: string; reason: string; retryable: boolean; cooldown_until?: string | undefined }
  | { type: 'account.revoked'; org_id: string; account_id: string; connector: string; reason: string };

export type CredentialUnavailableCode =
  | 'not_connected' // no such account, or it has no credential yet
  | 'pending' // the connect flow has not finished
  | 'revoked' // the provider refused the refresh token: reconnect
  | 'expired' // expired and nothing to refresh it with: reconnect
  | 'cooldown' // a recent refresh failed; try again after `retry_after_ms`
  | 'refresh_failed' // the provider failed this time (5xx, network, misconfiguration)
  | 'busy'; // another process holds the refresh lease for too long

/** The executor's answer for each reason: `auth_revoked` and `not_connected` only the user can fix. */
const ANSWER = {
  revoked: 'auth_revoked',
  expired: 'auth_revoked',
  not_connected: 'not_connected',
  pending: 'not_connected',
  refresh_failed: 'upstream_error',
  cooldown: 'temporarily_unavailable',
  busy: 'temporarily_unavailable',
} as const satisfies Record<CredentialUnavailableCode, ErrorCode>;

/** A typed outcome, already the executor's answer; it never carries a secret. */
export class CredentialUnavailableError extends WritError {
  declare readonly code: (typeof ANSWER)[CredentialUnavailableCode];
  declare readonly reason: CredentialUnavailableCode;
  readonly org_id: string;
  readonly account_id: string;
  readonly retry_after_ms: number | undefined;

  constructor(reason: CredentialUnavailableCode, org_id: string, account_id: string, message: string, retry_after_ms?: number, cause?: unknown) {
    const waits = ANSWER[reason] === 'temporarily_unavailable' && retry_after_ms !== undefined;
    super(ANSWER[reason], message, { reason, cause, ...(waits ? { expose: { retry_after: Math.ceil(retry_after_ms / 1000) } } : {}) });
    this.name = 'CredentialUnavailableError';
    this.org_id = org_id;
    this.account_id = account_id;
    this.retry_after_ms = retry_after_ms;
  }

  /** Only the user can fix it: the answer says where they reconnect. */
  get needsReconnect(): boolean {
    return this.code === 'auth_revoked' || this.code === 'not_connected';
  }
}

export interface FreshCredential {
  account: SafeAccount;
  credential: Credential;
  /** This call (or the call it joined) refreshed the token. */
  refreshed: boolean;
}

export interface RefresherOptions {
  vault: Vault;
  /** The OAuth client for an account's connector, or undefined if it cannot be refreshed. */
  resolveProvider(org_id: string, account: SafeAccount): Promise<OAuthProviderConfig | undefined>;
  clock?: Clock;
  /** Refresh this long before expiry. Default 60 s. */
  skewMs?: number;
  /** Lease lifetime; must outlast one refresh including retries. Default 30 s. */
  leaseTtlMs?: number;
  /** How often a caller without the lease re-reads the account. Default 100 ms. */
  pollIntervalMs?: number;
  /** How long a caller without the lease waits. Default 15 s. */
  maxWaitMs?: number;
  /** Extra attempts after a retryable failure. Default 2. */
  retries?: number;
  /** First retry delay, doubled each time. Default 250 ms. */
  backoffMs?: number;
  /** No new attempt for this long after a failure. Default 30 s. */
  cooldownMs?: number;
  /** Per token-endpoint request. Default 5 s. */
  requestTimeoutMs?: number;
  /** Lease owner id; default names the host, the process and a random suffix. */
  owner?: string;
  fetch?: typeof fetch;
  onEvent?: (event: VaultEvent) => void;
}

export class CredentialRefresher {
  readonly #vault: Vault;
  readonly #store: VaultStore;
  readonly #options: RefresherOptions;
  readonly #clock: Clock;
  readonly #owner: string;
  readonly #inflight = new Map<string, Promise<FreshCredential>>();

  constructor(options: RefresherOptions) {
    this.#vault = options.vault;
    this.#store = options.vault.store;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
  }

  /**
   * The account's credential, refreshed first if it expires within the skew. `forceRefresh`
   * after a provider 401: pass the `credential_version` that failed as `staleVersion`, so a
   * burst of 401s on one token makes one refresh, not one each. `read` is the account's record
   * as the caller read it from the store for this very call (the executor's lookup of the
   * principal's account), so the call reads it once; it is never a record kept from another call.
   */
  async getFreshCredential(org_id: string, account_id: string, options: { forceRefresh?: boolean; staleVersion?: number; read?: ConnectedAccountRecord } = {}): Promise<FreshCredential> {
    const account = options.read?.org_id === org_id && options.read.id === account_id ? options.read : await this.#store.getAccount(org_id, account_id);
    const credential = await this.#usable(org_id, account_id, account);
    const needsRefresh = options.forceRefresh
      ? options.staleVersion === undefined || account!.credential_version <= options.staleVersion
      : this.#expiring(credential);
    if (!needsRefresh || credential.type !== 'oauth2') return { account: safeView(account!), credential, refreshed: false };
    if (!credential.refresh_token) {
      if (account!.status === 'active') {
        await this.#store.setStatusIfVersion(org_id, account_id, account!.credential_version, { status: 'expired', updated_at: this.#iso(0) });
      }
      throw new CredentialUnavailableError('expired', org_id, account_id, 'the access token expired and the provider gave no refresh token');
    }

    // 1. In-process single-flight.
    const key = `${org_id}\u0000${account_id}`;
    let flight = this.#inflight.get(key);
    if (!flight) {
      flight = this.#refreshUnderLease(account!).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, flight);
    }
    return flight;
  }

  async #usable(org_id: string, account_id: string, account: ConnectedAccountRecord | undefined): Promise<Credential> {
    if (!account) throw new CredentialUnavailableError('not_connected', org_id, account_id, 'no such connected account');
    if (account.status === 'revoked') throw new CredentialUnavailableError('revoked', org_id, account_id, 'the provider revoked this connection; connect again');
    if (account.status === 'pending' && !account.sealed_credential) throw new CredentialUnavailableError('pending', org_id, account_id, 'the connection has not been completed');
    if (!account.sealed_credential) throw new CredentialUnavailableError('not_connected', org_id, account_id, 'the account has no credential');
    return this.#vault.openCredential(account);
  }

  #expiring(credential: Credential): boolean {
    if (credential.type !== 'oauth2' || credential.expires_at === undefined) return false;
    return Date.parse(credential.expires_at) - (this.#options.skewMs ?? 60_000) <= this.#clock.now();
  }

  #iso(offsetMs: number): string {
    return new Date(this.#clock.now() + offsetMs).toISOString();
  }

  #cooldownLeft(account: ConnectedAccountRecord): number {
    return account.cooldown_until === undefined ? 0 : Math.max(0, Date.parse(account.cooldown_until) - this.#clock.now());
  }

  async #refreshUnderLease(seen: ConnectedAccountRecord): Promise<FreshCredential> {
    const { org_id, id: account_id } = seen;
    const left = this.#cooldownLeft(seen);
    if (left > 0) throw new CredentialUnavailableError('cooldown', org_id, account_id, 'a recent refresh failed; try again shortly', left);

    // 2. The lease; without it, wait for the holder to finish.
    const ttl = this.#options.leaseTtlMs ?? 30_000;
    const deadline = this.#clock.now() + (this.#options.maxWaitMs ?? 15_000);
    while (!(await this.#store.acquireLease(org_id, account_id, this.#owner, ttl, this.#clock.now()))) {
      await sleep(this.#options.pollIntervalMs ?? 100);
      const current = await this.#store.getAccount(org_id, account_id);
      const outcome = await this.#doneElsewhere(seen, current);
      if (outcome) return outcome;
      if (this.#clock.now() >= deadline) {
        throw new CredentialUnavailableError('busy', org_id, account_id, 'another process is refreshing this credential', this.#options.pollIntervalMs ?? 100);
      }
    }

    try {
      // 3. Re-read under the lease.
      const current = await this.#store.getAccount(org_id, account_id);
      const outcome = await this.#doneElsewhere(seen, current);
      if (outcome) return outcome;
      const account = current!;
      const credential = (await this.#usable(org_id, account_id, account)) as OAuthCredential;
      const provider = await this.#options.resolveProvider(org_id, safeView(account));
      if (!provider) {
        throw new CredentialUnavailableError('refresh_failed', org_id, account_id, `connector ${account.connector} has no OAuth client configured`);
      }
      // 4. The provider.
      let tokens: TokenSet;
      try {
        tokens = await this.#callProvider(provider, credential.refresh_token!);
      } catch (err) {
        throw await this.#failed(account, err);
      }
      // 5. Compare-and-swap on the version we read under the lease.
      const next = credentialFromTokens(tokens, credential);
      const written = await this.#vault.writeCredential(account, account.credential_version, next, {
        status: 'active', scopes: tokens.scopes ?? account.scopes,
      });
      if (!written) {
        // Only possible if our lease expired mid-refresh and another process wrote first.
        this.#emit({ type: 'credential.refresh_failed', org_id, account_id, connector: account.connector, reason: 'conflict: the credential changed during refresh', retryable: true });
        const latest = await this.#store.getAccount(org_id, account_id);
        return { account: safeView(latest!), credential: await this.#usable(org_id, account_id, latest), refreshed: false };
      }
      this.#emit({
        type: 'credential.refreshed', org_id, account_id, connector: account.connector,
        expires_at: next.expires_at, rotated: tokens.refresh_token !== undefined && tokens.refresh_token !== credential.refresh_token,
      });
      return { account: safeView(written), credential: next, refreshed: true };
    } finally {
      await this.#store.releaseLease(org_id, account_id, this.#owner);
    }
  }

  /** Did someone else finish (or fail) the refresh since `seen`? */
  async #doneElsewhere(seen: ConnectedAccountRecord, current: ConnectedAccountRecord | undefined): Promise<FreshCredential | undefined> {
    const { org_id, id: account_id } = seen;
    if (!current) throw new CredentialUnavailableError('not_connected', org_id, account_id, 'the account was disconnected');
    if (current.status === 'revoked') throw new CredentialUnavailableError('revoked', org_id, account_id, 'the provider revoked this connection; connect again');
    if (current.credential_version !== seen.credential_version) {
      return { account: safeView(current), credential: await this.#usable(org_id, account_id, current), refreshed: true };
    }
    const left = this.#cooldownLeft(current);
    if (left > 0 && current.cooldown_until !== seen.cooldown_until) {
      throw new CredentialUnavailableError('cooldown', org_id, account_id, 'the refresh failed; try again shortly', left);
    }
    return undefined;
  }

  async #callProvider(provider: OAuthProviderConfig, refresh_token: string): Promise<TokenSet> {
    const retries = this.#options.retries ?? 2;
    const backoff = this.#options.backoffMs ?? 250;
    for (let attempt = 0; ; attempt++) {
      try {
        return await refreshAccessToken(provider, refresh_token, {
          fetch: this.#options.fetch, timeoutMs: this.#options.requestTimeoutMs ?? 5_000, now: () => this.#clock.now(),
        });
      } catch (err) {
        if (!(err instanceof OAuthClientError) || !err.retryable || attempt >= retries) throw err;
        // Exponential backoff with jitter, so processes that failed together do not retry together.
        await sleep(backoff * 2 ** attempt * (0.5 + Math.random() / 2));
      }
    }
  }

  async #failed(account: ConnectedAccountRecord, err: unknown): Promise<CredentialUnavailableError> {
    const { org_id, id: account_id, connector } = account;
    const reason = err instanceof Error ? err.message : 'refresh failed';
    if (err instanceof OAuthClientError && err.kind === 'invalid_grant') {
      await this.#store.setStatusIfVersion(org_id, account_id, account.credential_version, {
        status: 'revoked', last_error: reason, updated_at: this.#iso(0),
      });
      this.#emit({ type: 'account.revoked', org_id, account_id, connector, reason });
      return new CredentialUnavailableError('revoked', org_id, account_id, 'the provider revoked this connection; connect again', undefined, err);
    }
    const cooldown = this.#options.cooldownMs ?? 30_000;
    const retryable = err instanceof OAuthClientError ? err.retryable : false;
    const cooldown_until = this.#iso(cooldown);
    // A transient failure is not a revocation: the status stays, only the cooldown is set.
    // A provider that refuses our client (invalid_client, ...) needs an operator: status `error`.
    await this.#store.setStatusIfVersion(org_id, account_id, account.credential_version, {
      ...(retryable ? {} : { status: 'error' as const }), cooldown_until, last_error: reason, updated_at: this.#iso(0),
    });
    this.#emit({ type: 'credential.refresh_failed', org_id, account_id, connector, reason, retryable, cooldown_until });
    return new CredentialUnavailableError('refresh_failed', org_id, account_id, `could not refresh the credential: ${reason}`, cooldown, err);
  }

  #emit(event: VaultEvent): void {
    try {
      this.#options.onEvent?.(event);
    } catch {
      // An auditing callback must not turn a good refresh into a failure.
    }
  }
}
