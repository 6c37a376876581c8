import { createHash } from 'node:crypto';
import type { AuditRecord } from '../storage/ports/audit.ts';

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every depth: one byte string per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function hashEvent(event: Omit<AuditRecord, 'hash'>): string {
  const { id, org_id, seq, at, type, actor, subject, details, prev_hash } = event;
  return createHash('sha256')
    .update(canonicalJson({ id, org_id, seq, at, type, actor, subject, details, prev_hash }))
    .digest('hex');
}
