import { WritError } from '../../errors/index.ts';
import type { AgentRecord, DirectoryStore, OrgRecord, ResourceServerRecord, SignInThrottle, UserRecord } from '../ports/directory.ts';
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
];

interface UserRow { org_id: string; id: string; username: string; email: string | null; roles: string; password_hash: string; created_at: string }
interface AgentRow { client_id: string; org_id: string; name: string; redirect_uris: string; token_endpoint_auth_method: string; client_secret_digest: string | null; jwks: string | null; tools: string; created_at: string }

const toUser = (r: UserRow): UserRecord => ({
  id: r.id, org_id: r.org_id, username: r.username, email: r.email ?? undefined,
  roles: parse(r.roles), password_hash: r.password_hash, created_at: r.created_at,
});

const toAgent = (r: AgentRow): AgentRecord => ({
  client_id: r.client_id, org_id: r.org_id, name: r.name, redirect_uris: parse(r.redirect_uris),
  token_endpoint_auth_method: r.token_endpoint_auth_method as AgentRecord['token_endpoint_auth_method'],
  client_secret_digest: r.client_secret_digest ?? undefined, jwks: r.jwks ? parse(r.jwks) : undefined,
  tools: parse(r.tools), created_at: r.created_at,
});

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
        'INSERT INTO users (org_id, id, username, email, roles, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        org_id, u.id, u.username, optional(u.email), json(u.roles), u.password_hash, u.created_at,
      );
    } catch (err) {
      if (uniqueViolation(err)) throw new WritError('conflict', 'a user with this username already exists in the org');
      throw err;
    }
  }
  async getUser(org_id: string, user_id: string) {
    const r = this.#db.get<UserRow>('SELECT * FROM users WHERE org_id = ? AND id = ?', org_id, user_id);
    return r && toUser(r);
  }
  async findUserByUsername(org_id: string, username: string) {
    const r = this.#db.get<UserRow>('SELECT * FROM users WHERE org_id = ? AND username = ?', org_id, username);
    return r && toUser(r);
  }
  async listUsers(org_id: string) {
    return this.#db.all<UserRow>('SELECT * FROM users WHERE org_id = ? ORDER BY id', org_id).map(toUser);
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
        client_secret_digest, jwks, tools, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      a.client_id, org_id, a.name, json(a.redirect_uris), a.token_endpoint_auth_method,
      optional(a.client_secret_digest), a.jwks ? json(a.jwks) : null, json(a.tools), a.created_at,
    );
  }
  async getAgent(org_id: string, client_id: string) {
    const r = this.#db.get<AgentRow>('SELECT * FROM agents WHERE org_id = ? AND client_id = ?', org_id, client_id);
    return r && toAgent(r);
  }
  async listAgents(org_id: string) {
    return this.#db.all<AgentRow>('SELECT * FROM agents WHERE org_id = ? ORDER BY client_id', org_id).map(toAgent);
  }
  async deleteAgent(org_id: string, client_id: string) {
    return this.#db.run('DELETE FROM agents WHERE org_id = ? AND client_id = ?', org_id, client_id).changes > 0;
  }
  async findAgentForClientAuthentication(client_id: string) {
    const r = this.#db.get<AgentRow>('SELECT * FROM agents WHERE client_id = ?', client_id);
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
