import { WritError } from '../../errors/index.ts';
import type { AgentChanges, AgentRecord, DirectoryStore, GroupChanges, GroupRecord, LookupOptions, OrgRecord, ResourceServerRecord, SignInThrottle, UserChanges, UserRecord } from '../ports/directory.ts';
import { json, optional, parse, type Migration, type SqliteDatabase } from './database.ts';

export const directoryMigrations: Migration[] = [
  {
    aggregate: 'directory',
    version: 1,
    sql: `
      CREATE TABLE orgs (id TEXT PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE TABLE users (
        org_id TEXT NOT NULL REFERENCES orgs(id), id TEXT NOT NULL, username TEXT NOT NULL,
        email TEXT, roles TEXT NOT NULL, password_hash TEXT NOT NULL, created_at TEXT NOT NULL,
        PRIMARY KEY (org_id, id), UNIQUE (org_id, username));
      CREATE TABLE sign_in_throttle (
        org_id TEXT NOT NULL, username TEXT NOT NULL, failures INTEGER NOT NULL,
        locked_until INTEGER NOT NULL, last_failure_at INTEGER NOT NULL, PRIMARY KEY (org_id, username));
      CREATE TABLE agents (
        client_id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES orgs(id), name TEXT NOT NULL,
        redirect_uris TEXT NOT NULL, token_endpoint_auth_method TEXT NOT NULL,
        client_secret_digest TEXT, jwks TEXT, tools TEXT NOT NULL, created_at TEXT NOT NULL);
      CREATE INDEX agents_by_org ON agents (org_id, client_id);
    `,
  },
  {
    aggregate: 'directory',
    version: 2,
    sql: `CREATE TABLE resource_servers (identifier TEXT PRIMARY KEY, name TEXT NOT NULL, org_id TEXT, created_at TEXT NOT NULL)`,
  },
  {
    // Lifecycle: users and agents can be updated, disabled and re-enabled; agents' keys and
    // secrets rotate with an overlap; groups of users (SCIM Groups) for policy and approvals.
    aggregate: 'directory',
    version: 3,
    sql: `
      ALTER TABLE users ADD COLUMN display_name TEXT;
      ALTER TABLE users ADD COLUMN external_id TEXT;
      ALTER TABLE users ADD COLUMN disabled_at TEXT;
      ALTER TABLE users ADD COLUMN updated_at TEXT;
      ALTER TABLE agents ADD COLUMN jwks_uri TEXT;
      ALTER TABLE agents ADD COLUMN previous_secret TEXT;
      ALTER TABLE agents ADD COLUMN previous_jwks TEXT;
      ALTER TABLE agents ADD COLUMN disabled_at TEXT;
      ALTER TABLE agents ADD COLUMN updated_at TEXT;
      CREATE TABLE directory_groups (
        org_id TEXT NOT NULL REFERENCES orgs(id), id TEXT NOT NULL, display_name TEXT NOT NULL,
        external_id TEXT, members TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (org_id, id), UNIQUE (org_id, display_name));
    `,
  },
];

interface UserRow {
  org_id: string; id: string; username: string; email: string | null; roles: string; password_hash: string; created_at: string;
  display_name: string | null; external_id: string | null; disabled_at: string | null; updated_at: string | null;
}
interface AgentRow {
  client_id: string; org_id: string; name: string; redirect_uris: string; token_endpoint_auth_method: string; client_secret_digest: string | null; jwks: string | null; tools: string; created_at: string;
  jwks_uri: string | null; previous_secret: string | null; previous_jwks: string | null; disabled_at: string | null; updated_at: string | null;
}
interface GroupRow { org_id: string; id: string; display_name: string; external_id: string | null; members: string; created_at: string; updated_at: string }

const toUser = (r: UserRow): UserRecord => ({
  id: r.id, org_id: r.org_id, username: r.username, email: r.email ?? undefined,
  roles: parse(r.roles), password_hash: r.password_hash, display_name: r.display_name ?? undefined, external_id: r.external_id ?? undefined,
  disabled_at: r.disabled_at ?? undefined, created_at: r.created_at, updated_at: r.updated_at ?? undefined,
});

const toAgent = (r: AgentRow): AgentRecord => ({
  client_id: r.client_id, org_id: r.org_id, name: r.name, redirect_uris: parse(r.redirect_uris),
  token_endpoint_auth_method: r.token_endpoint_auth_method as AgentRecord['token_endpoint_auth_method'],
  client_secret_digest: r.client_secret_digest ?? undefined, jwks: r.jwks ? parse(r.jwks) : undefined,
  jwks_uri: r.jwks_uri ?? undefined, previous_secret: r.previous_secret ? parse(r.previous_secret) : undefined,
  previous_jwks: r.previous_jwks ? parse(r.previous_jwks) : undefined,
  tools: parse(r.tools), disabled_at: r.disabled_at ?? undefined, created_at: r.created_at, updated_at: r.updated_at ?? undefined,
});

