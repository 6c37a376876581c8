import type { Collection, Db, WithId } from 'mongodb';
import type { AgentRecord, DirectoryStore, OrgRecord, ResourceServerRecord, Role, SignInThrottle, UserRecord } from '../ports/directory.ts';
import { rethrowAsConflict, retryOnDuplicate, type IndexPlan } from './database.ts';

interface OrgDoc { id: string; name: string; created_at: string }
interface UserDoc { org_id: string; id: string; username: string; email?: string; roles: Role[]; password_hash: string; created_at: string }
interface ThrottleDoc { org_id: string; username: string; failures: number; locked_until: number; last_failure_at: number }
interface AgentDoc {
  client_id: string; org_id: string; name: string; redirect_uris: string[];
  token_endpoint_auth_method: AgentRecord['token_endpoint_auth_method'];
  client_secret_digest?: string; jwks?: { keys: Record<string, unknown>[] }; tools: string[]; created_at: string;
}
interface ResourceServerDoc { identifier: string; name: string; org_id?: string; created_at: string }

export const directoryIndexes: IndexPlan[] = [
  { collection: 'orgs', indexes: [{ key: { id: 1 }, name: 'orgs_id', unique: true }] },
  {
    collection: 'users',
    indexes: [
      { key: { org_id: 1, id: 1 }, name: 'users_org_id', unique: true },
      // A username is unique within its org, not across orgs.
      { key: { org_id: 1, username: 1 }, name: 'users_org_username', unique: true },
    ],
  },
  { collection: 'sign_in_throttle', indexes: [{ key: { org_id: 1, username: 1 }, name: 'throttle_org_username', unique: true }] },
  {
    collection: 'agents',
    indexes: [
      // client_id is the OAuth entry point and must be unique across the deployment.
      { key: { client_id: 1 }, name: 'agents_client_id', unique: true },
      { key: { org_id: 1, client_id: 1 }, name: 'agents_org_client_id' },
    ],
  },
  {
    collection: 'resource_servers',
    // A token-exchange audience is one exact identifier (RFC 8707) across the deployment.
    indexes: [{ key: { identifier: 1 }, name: 'resource_servers_identifier', unique: true }],
  },
];

const toOrg = (d: WithId<OrgDoc>): OrgRecord => ({ id: d.id, name: d.name, created_at: d.created_at });

const toUser = (d: WithId<UserDoc>): UserRecord => ({
  id: d.id, org_id: d.org_id, username: d.username, email: d.email ?? undefined, roles: [...d.roles],
  password_hash: d.password_hash, created_at: d.created_at,
});

const toAgent = (d: WithId<AgentDoc>): AgentRecord => ({
  client_id: d.client_id, org_id: d.org_id, name: d.name, redirect_uris: [...d.redirect_uris],
  token_endpoint_auth_method: d.token_endpoint_auth_method, client_secret_digest: d.client_secret_digest ?? undefined,
  jwks: d.jwks ?? undefined, tools: [...d.tools], created_at: d.created_at,
});

const toResourceServer = (d: WithId<ResourceServerDoc>): ResourceServerRecord => ({
  identifier: d.identifier, name: d.name, org_id: d.org_id ?? undefined, created_at: d.created_at,
});

export class MongoDirectoryStore implements DirectoryStore {
  readonly #orgs: Collection<OrgDoc>;
  readonly #users: Collection<UserDoc>;
  readonly #throttle: Collection<ThrottleDoc>;
  readonly #agents: Collection<AgentDoc>;
  readonly #resourceServers: Collection<ResourceServerDoc>;

  constructor(db: Db) {
    this.#resourceServers = db.collection<ResourceServerDoc>('resource_servers');
    this.#orgs = db.collection<OrgDoc>('orgs');
    this.#users = db.collection<UserDoc>('users');
    this.#throttle = db.collection<ThrottleDoc>('sign_in_throttle');
    this.#agents = db.collection<AgentDoc>('agents');
  }

