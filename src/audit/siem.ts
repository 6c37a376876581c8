import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { AuditStore } from '../storage/ports/audit.ts';
import type { SiemStore, SiemStreamRecord } from '../storage/ports/evidence.ts';
import type { Checkpoints } from './checkpoints.ts';
import { toOcsf } from './export.ts';

// Streams each org's audit events to its SIEM: an HTTPS endpoint receives OCSF events (the same
// mapping as the export) in order, at least once. The stream's cursor is the sequence of the last
// event the receiver acknowledged with a 2xx; a failure keeps the cursor and backs off
// (exponentially, capped), so the next attempt sends the same events again from the cursor. One
// process at a time delivers an org's stream (a lease in the store), which keeps the order across
// processes. Each delivery is signed with the org's audit checkpoint key (Ed25519), published with
// the checkpoints, so the receiver can tell Writ's deliveries from anyone else's.

export const SIEM_SIGNATURE_HEADER = 'writ-signature';
export const SIEM_BATCH = 100;
const LEASE_MS = 60_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 10 * 60_000;

/** What a delivery's signature covers: `<timestamp>.<org_id>.<cursor>.<body>`. */
export function siemSigningInput(timestamp: string, org_id: string, cursor: number, body: string): Buffer {
  return Buffer.from(`${timestamp}.${org_id}.${cursor}.${body}`, 'utf8');
}

export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(20, Math.max(0, failures - 1)));
}

export interface SiemDeliveryOptions {
  store: SiemStore;
  audit: AuditStore;
  checkpoints: Checkpoints;
  clock: Clock;
  logger?: Logger | undefined;
  /** How deliveries are made; the global fetch by default. */
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface DeliveryOutcome {
  org_id: string;
  delivered: number;
  cursor: number;
  error?: string;
}

export class SiemDelivery {
  readonly #o: SiemDeliveryOptions;
  readonly #owner = `siem-${randomBytes(8).toString('hex')}`;
  #running: Promise<DeliveryOutcome[]> | undefined;
  /** Deliveries of one org in this process run one after another (the store's lease orders processes). */
  readonly #perOrg = new Map<string, Promise<unknown>>();

  constructor(options: SiemDeliveryOptions) {
    this.#o = options;
  }

  /** Delivers every due stream until it is caught up or fails once; one run at a time in this process. */
  run(): Promise<DeliveryOutcome[]> {
    this.#running ??= this.#runAll().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async #runAll(): Promise<DeliveryOutcome[]> {
    const outcomes: DeliveryOutcome[] = [];
    for (const stream of await this.#o.store.listDue(this.#o.clock.now(), 100)) {
      outcomes.push(await this.deliver(stream.org_id));
    }
    return outcomes;
  }

  /** Sends the org's events after its cursor, in batches, until caught up or a batch fails. */
  deliver(org_id: string): Promise<DeliveryOutcome> {
    const previous = this.#perOrg.get(org_id) ?? Promise.resolve();
    const next = previous.then(() => this.#deliver(org_id));
    const tail = next.catch(() => undefined);
    this.#perOrg.set(org_id, tail);
    void tail.then(() => { if (this.#perOrg.get(org_id) === tail) this.#perOrg.delete(org_id); });
    return next;
  }

  async #deliver(org_id: string): Promise<DeliveryOutcome> {
    const { store, audit, clock } = this.#o;
    const now = clock.now();
    if (!(await store.claim(org_id, this.#owner, now + LEASE_MS, now))) return { org_id, delivered: 0, cursor: -1, error: 'another process is delivering' };
    const found = await store.getStream(org_id);
    if (!found) return { org_id, delivered: 0, cursor: -1, error: 'no stream' };
    let stream = found;
    let delivered = 0;
    try {
      for (;;) {
        // A long backlog keeps the lease: renewed before each batch, given up if another process took it.
        const at0 = clock.now();
        if (delivered > 0 && !(await store.claim(org_id, this.#owner, at0 + LEASE_MS, at0))) return { org_id, delivered, cursor: stream.cursor, error: 'lease lost' };
        const events = await audit.scanAudit(org_id, stream.cursor, SIEM_BATCH);
        if (events.length === 0) return { org_id, delivered, cursor: stream.cursor };
        const error = await this.#post(stream, events.map((e) => JSON.stringify(toOcsf(e))).join('\n') + '\n', events.at(-1)!.seq);
        const at = clock.now();
        if (error) {
          const failures = stream.failures + 1;
          await store.update(org_id, this.#owner, { failures, next_attempt_at: at + backoffMs(failures), last_error: error, updated_at: new Date(at).toISOString() }, false);
          this.#o.logger?.warn('siem delivery failed', { org_id, failures, error });
          return { org_id, delivered, cursor: stream.cursor, error };
        }
        const cursor = events.at(-1)!.seq;
        delivered += events.length;
        const iso = new Date(at).toISOString();
        await store.update(org_id, this.#owner, { cursor, failures: 0, next_attempt_at: at, last_delivered_at: iso, updated_at: iso }, false);
        stream = { ...stream, cursor, failures: 0 };
      }
    } finally {
      await store.update(org_id, this.#owner, {}, true);
    }
  }

  /** One signed POST; returns a short, secret-free reason on failure. */
  async #post(stream: SiemStreamRecord, body: string, cursor: number): Promise<string | undefined> {
    const timestamp = String(Math.floor(this.#o.clock.now() / 1000));
    const { kid, signature } = await this.#o.checkpoints.sign(stream.org_id, siemSigningInput(timestamp, stream.org_id, cursor, body));
    try {
      const res = await (this.#o.fetch ?? fetch)(stream.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
        headers: {
          'content-type': 'application/x-ndjson',
          'writ-org': stream.org_id,
          'writ-cursor': String(cursor),
          'writ-timestamp': timestamp,
          [SIEM_SIGNATURE_HEADER]: `keyid="${kid}",alg="ed25519",sig="${signature}"`,
        },
        body,
      });
      await res.body?.cancel();
      return res.ok ? undefined : `HTTP ${res.status}`;
    } catch (err) {
      return err instanceof Error ? err.name === 'TimeoutError' ? 'timeout' : 'network error' : 'network error';
    }
  }
}
