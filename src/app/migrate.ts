import type { Config } from '../config/load.ts';
import type { WritStore } from '../storage/index.ts';
import { openSqliteStore, type SqliteStore } from '../storage/sqlite/index.ts';
import type { CapabilityRecord } from '../storage/ports/capabilities.ts';
import type { RevocationEntry } from '../storage/ports/revocation-feed.ts';
import type { OidcPayload } from '../storage/ports/oidc.ts';
import { GENESIS_HASH, hashEvent } from '../audit/chain.ts';

// `writ migrate --from sqlite --to mongodb`: copies a stopped (or quiet) embedded instance into
// another store through the target's ports, then checks that every count matches and that every
// org's audit chain verifies in the target. Records keep their ids, sequence numbers and hashes.
// Tables no port enumerates (oidc-provider's models, capabilities, the revocation feed) are read
// from the embedded file directly: that is why the source is the sqlite adapter specifically.

export interface MigrationReport {
  counts: Record<string, { source: number; target: number }>;
  audit: Array<{ org_id: string; events: number; ok: boolean }>;
  ok: boolean;
}

export type MigrationProgress = (step: string, done: number, total: number) => void;

/** Where a migration copies to: MongoDB at `MONGODB_URI`, or another embedded data dir. */
export type MigrationTarget = { store: 'mongodb'; uri: string } | { store: 'sqlite'; dataDir: string };

/**
 * Opens the embedded store of `config` and the target (only the composition root opens storage
 * adapters), copies and verifies, and closes both whatever happens.
 */
export async function migrateStore(config: Config, target: MigrationTarget, progress?: MigrationProgress): Promise<MigrationReport> {
  const source = openSqliteStore(config.dataDir);
  let to: WritStore | undefined;
  try {
    to = target.store === 'mongodb'
      ? await (await import('../storage/mongodb/index.ts')).openMongoStore(target.uri)
      : openSqliteStore(target.dataDir);
    return await migrateSqliteStore(source, to, progress);
  } finally {
    await source.close();
    await to?.close();
  }
}