  async createOrg(org: OrgRecord) {
    try {
      await this.#orgs.insertOne({ id: org.id, name: org.name, created_at: org.created_at });
    } catch (err) {
      rethrowAsConflict(err, 'an org with this id already exists');
    }
  }
  async getOrg(org_id: string) {
    const d = await this.#orgs.findOne({ id: org_id });
    return d ? toOrg(d) : undefined;
  }
  async listOrgs() {
    return (await this.#orgs.find({}).sort({ id: 1 }).toArray()).map(toOrg);
  }

  async createUser(org_id: string, u: UserRecord) {
    try {
      await this.#users.insertOne({
        org_id, id: u.id, username: u.username, email: u.email, roles: [...u.roles],
        password_hash: u.password_hash, created_at: u.created_at,
      });
    } catch (err) {
      rethrowAsConflict(err, 'a user with this username already exists in the org');
    }
  }
  async getUser(org_id: string, user_id: string) {
    const d = await this.#users.findOne({ org_id, id: user_id });
    return d ? toUser(d) : undefined;
  }
  async findUserByUsername(org_id: string, username: string) {
    const d = await this.#users.findOne({ org_id, username });
    return d ? toUser(d) : undefined;
  }
  async listUsers(org_id: string) {
    return (await this.#users.find({ org_id }).sort({ id: 1 }).toArray()).map(toUser);
  }

  async getThrottle(org_id: string, username: string) {
    const d = await this.#throttle.findOne({ org_id, username });
    return d ? { failures: d.failures, locked_until: d.locked_until, last_failure_at: d.last_failure_at } : undefined;
  }
  async putThrottle(org_id: string, username: string, t: SignInThrottle | undefined) {
    if (!t) {
      await this.#throttle.deleteOne({ org_id, username });
      return;
    }
    const { failures, locked_until, last_failure_at } = t;
    await retryOnDuplicate(() =>
      this.#throttle.updateOne({ org_id, username }, { $set: { failures, locked_until, last_failure_at } }, { upsert: true }));
  }

  async createAgent(org_id: string, a: AgentRecord) {
    try {
      await this.#agents.insertOne({
        client_id: a.client_id, org_id, name: a.name, redirect_uris: [...a.redirect_uris],
        token_endpoint_auth_method: a.token_endpoint_auth_method, client_secret_digest: a.client_secret_digest,
        jwks: a.jwks, tools: [...a.tools], created_at: a.created_at,
      });
    } catch (err) {
      rethrowAsConflict(err, 'an agent with this client_id already exists');
    }
  }
  async getAgent(org_id: string, client_id: string) {
    const d = await this.#agents.findOne({ org_id, client_id });
    return d ? toAgent(d) : undefined;
  }
  async listAgents(org_id: string) {
    return (await this.#agents.find({ org_id }).sort({ client_id: 1 }).toArray()).map(toAgent);
  }
  async deleteAgent(org_id: string, client_id: string) {
    return (await this.#agents.deleteOne({ org_id, client_id })).deletedCount === 1;
  }
  async findAgentForClientAuthentication(client_id: string) {
    const d = await this.#agents.findOne({ client_id });
    return d ? toAgent(d) : undefined;
  }

  async createResourceServer(rs: ResourceServerRecord) {
    try {
      await this.#resourceServers.insertOne({ identifier: rs.identifier, name: rs.name, org_id: rs.org_id, created_at: rs.created_at });
    } catch (err) {
      rethrowAsConflict(err, 'a resource server with this identifier already exists');
    }
  }
  async getResourceServer(identifier: string) {
    const d = await this.#resourceServers.findOne({ identifier });
    return d ? toResourceServer(d) : undefined;
  }
  async listResourceServers() {
    return (await this.#resourceServers.find({}).sort({ identifier: 1 }).toArray()).map(toResourceServer);
  }
}
