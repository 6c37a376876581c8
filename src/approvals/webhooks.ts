// Each org's approval webhook: at-least-once delivery of every approval event to the URL the org
// registered, signed so the org can verify it came from Writ.
//
// - The delivery is written to the store before any attempt, so a crash loses nothing.
// - `webhook-id` is the delivery's id, the same on every retry: the receiver's idempotency key.
// - Signature (Standard Webhooks, asymmetric form): `webhook-signature: v1a,<base64 Ed25519
//   signature of "<webhook-id>.<webhook-timestamp>.<body>">`, made with Writ's current capability
//   signing key, named by `webhook-key-id`; the public key is the JWK of that kid at `/jwks`.
// - A failed attempt (network error, timeout, any status but 2xx) is retried with growing
//   waits; after MAX_ATTEMPTS the delivery is abandoned and stays listed with its last error.

import { sign, type KeyObject } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import { checkEgress, type EgressLookup } from '../connectors/egress.ts';
import { pinnedFetch } from '../connectors/provider-connections.ts';
import type { ApprovalStore, WebhookDelivery } from './store.ts';

export const MAX_ATTEMPTS = 8;
/** Seconds to wait after the n-th failed attempt. */
const BACKOFF_SECONDS = [10, 30, 120, 600, 1800, 3600, 3600];
const ATTEMPT_TIMEOUT_MS = 10_000;
const LEASE_MS = 60_000;

export interface WebhookSigner { kid: string; privateKey: KeyObject }

export interface WebhookOutbox {
  enqueue(org_id: string, approval_id: string, event: string, payload: Record<string, unknown>): Promise<void>;
}

export interface WebhookDeps {
  store: ApprovalStore;
  clock: Clock;
  signer: () => WebhookSigner;
  allowPrivateHosts?: readonly string[];
  /** How webhook hosts resolve (default the system resolver). */
  lookup?: EgressLookup;
  onError?: (message: string, err: unknown) => void;
}

/** The headers a delivery carries: id, timestamp and signature over exactly `body`. */
export function signDelivery(signer: WebhookSigner, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const signature = sign(null, Buffer.from(`${id}.${timestampSeconds}.${body}`), signer.privateKey).toString('base64');
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1a,${signature}`,
    'webhook-key-id': signer.kid,
  };
}

/** Is this URL one Writ may post approvals to? https, or a host the operator allow-listed. */
export function checkWebhookUrl(url: string, allowPrivateHosts: readonly string[] = []): void {
  const parsed = new URL(url);
  checkEgress(parsed, [parsed.host], { allowPrivateHosts });
}

export class WebhookDispatcher implements WebhookOutbox {
  readonly #deps: WebhookDeps;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(deps: WebhookDeps) { this.#deps = deps; }

  async enqueue(org_id: string, approval_id: string, event: string, payload: Record<string, unknown>): Promise<void> {
    const settings = await this.#deps.store.getApprovalSettings(org_id);
    if (!settings?.webhook_url) return;
    const now = this.#deps.clock.now();
    await this.#deps.store.enqueueDelivery(org_id, {
      id: newId('whk', now), org_id, approval_id, event, url: settings.webhook_url, body: JSON.stringify(payload),
      attempts: 0, next_attempt_at: new Date(now).toISOString(),
    });
    this.kick();
  }

  /** Polls for due deliveries every `everyMs` (real time; due-ness is judged by the clock). */
  start(everyMs = 1000): void {
    this.#timer ??= setInterval(() => this.kick(), everyMs);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Runs one pass now (or right after the one in progress). */
  kick(): void {
    if (this.#running) { this.#again = true; return; }
    this.#running = this.#pass()
      .catch((err: unknown) => this.#deps.onError?.('webhook delivery pass failed', err))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) { this.#again = false; this.kick(); }
      });
  }

  async #pass(): Promise<void> {
    const now = this.#deps.clock.now();
    const due = await this.#deps.store.dueDeliveries(new Date(now).toISOString(), 20);
    await Promise.all(due.map(async (d) => {
      // Another process may have taken it: only the one whose claim lands attempts it.
      if (!(await this.#deps.store.claimDelivery(d.org_id, d.id, d.next_attempt_at, new Date(now + LEASE_MS).toISOString()))) return;
      await this.#deps.store.updateDelivery(d.org_id, await this.#attempt(d));
    }));
  }

  async #attempt(d: WebhookDelivery): Promise<WebhookDelivery> {
    const now = this.#deps.clock.now();
    const attempts = d.attempts + 1;
    let error: string | undefined;
    try {
      // The URL as written, and every address its host resolves to now (settings were checked as
      // written); the connection goes to those addresses only.
      const res = await pinnedFetch(new URL(d.url), {
        method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
        headers: signDelivery(this.#deps.signer(), d.id, Math.floor(now / 1000), d.body), body: d.body,
      }, { allowPrivateHosts: this.#deps.allowPrivateHosts ?? [], ...(this.#deps.lookup ? { lookup: this.#deps.lookup } : {}) });
      await res.body?.cancel();
      if (res.status >= 200 && res.status < 300) return { ...d, attempts, delivered_at: new Date(now).toISOString(), last_error: undefined };
      error = `answered ${res.status}`;
    } catch (err) {
      error = err instanceof Error ? err.message.slice(0, 200) : 'failed';
    }
    if (attempts >= MAX_ATTEMPTS) return { ...d, attempts, last_error: error, abandoned_at: new Date(now).toISOString() };
    const wait = BACKOFF_SECONDS[Math.min(attempts - 1, BACKOFF_SECONDS.length - 1)]! * 1000;
    return { ...d, attempts, last_error: error, next_attempt_at: new Date(now + wait).toISOString() };
  }
}
