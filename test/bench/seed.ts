// Bulk seeding of a Writ data dir through the sqlite store's own database handle: many grants and
// a long, correctly hash-chained audit log, in large transactions (minutes of API calls, seconds here).
import { randomUUID } from 'node:crypto';
import { hashEvent } from '../../src/audit/chain.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';

const BATCH = 20_000;

export function seedStore(dataDir: string, org_id: string, agent_id: string, counts: { grants: number; auditEvents: number }): { ms: number } {
  const started = performance.now();
  const store = openSqliteStore(dataDir);
  const db = store.database;
  try {
    const details = JSON.stringify([{ type: 'tool_access', tools: ['notion.pages.create'], resources: ['notion:page:*'] }]);
    for (let done = 0; done < counts.grants;) {
      const n = Math.min(BATCH, counts.grants - done);
      db.transaction(() => {
        for (let i = 0; i < n; i++) {
          const k = done + i;
          db.run(
            'INSERT INTO grants (org_id, id, user_id, agent_id, authorization_details, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)',
            org_id, `grt_seed_${k}_${randomUUID()}`, `usr_seed_${k % 5000}`, k % 10 === 0 ? agent_id : `agt_seed_${k % 200}`, details,
            new Date(Date.now() - k * 1000).toISOString(), k % 20 === 0 ? new Date().toISOString() : null,
          );
        }
      });
      done += n;
    }

    let head = db.get<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_events WHERE org_id = ? ORDER BY seq DESC LIMIT 1', org_id);
    const at = new Date().toISOString();
    for (let done = 0; done < counts.auditEvents;) {
      const n = Math.min(BATCH, counts.auditEvents - done);
      db.transaction(() => {
        for (let i = 0; i < n; i++) {
          const k = done + i;
          const user_id = `usr_seed_${k % 5000}`;
          const grant_id = `grt_seed_${k % Math.max(1, counts.grants)}`;
          const capability_id = `cap_seed_${k}`;
          const e = {
            id: `evt_seed_${k}_${randomUUID()}`, org_id, seq: (head?.seq ?? 0) + 1, at, type: 'token.exchanged',
            actor: { type: 'agent', client_id: agent_id, chain: [agent_id] },
            subject: { user_id, grant_id, capability_id },
            details: { format: 'jwt', tools: ['notion.pages.create'], policy_version: 'sha256:seed' },
            prev_hash: head?.hash ?? '0'.repeat(64),
          };
          const hash = hashEvent(e);
          db.run(
            `INSERT INTO audit_events (org_id, seq, id, at, type, actor, subject, details, prev_hash, hash,
               user_id, agent_id, tool, grant_id, capability_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            org_id, e.seq, e.id, e.at, e.type, JSON.stringify(e.actor), JSON.stringify(e.subject), JSON.stringify(e.details), e.prev_hash, hash,
            user_id, agent_id, null, grant_id, capability_id,
          );
          head = { seq: e.seq, hash };
        }
      });
      done += n;
    }
  } finally {
    void store.close();
  }
  return { ms: performance.now() - started };
}
