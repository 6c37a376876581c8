import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { importPublicJwk } from '../capability/keys.ts';
import type { KeySource } from '../capability/sources.ts';

// The issuer's published keys: RFC 8414 metadata → jwks_uri (JWT keys) and biscuit_public_keys
// (Biscuit root keys). Nothing is trusted that did not come from the configured issuer's metadata.
// The verifier library's default KeySource.

const metadataSchema = z.object({
  issuer: z.string(),
  jwks_uri: z.url(),
  biscuit_public_keys: z
    .array(z.object({ kid: z.number().int().min(0).max(0xffffffff), algorithm: z.string(), public_key: z.string() }))
    .max(64)
    .optional(),
});

const jwksSchema = z.object({ keys: z.array(z.unknown()).max(64) });

export interface KeyringOptions {
  issuer: string;
  fetch: typeof fetch;
  /** Minimum seconds between refreshes triggered by an unknown key id. */
  refreshIntervalSec: number;
  now: () => number;
}

export class Keyring implements KeySource {
  readonly #options: KeyringOptions;
  #jwtKeys = new Map<string, KeyObject>();
  #biscuitKeys = new Map<number, string>();
  #loading: Promise<void> | undefined;
  #lastLoad = Number.NEGATIVE_INFINITY;

  constructor(options: KeyringOptions) {
    this.#options = options;
  }

  jwtKey(kid: string): KeyObject | undefined {
    return this.#jwtKeys.get(kid);
  }

  biscuitRootKey(kid: number | undefined): string | undefined {
    return kid === undefined ? undefined : this.#biscuitKeys.get(kid);
  }

  /** Load now (single-flight: concurrent callers share one fetch). */
  load(): Promise<void> {
    this.#loading ??= this.#fetchKeys().finally(() => {
      this.#loading = undefined;
    });
    return this.#loading;
  }

  /** Refresh after meeting an unknown key id, at most once per interval. Resolves to whether it ran. */
  async refresh(): Promise<boolean> {
    if (this.#loading) {
      await this.#loading;
      return true;
    }
    if (this.#options.now() - this.#lastLoad < this.#options.refreshIntervalSec * 1000) return false;
    await this.load();
    return true;
  }

  async #fetchKeys(): Promise<void> {
    const { issuer, fetch } = this.#options;
    // RFC 8414 §3: metadata lives at the well-known path; §3.3: its issuer must be ours.
    const metadata = metadataSchema.parse(await getJson(fetch, `${issuer.replace(/\/$/, '')}/.well-known/oauth-authorization-server`));
    if (metadata.issuer !== issuer) throw new Error('metadata issuer does not match the configured issuer');
    const jwks = jwksSchema.parse(await getJson(fetch, metadata.jwks_uri));
    const jwtKeys = new Map<string, KeyObject>();
    for (const jwk of jwks.keys) {
      const imported = importPublicJwk(jwk);
      if (imported) jwtKeys.set(imported.kid, imported.key);
    }
    const biscuitKeys = new Map<number, string>();
    for (const key of metadata.biscuit_public_keys ?? []) {
      if (key.algorithm === 'ed25519' && /^[0-9a-f]{64}$/.test(key.public_key)) biscuitKeys.set(key.kid, key.public_key);
    }
    this.#jwtKeys = jwtKeys;
    this.#biscuitKeys = biscuitKeys;
    this.#lastLoad = this.#options.now();
  }
}

export async function getJson(fetchImpl: typeof fetch, url: string, signal?: AbortSignal): Promise<unknown> {
  const response = await fetchImpl(url, { headers: { accept: 'application/json' }, redirect: 'error', ...(signal && { signal }) });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`GET ${new URL(url).pathname} answered ${response.status}`);
  }
  return response.json();
}
