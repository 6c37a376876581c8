import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import { redact } from '../core/log.ts';
import type { AuditQuery, AuditRecord, AuditStore } from '../storage/ports/audit.ts';
import { GENESIS_HASH, hashEvent } from './chain.ts';
import type { AuditEventType } from './events.ts';

export interface AuditEntry {
  type: AuditEventType;
  /** Who acted: `{ kind: 'user'|'agent'|'admin'|'system', ... , chain? }`. */
  actor: Record<string, unknown>;
  /** What it acted on: ids only. */
  subject?: Record<string, unknown>;
  details?: Record<string, unknown>;
}

export interface VerifyResult {
  ok: boolean;
  events_checked: number;
  first_broken?: { seq: number; id: string; reason: 'hash_mismatch' | 'broken_link' | 'sequence_gap' };
}

/** The audit log: append-only, hash-chained per org, secrets stripped before they are written. */
export class AuditLog {
  readonly #store: AuditStore;
  readonly #clock: Clock;

  constructor(store: AuditStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  async record(org_id: string, entry: AuditEntry): Promise<AuditRecord> {
    return this.#store.appendAudit(org_id, this.builder(org_id, entry));
  }

  /**
   * The event as a function of the chain head, for a store step that appends it together with
   * other writes (a revocation commits with its audit events).
   */
  builder(org_id: string, entry: AuditEntry): (head: { seq: number; hash: string } | undefined) => AuditRecord {
    const at = new Date(this.#clock.now()).toISOString();
    // Redaction here is a second line of defence: callers pass ids, never secrets.
    const actor = redact(entry.actor) as Record<string, unknown>;
    const subject = redact(entry.subject ?? {}) as Record<string, unknown>;
    const details = redact(entry.details ?? {}) as Record<string, unknown>;
    return (head) => {
      const base = {
        id: newId('evt'), org_id, seq: (head?.seq ?? 0) + 1, at, type: entry.type,
        actor, subject, details, prev_hash: head?.hash ?? GENESIS_HASH,
      };
      return { ...base, hash: hashEvent(base) };
    };
  }

  query(org_id: string, query: AuditQuery): Promise<AuditRecord[]> {
    return this.#store.queryAudit(org_id, query);
  }

  /** Walks the whole chain oldest first, in pages. */
  async *scan(org_id: string, pageSize = 1000): AsyncGenerator<AuditRecord> {
    let after = 0;
    for (;;) {
      const page = await this.#store.scanAudit(org_id, after, pageSize);
      for (const e of page) yield e;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.seq;
    }
  }

  verify(org_id: string): Promise<VerifyResult> {
    return verifyChain(this.scan(org_id));
  }
}

/** Walks a chain oldest first from its genesis: every sequence number, link and hash. */
export async function verifyChain(events: AsyncIterable<AuditRecord> | Iterable<AuditRecord>): Promise<VerifyResult> {
  let prev = GENESIS_HASH;
  let expectedSeq = 1;
  let checked = 0;
  for await (const e of events) {
    const { hash, ...rest } = e;
    const broken = (reason: NonNullable<VerifyResult['first_broken']>['reason']): VerifyResult =>
      ({ ok: false, events_checked: checked, first_broken: { seq: e.seq, id: e.id, reason } });
    if (e.seq !== expectedSeq) return broken('sequence_gap');
    if (e.prev_hash !== prev) return broken('broken_link');
    if (hashEvent(rest) !== hash) return broken('hash_mismatch');
    prev = hash;
    expectedSeq++;
    checked++;
  }
  return { ok: true, events_checked: checked };
}
