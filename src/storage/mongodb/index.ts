import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import type { WritStore } from '../index.ts';
import { approvalIndexes, MongoApprovalStore } from './approvals.ts';
import { auditIndexes, MongoAuditStore } from './audit.ts';
import { capabilityIndexes, MongoCapabilityStore } from './capabilities.ts';
import { ensureIndexes, type IndexPlan } from './database.ts';
import { directoryIndexes, MongoDirectoryStore } from './directory.ts';
import { grantIndexes, MongoGrantStore } from './grants.ts';
import { keyIndexes, MongoKeyStore } from './keys.ts';
import { MongoOidcStore, oidcIndexes } from './oidc.ts';
import { MongoOrgConnectorStore, orgConnectorIndexes } from './org-connectors.ts';
import { MongoReplayStore, replayIndexes } from './replay.ts';
import { MongoMcpStore } from './mcp.ts';
import { MongoRevocationFeedStore, revocationFeedIndexes } from './revocation-feed.ts';
import { MongoSsoStore, ssoIndexes } from './sso.ts';
import { MongoScimStore, scimIndexes } from './scim.ts';
import { evidenceIndexes, MongoCheckpointStore, MongoSiemStore } from './evidence.ts';
import { MongoVaultStore, vaultIndexes } from './vault.ts';

const indexPlans: IndexPlan[] = [
  ...directoryIndexes,
  ...grantIndexes,
  ...oidcIndexes,
  ...auditIndexes,
  ...keyIndexes,
  ...vaultIndexes,
  ...orgConnectorIndexes,
  ...capabilityIndexes,
  ...revocationFeedIndexes,
  ...replayIndexes,
  ...approvalIndexes,
  ...ssoIndexes,
  ...scimIndexes,
  ...evidenceIndexes,
];

export interface MongoStore extends WritStore {
  readonly kind: 'mongodb';
  /** The database handle, for operators' tooling and tests; Writ's code uses the ports. */
  readonly db: Db;
}

export interface MongoStoreOptions {
  /** Database name; defaults to the one in the URI's path, else `writ`. */
  dbName?: string;
  /** Clock for oidc model expiry, in epoch ms. */
  now?: () => number;
}

/** The database named in a `mongodb://` or `mongodb+srv://` URI's path, if any. */
export function databaseNameInUri(uri: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]+)/.exec(uri);
  return match?.[1] ? decodeURIComponent(match[1]) : undefined;
}

// Durability and freshness for every operation. `majority` writes survive a primary failover;
// `majority` reads on the primary only see such writes, so a revocation acknowledged to one
// process is what every other process reads next. The audit head read relaxes this on purpose
// (see audit.ts).
const CLIENT_OPTIONS: MongoClientOptions = {
  appName: 'writ',
  writeConcern: { w: 'majority' },
  readConcern: { level: 'majority' },
  readPreference: 'primary',
  // Optional fields are absent from documents, never stored as null.
  ignoreUndefined: true,
};

/** Connects, creates the indexes (idempotent), and returns the store over one client. */
export async function openMongoStore(uri: string, options: MongoStoreOptions = {}): Promise<MongoStore> {
  const client = new MongoClient(uri, CLIENT_OPTIONS);
  await client.connect();
  let db: Db;
  try {
    db = client.db(options.dbName ?? databaseNameInUri(uri) ?? 'writ');
    await ensureIndexes(db, indexPlans);
  } catch (err) {
    await client.close();
    throw err;
  }
  return {
    kind: 'mongodb',
    db,
    directory: new MongoDirectoryStore(db),
    grants: new MongoGrantStore(db),
    oidc: new MongoOidcStore(db, options.now),
    audit: new MongoAuditStore(db),
    keys: new MongoKeyStore(db),
    vault: new MongoVaultStore(db),
    orgConnectors: new MongoOrgConnectorStore(db),
    capabilities: new MongoCapabilityStore(db),
    revocationFeed: new MongoRevocationFeedStore(db),
    replay: new MongoReplayStore(db, options.now),
    approvals: new MongoApprovalStore(db),
    mcp: new MongoMcpStore(db),
    sso: new MongoSsoStore(db),
    scim: new MongoScimStore(db),
    checkpoints: new MongoCheckpointStore(db),
    siem: new MongoSiemStore(db),
    async ping() { await db.command({ ping: 1 }); },
    async close() { await client.close(); },
  };
}