const toGroup = (r: GroupRow): GroupRecord => ({
  id: r.id, org_id: r.org_id, display_name: r.display_name, external_id: r.external_id ?? undefined,
  members: parse(r.members), created_at: r.created_at, updated_at: r.updated_at,
});

const enabledOnly = (options?: LookupOptions) => (options?.includeDisabled ? '' : ' AND disabled_at IS NULL');

/** `SET a = ?, b = ?` from a change set: undefined leaves a column alone, null clears it. */
function assignments(changes: Record<string, unknown>, encode: Record<string, (v: unknown) => string> = {}): { sql: string; values: Array<string | null> } {
  const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
  return {
    sql: entries.map(([k]) => `${k} = ?`).join(', '),
    values: entries.map(([k, v]) => (v === null ? null : encode[k] ? encode[k](v) : String(v))),
  };
}

function uniqueViolation(err: unknown): boolean {
  return err instanceof Error && /UNIQUE constraint failed/.test(err.message);
}

export class SqliteDirectoryStore implements DirectoryStore {
  readonly #db: SqliteDatabase;
  constructor(db: SqliteDatabase) { this.#db = db; }

  async createOrg(org: OrgRecord) {
    this.#db.run('INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)', org.id, org.name, org.created_at);
  }
  async getOrg(org_id: string) {
    return this.#db.get<OrgRecord>('SELECT id, name, created_at FROM orgs WHERE id = ?', org_id);
  }
  async listOrgs() {
    return this.#db.all<OrgRecord>('SELECT id, name, created_at FROM orgs ORDER BY id');
  }

  async createUser(org_id: string, u: UserRecord) {
    try {
      this.#db.run(
        `INSERT INTO users (org_id, id, username, email, roles, password_hash, display_name, external_id, disabled_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        org_id, u.id, u.username, optional(u.email), json(u.roles), u.password_hash, optional(u.display_name), optional(u.external_id),
        optional(u.disabled_at), u.created_at, optional(u.updated_at),
      );
    } catch (err) {
      if (uniqueViolation(err)) throw new WritError('conflict', 'a user with this username already exists in the org');
      throw err;
    }
  }
  async getUser(org_id: string, user_id: string, options?: LookupOptions) {
    const r = this.#db.get<UserRow>(`SELECT * FROM users WHERE org_id = ? AND id = ?${enabledOnly(options)}`, org_id, user_id);
    return r && toUser(r);
  }
  async findUserByUsername(org_id: string, username: string, options?: LookupOptions) {
    const r = this.#db.get<UserRow>(`SELECT * FROM users WHERE org_id = ? AND username = ?${enabledOnly(options)}`, org_id, username);
    return r && toUser(r);
  }
  async listUsers(org_id: string) {
    return this.#db.all<UserRow>('SELECT * FROM users WHERE org_id = ? ORDER BY id', org_id).map(toUser);
  }
  async updateUser(org_id: string, user_id: string, changes: UserChanges, at: string) {
    const set = assignments({ ...changes, updated_at: at }, { roles: json });
    try {
      this.#db.run(`UPDATE users SET ${set.sql} WHERE org_id = ? AND id = ?`, ...set.values, org_id, user_id);
    } catch (err) {
      if (uniqueViolation(err)) throw new WritError('conflict', 'a user with this username already exists in the org');
      throw err;
    }
    return this.getUser(org_id, user_id, { includeDisabled: true });
  }
  async deleteUser(org_id: string, user_id: string) {
    return this.#db.transaction(() => {
      const groups = this.#db.all<GroupRow>('SELECT g.* FROM directory_groups g, json_each(g.members) m WHERE g.org_id = ? AND m.value = ?', org_id, user_id);
      for (const g of groups) {
        this.#db.run('UPDATE directory_groups SET members = ? WHERE org_id = ? AND id = ?', json(parse<string[]>(g.members).filter((m) => m !== user_id)), org_id, g.id);
      }
      return this.#db.run('DELETE FROM users WHERE org_id = ? AND id = ?', org_id, user_id).changes > 0;
    });
  }

  async createGroup(org_id: string, g: GroupRecord) {
    try {
      this.#db.run(
        'INSERT INTO directory_groups (org_id, id, display_name, external_id, members, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        org_id, g.id, g.display_name, optional(g.external_id), json([...new Set(g.members)]), g.created_at, g.updated_at,
      );
    } catch (err) {
      if (uniqueViolation(err)) throw new WritError('conflict', 'a group with this name already exists in the org');
      throw err;
    }
  }
  async getGroup(org_id: string, group_id: string) {
    const r = this.#db.get<GroupRow>('SELECT * FROM directory_groups WHERE org_id = ? AND id = ?', org_id, group_id);
    return r && toGroup(r);
  }
  async listGroups(org_id: string) {
    return this.#db.all<GroupRow>('SELECT * FROM directory_groups WHERE org_id = ? ORDER BY id', org_id).map(toGroup);
  }
  async listGroupsOfUser(org_id: string, user_id: string) {
    return this.#db.all<GroupRow>('SELECT g.* FROM directory_groups g, json_each(g.members) m WHERE g.org_id = ? AND m.value = ? ORDER BY g.id', org_id, user_id).map(toGroup);
  }
  async updateGroup(org_id: string, group_id: string, changes: GroupChanges, at: string) {
    const set = assignments({ ...changes, ...(changes.members ? { members: [...new Set(changes.members)] } : {}), updated_at: at }, { members: json });
    try {
      this.#db.run(`UPDATE directory_groups SET ${set.sql} WHERE org_id = ? AND id = ?`, ...set.values, org_id, group_id);
    } catch (err) {
      if (uniqueViolation(err)) throw new WritError('conflict', 'a group with this name already exists in the org');
      throw err;
    }
    return this.getGroup(org_id, group_id);
  }
  async deleteGroup(org_id: string, group_id: string) {
    return this.#db.run('DELETE FROM directory_groups WHERE org_id = ? AND id = ?', org_id, group_id).changes > 0;
  }

  async getThrottle(org_id: string, username: string) {
    return this.#db.get<SignInThrottle>(
      'SELECT failures, locked_until, last_failure_at FROM sign_in_throttle WHERE org_id = ? AND username = ?', org_id, username);
  }
  async putThrottle(org_id: string, username: string, t: SignInThrottle | undefined) {
    if (!t) {
      this.#db.run('DELETE FROM sign_in_throttle WHERE org_id = ? AND username = ?', org_id, username);
      return;
    }
    this.#db.run(
      `INSERT INTO sign_in_throttle (org_id, username, failures, locked_until, last_failure_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (org_id, username) DO UPDATE SET failures = excluded.failures,
         locked_until = excluded.locked_until, last_failure_at = excluded.last_failure_at`,
      org_id, username, t.failures, t.locked_until, t.last_failure_at,
    );
  }

  async createAgent(org_id: string, a: AgentRecord) {
    this.#db.run(
      `INSERT INTO agents (client_id, org_id, name, redirect_uris, token_endpoint_auth_method,
        client_secret_digest, jwks, jwks_uri, previous_secret, previous_jwks, tools, disabled_at, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      a.client_id, org_id, a.name, json(a.redirect_uris), a.token_endpoint_auth_method,
      optional(a.client_secret_digest), a.jwks ? json(a.jwks) : null, optional(a.jwks_uri),
      a.previous_secret ? json(a.previous_secret) : null, a.previous_jwks ? json(a.previous_jwks) : null,
      json(a.tools), optional(a.disabled_at), a.created_at, optional(a.updated_at),
    );
  }
  async getAgent(org_id: string, client_id: string, options?: LookupOptions) {
    const r = this.#db.get<AgentRow>(`SELECT * FROM agents WHERE org_id = ? AND client_id = ?${enabledOnly(options)}`, org_id, client_id);
    return r && toAgent(r);
  }
  async updateAgent(org_id: string, client_id: string, changes: AgentChanges, at: string) {
    const set = assignments({ ...changes, updated_at: at }, { redirect_uris: json, tools: json, jwks: json, previous_secret: json, previous_jwks: json });
    this.#db.run(`UPDATE agents SET ${set.sql} WHERE org_id = ? AND client_id = ?`, ...set.values, org_id, client_id);
    return this.getAgent(org_id, client_id, { includeDisabled: true });
  }
  async listAgents(org_id: string) {
    return this.#db.all<AgentRow>('SELECT * FROM agents WHERE org_id = ? ORDER BY client_id', org_id).map(toAgent);
  }
  async deleteAgent(org_id: string, client_id: string) {
    return this.#db.run('DELETE FROM agents WHERE org_id = ? AND client_id = ?', org_id, client_id).changes > 0;
  }
  async findAgentForClientAuthentication(client_id: string) {
    const r = this.#db.get<AgentRow>('SELECT * FROM agents WHERE client_id = ? AND disabled_at IS NULL', client_id);
    return r && toAgent(r);
  }

  async createResourceServer(rs: ResourceServerRecord) {
    try {
      this.#db.run('INSERT INTO resource_servers (identifier, name, org_id, created_at) VALUES (?, ?, ?, ?)', rs.identifier, rs.name, optional(rs.org_id), rs.created_at);
    } catch (err) {
      if (uniqueViolation(err)) throw new WritError('conflict', 'a resource server with this identifier already exists');
      throw err;
    }
  }
  async getResourceServer(identifier: string) {
    const r = this.#db.get<{ identifier: string; name: string; org_id: string | null; created_at: string }>('SELECT * FROM resource_servers WHERE identifier = ?', identifier);
    return r && { identifier: r.identifier, name: r.name, org_id: r.org_id ?? undefined, created_at: r.created_at };
  }
  async listResourceServers() {
    return this.#db.all<{ identifier: string; name: string; org_id: string | null; created_at: string }>('SELECT * FROM resource_servers ORDER BY identifier')
      .map((r) => ({ identifier: r.identifier, name: r.name, org_id: r.org_id ?? undefined, created_at: r.created_at }));
  }
}