export async function migrateSqliteStore(from: SqliteStore, to: WritStore, progress: MigrationProgress = () => {}): Promise<MigrationReport> {
  const counts: MigrationReport['counts'] = {};
  const count = (name: string, source: number) => { counts[name] = { source, target: counts[name]?.target ?? 0 }; };
  const landed = (name: string, n = 1) => { counts[name]!.target += n; };
  const db = from.database;

  const keys = await from.keys.listKeys();
  count('signing_keys', keys.length);
  for (const k of keys) { await to.keys.putKey(k); landed('signing_keys'); }

  const servers = await from.directory.listResourceServers();
  count('resource_servers', servers.length);
  for (const rs of servers) { await to.directory.createResourceServer(rs); landed('resource_servers'); }

  const orgs = await from.directory.listOrgs();
  for (const name of ['orgs', 'users', 'agents', 'grants', 'audit_events', 'data_keys', 'connected_accounts', 'org_connectors', 'groups', 'scim_tokens', 'checkpoint_keys', 'checkpoints', 'siem_streams']) count(name, 0);
  const audit: MigrationReport['audit'] = [];
  let done = 0;
  for (const org of orgs) {
    progress('orgs', done++, orgs.length);
    counts.orgs!.source++;
    await to.directory.createOrg(org); landed('orgs');
    for (const u of await from.directory.listUsers(org.id)) { counts.users!.source++; await to.directory.createUser(org.id, u); landed('users'); }
    for (const a of await from.directory.listAgents(org.id)) { counts.agents!.source++; await to.directory.createAgent(org.id, a); landed('agents'); }
    for (const g of await from.grants.listGrants(org.id, { include_revoked: true })) { counts.grants!.source++; await to.grants.createGrant(org.id, g); landed('grants'); }

    const dataKey = await from.vault.getDataKey(org.id);
    if (dataKey) { counts.data_keys!.source++; await to.vault.putDataKeyIfAbsent(dataKey); landed('data_keys'); }
    for (const acct of await from.vault.listAccounts(org.id)) { counts.connected_accounts!.source++; await to.vault.createAccount(org.id, acct); landed('connected_accounts'); }
    for (const c of await from.orgConnectors.listOrgConnectors(org.id)) { counts.org_connectors!.source++; await to.orgConnectors.putOrgConnector(org.id, c); landed('org_connectors'); }
    for (const g of await from.directory.listGroups(org.id)) { counts.groups!.source++; await to.directory.createGroup(org.id, g); landed('groups'); }
    const scimToken = await from.scim.getToken(org.id);
    if (scimToken) { counts.scim_tokens!.source++; await to.scim.putToken(scimToken); landed('scim_tokens'); }
    const stream = await from.siem.getStream(org.id);
    if (stream) { counts.siem_streams!.source++; await to.siem.putStream({ ...stream, lease_owner: undefined, lease_until: undefined }); landed('siem_streams'); }
    await copyCheckpoints(from, to, org.id, counts);

    // The chain is copied event by event in order, each keeping its seq and hash.
    let events = 0;
    for (let after = 0; ;) {
      const page = await from.audit.scanAudit(org.id, after, 500);
      for (const e of page) { await to.audit.appendAudit(org.id, () => e); events++; }
      if (page.length < 500) break;
      after = page[page.length - 1]!.seq;
    }
    counts.audit_events!.source += events;
    audit.push(await recordChain(to, org.id, events, counts));
  }
  progress('orgs', orgs.length, orgs.length);
  // The deployment-wide chain (key rotations) has no org row.
  for (const { org_id } of db.all<{ org_id: string }>('SELECT DISTINCT org_id FROM audit_events')) {
    if (orgs.some((o) => o.id === org_id)) continue;
    let events = 0;
    for (const e of await from.audit.scanAudit(org_id, 0, 1_000_000)) { await to.audit.appendAudit(org_id, () => e); events++; }
    counts.audit_events!.source += events;
    audit.push(await recordChain(to, org_id, events, counts));
    await copyCheckpoints(from, to, org_id, counts);
  }

  const oidcRows = db.all<{ model: string; id: string; payload: string; expires_at: number | null }>(
    'SELECT model, id, payload, expires_at FROM oidc_models WHERE expires_at IS NULL OR expires_at > ?', Date.now());
  count('oidc_models', oidcRows.length);
  for (const r of oidcRows) { await to.oidc.upsert(r.model, r.id, JSON.parse(r.payload) as OidcPayload, r.expires_at ?? undefined); landed('oidc_models'); }

  const capabilities = db.all<Record<string, string | number | null>>('SELECT * FROM capabilities WHERE exp > ?', Math.floor(Date.now() / 1000));
  count('capabilities', capabilities.length);
  for (const c of capabilities) {
    const record: CapabilityRecord = {
      jti: String(c.jti), org_id: String(c.org_id), auth_event_id: String(c.auth_event_id), parent_jti: c.parent_jti === null ? undefined : String(c.parent_jti),
      client_id: String(c.client_id), format: c.format as CapabilityRecord['format'], revocation_ids: JSON.parse(String(c.revocation_ids)) as string[],
      single_use: c.single_use === 1, exp: Number(c.exp), created_at: String(c.created_at),
      spent_at: c.spent_at === null ? undefined : String(c.spent_at), revoked_at: c.revoked_at === null ? undefined : String(c.revoked_at),
    };
    await to.capabilities.recordCapability(record.org_id, record); landed('capabilities');
  }
  const revocations = db.all<RevocationEntry>('SELECT id, type, at, expires FROM revocations ORDER BY position');
  count('revocations', revocations.length);
  if (revocations.length) { await to.revocationFeed.appendRevocations(revocations); landed('revocations', revocations.length); }

  const ok = Object.values(counts).every((c) => c.source === c.target) && audit.every((a) => a.ok);
  return { counts, audit, ok };
}

/** An org's checkpoint keys (still sealed under the same master key) and its signed checkpoints. */
async function copyCheckpoints(from: WritStore, to: WritStore, org_id: string, counts: MigrationReport['counts']): Promise<void> {
  for (const k of await from.checkpoints.listKeys(org_id)) { counts.checkpoint_keys!.source++; await to.checkpoints.createKeyIfAbsent(k); counts.checkpoint_keys!.target++; }
  for (let after = 0; ;) {
    const page = await from.checkpoints.listCheckpoints(org_id, { after_seq: after, limit: 500 });
    for (const c of page) { counts.checkpoints!.source++; await to.checkpoints.appendCheckpoint(c); counts.checkpoints!.target++; }
    if (page.length < 500) break;
    after = page[page.length - 1]!.seq;
  }
}

/** Walks the target's chain (each event's hash, link and sequence) and counts what landed. */
async function recordChain(store: WritStore, org_id: string, copied: number, counts: MigrationReport['counts']): Promise<MigrationReport['audit'][number]> {
  let prev = GENESIS_HASH;
  let seq = 1;
  let ok = true;
  for (let after = 0; ;) {
    const page = await store.audit.scanAudit(org_id, after, 500);
    for (const e of page) {
      const { hash, ...rest } = e;
      if (e.seq !== seq || e.prev_hash !== prev || hashEvent(rest) !== hash) ok = false;
      prev = hash;
      seq++;
    }
    if (page.length < 500) break;
    after = page[page.length - 1]!.seq;
  }
  counts.audit_events!.target += seq - 1;
  return { org_id, events: copied, ok: ok && seq - 1 === copied };
}
