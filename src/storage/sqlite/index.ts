import { join } from 'node:path';
import type { WritStore } from '../index.ts';
import { approvalMigrations, SqliteApprovalStore } from './approvals.ts';
import { auditMigrations, SqliteAuditStore } from './audit.ts';
import { capabilityMigrations, SqliteCapabilityStore } from './capabilities.ts';
import { SqliteDatabase, type Migration } from './database.ts';
import { directoryMigrations, SqliteDirectoryStore } from './directory.ts';
import { evidenceMigrations, SqliteCheckpointStore, SqliteSiemStore } from './evidence.ts';
import { grantMigrations, SqliteGrantStore } from './grants.ts';
import { keyMigrations, SqliteKeyStore } from './keys.ts';
import { mcpMigrations, SqliteMcpStore } from './mcp.ts';
import { oidcMigrations, SqliteOidcStore } from './oidc.ts';
import { SqliteOrgConnectorStore } from './org-connectors.ts';
import { replayMigrations, SqliteReplayStore } from './replay.ts';
import { SqliteRevocationFeedStore } from './revocation-feed.ts';
import { scimMigrations, SqliteScimStore } from './scim.ts';
import { SqliteSsoStore, ssoMigrations } from './sso.ts';
import { SqliteVaultStore, vaultMigrations } from './vault.ts';

const migrations: Migration[] = [
  ...directoryMigrations,
  ...grantMigrations,
  ...oidcMigrations,
  ...auditMigrations,
  ...keyMigrations,
  ...vaultMigrations,
  ...capabilityMigrations,
  ...replayMigrations,
  ...approvalMigrations,
  ...mcpMigrations,
  ...ssoMigrations,
  ...scimMigrations,
  ...evidenceMigrations,
];

export interface SqliteStore extends WritStore {
  readonly database: SqliteDatabase;
}

/** Opens (creating and migrating) the embedded store: `<dataDir>/writ.sqlite`, or `:memory:`. */
export function openSqliteStore(dataDirOrMemory: string, options: { now?: () => number } = {}): SqliteStore {
  const path = dataDirOrMemory === ':memory:' ? ':memory:' : join(dataDirOrMemory, 'writ.sqlite');
  const database = new SqliteDatabase(path);
  database.migrate(migrations);
  const oidc = new SqliteOidcStore(database, options.now);
  const replay = new SqliteReplayStore(database, options.now);
  const purge = setInterval(() => { oidc.purgeExpired(); replay.purgeExpired(); }, 60_000);
  purge.unref();
  return {
    kind: 'sqlite',
    database,
    directory: new SqliteDirectoryStore(database),
    grants: new SqliteGrantStore(database),
    oidc,
    audit: new SqliteAuditStore(database),
    keys: new SqliteKeyStore(database),
    vault: new SqliteVaultStore(database),
    orgConnectors: new SqliteOrgConnectorStore(database),
    capabilities: new SqliteCapabilityStore(database),
    revocationFeed: new SqliteRevocationFeedStore(database),
    replay,
    approvals: new SqliteApprovalStore(database),
    mcp: new SqliteMcpStore(database),
    sso: new SqliteSsoStore(database),
    scim: new SqliteScimStore(database),
    checkpoints: new SqliteCheckpointStore(database),
    siem: new SqliteSiemStore(database),
    async ping() { database.get('SELECT 1'); },
    async close() { clearInterval(purge); database.close(); },
  };
}
