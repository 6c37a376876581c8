import type { Collection, Db, WithId } from 'mongodb';
import type { AgentChanges, AgentRecord, DirectoryStore, GroupChanges, GroupRecord, LookupOptions, OrgRecord, ResourceServerRecord, Role, SignInThrottle, UserChanges, UserRecord } from '../ports/directory.ts';
import { rethrowAsConflict, retryOnDuplicate, setAndUnset, type IndexPlan } from './database.ts';

interface OrgDoc { id: string; name: string; created_at: string }
interface UserDoc {
  org_id: string; id: string; username: string; email?: string | undefined; roles: Role[]; password_hash: string; created_at: string;
  display_name?: string | undefined; external_id?: string | undefined; disabled_at?: string | undefined; updated_at?: string | undefined;
}
interface GroupDoc { org_id: string; id: string; display_name: string; external_id?: string | undefined; members: string[]; created_at: string; updated_at: string }
interface ThrottleDoc { org_id: string; username: string; failures: number; locked_until: number; last_failure_at: number }
interface AgentDoc {
  client_id: string; org_id: string; name: string; redirect_uris: string[];
  token_endpoint_auth_method: AgentRecord['token_endpoint_auth_method'];
  client_secret_digest?: string | undefined; jwks?: { keys: Record<string, unknown>[] } | undefined; tools: string[]; created_at: string;
  jwks_uri?: string | undefined; previous_secret?: { digest: string; expires_at: string } | undefined;
  previous_jwks?: { keys: Record<string, unknown>[]; expires_at: string } | undefined; disabled_at?: string | undefined; updated_at?: string | undefined;
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
  {
    collection: 'directory_groups',
    indexes: [
      { key: { org_id: 1, id: 1 }, name: 'groups_org_id', unique: true },
      { key: { org_id: 1, display_name: 1 }, name: 'groups_org_display_name', unique: true },
      { key: { org_id: 1, members: 1 }, name: 'groups_org_members' },
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
  password_hash: d.password_hash, display_name: d.display_name ?? undefined, external_id: d.external_id ?? undefined,
  disabled_at: d.disabled_at ?? undefined, created_at: d.created_at, updated_at: d.updated_at ?? undefined,
});

const toGroup = (d: WithId<GroupDoc>): GroupRecord => ({
  id: d.id, org_id: d.org_id, display_name: d.display_name, external_id: d.external_id ?? undefined,
  members: [...d.members], created_at: d.created_at, updated_at: d.updated_at,
});

const enabledOnly = (options?: LookupOptions) => (options?.includeDisabled ? {} : { disabled_at: { $exists: false } });

/** Changes to `$set`/`$unset`: undefined leaves a field alone, null removes it. */
function changeSet(changes: object, at: string) {
  const fields: Record<string, unknown> = { updated_at: at };
  for (const [k, v] of Object.entries(changes)) if (v !== undefined) fields[k] = v === null ? undefined : v;
  return setAndUnset(fields);
}

const toAgent = (d: WithId<AgentDoc>): AgentRecord => ({
  client_id: d.client_id, org_id: d.org_id, name: d.name, redirect_uris: [...d.redirect_uris],
  token_endpoint_auth_method: d.token_endpoint_auth_method, client_secret_digest: d.client_secret_digest ?? undefined,
  jwks: d.jwks ?? undefined, jwks_uri: d.jwks_uri ?? undefined, previous_secret: d.previous_secret ?? undefined,
  previous_jwks: d.previous_jwks ?? undefined, tools: [...d.tools], disabled_at: d.disabled_at ?? undefined,
  created_at: d.created_at, updated_at: d.updated_at ?? undefined,
});

const toResourceServer = (d: WithId<ResourceServerDoc>): ResourceServerRecord => ({
  identifier: d.identifier, name: d.name, org_id: d.org_id ?? undefined, created_at: d.created_at,
});

export class MongoDirectoryStore implements DirectoryStore {
  readonly #orgs: Collection<OrgDoc>;
  readonly #users: Collection<UserDoc>;
  readonly #throttle: Collection<ThrottleDoc>;
  readonly #agents: Collection<AgentDoc>;
  readonly #groups: Collection<GroupDoc>;
  readonly #resourceServers: Collection<ResourceServerDoc>;

  constructor(db: Db) {
    this.#resourceServers = db.collection<ResourceServerDoc>('resource_servers');
    this.#orgs = db.collection<OrgDoc>('orgs');
    this.#users = db.collection<UserDoc>('users');
    this.#throttle = db.collection<ThrottleDoc>('sign_in_throttle');
    this.#agents = db.collection<AgentDoc>('agents');
    this.#groups = db.collection<GroupDoc>('directory_groups');
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
        password_hash: u.password_hash, display_name: u.display_name, external_id: u.external_id,
        disabled_at: u.disabled_at, created_at: u.created_at, updated_at: u.updated_at,
      });
    } catch (err) {
      rethrowAsConflict(err, 'a user with this username already exists in the org');
    }
  }
  async getUser(org_id: string, user_id: string, options?: LookupOptions) {
    const d = await this.#users.findOne({ org_id, id: user_id, ...enabledOnly(options) });
    return d ? toUser(d) : undefined;
  }
  async findUserByUsername(org_id: string, username: string, options?: LookupOptions) {
    const d = await this.#users.findOne({ org_id, username, ...enabledOnly(options) });
    return d ? toUser(d) : undefined;
  }
  async listUsers(org_id: string) {
    return (await this.#users.find({ org_id }).sort({ id: 1 }).toArray()).map(toUser);
  }
  async updateUser(org_id: string, user_id: string, changes: UserChanges, at: string) {
    try {
      const d = await this.#users.findOneAndUpdate({ org_id, id: user_id }, changeSet(changes, at), { returnDocument: 'after' });
      return d ? toUser(d) : undefined;
    } catch (err) {
      rethrowAsConflict(err, 'a user with this username already exists in the org');
    }
  }
  async deleteUser(org_id: string, user_id: string) {
    await this.#groups.updateMany({ org_id, members: user_id }, { $pull: { members: user_id } });
    return (await this.#users.deleteOne({ org_id, id: user_id })).deletedCount === 1;
  }

  async createGroup(org_id: string, g: GroupRecord) {
    try {
      await this.#groups.insertOne({
        org_id, id: g.id, display_name: g.display_name, external_id: g.external_id, members: [...new Set(g.members)],
        created_at: g.created_at, updated_at: g.updated_at,
      });
    } catch (err) {
      rethrowAsConflict(err, 'a group with this name already exists in the org');
    }
  }
  async getGroup(org_id: string, group_id: string) {
    const d = await this.#groups.findOne({ org_id, id: group_id });
    return d ? toGroup(d) : undefined;
  }
  async listGroups(org_id: string) {
    return (await this.#groups.find({ org_id }).sort({ id: 1 }).toArray()).map(toGroup);
  }
  async listGroupsOfUser(org_id: string, user_id: string) {
    return (await this.#groups.find({ org_id, members: user_id }).sort({ id: 1 }).toArray()).map(toGroup);
  }
  async updateGroup(org_id: string, group_id: string, changes: GroupChanges, at: string) {
    const members = changes.members ? { members: [...new Set(changes.members)] } : {};
    try {
      const d = await this.#groups.findOneAndUpdate({ org_id, id: group_id }, changeSet({ ...changes, ...members }, at), { returnDocument: 'after' });
      return d ? toGroup(d) : undefined;
    } catch (err) {
      rethrowAsConflict(err, 'a group with this name already exists in the org');
    }
  }
  async deleteGroup(org_id: string, group_id: string) {
    return (await this.#groups.deleteOne({ org_id, id: group_id })).deletedCount === 1;
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
        jwks: a.jwks, jwks_uri: a.jwks_uri, previous_secret: a.previous_secret, previous_jwks: a.previous_jwks,
        tools: [...a.tools], disabled_at: a.disabled_at, created_at: a.created_at, updated_at: a.updated_at,
      });
    } catch (err) {
      rethrowAsConflict(err, 'an agent with this client_id already exists');
    }
  }
  async getAgent(org_id: string, client_id: string, options?: LookupOptions) {
    const d = await this.#agents.findOne({ org_id, client_id, ...enabledOnly(options) });
    return d ? toAgent(d) : undefined;
  }
  async updateAgent(org_id: string, client_id: string, changes: AgentChanges, at: string) {
    const d = await this.#agents.findOneAndUpdate({ org_id, client_id }, changeSet(changes, at), { returnDocument: 'after' });
    return d ? toAgent(d) : undefined;
  }
  async listAgents(org_id: string) {
    return (await this.#agents.find({ org_id }).sort({ client_id: 1 }).toArray()).map(toAgent);
  }
  async deleteAgent(org_id: string, client_id: string) {
    return (await this.#agents.deleteOne({ org_id, client_id })).deletedCount === 1;
  }
  async findAgentForClientAuthentication(client_id: string) {
    const d = await this.#agents.findOne({ client_id, disabled_at: { $exists: false } });
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
