import type { Context, Next } from 'koa';
import { z } from 'zod';
import { hashPassword } from '../as/passwords.ts';
import type { AuditLog } from '../audit/log.ts';
import type { Clock } from '../core/clock.ts';
import { newId } from '../core/ids.ts';
import { digestSecret, safeEqual } from '../core/secrets.ts';
import { WritError } from '../errors/index.ts';
import type { Lifecycle } from '../lifecycle/service.ts';
import type { WritStore } from '../storage/index.ts';
import type { GroupRecord, Role, UserRecord } from '../storage/ports/directory.ts';
import { readJson } from '../web/body.ts';
import { etagOf, groupResource, listResponse, MAX_RESULTS, resourceTypes, SCHEMA, schemas, SCIM_CONTENT_TYPE, serviceProviderConfig, userResource } from './resources.ts';

// SCIM 2.0 (RFC 7644) under /scim/v2/: the org is the one whose bearer token is presented
// (`<org_id>.<secret>`, the secret compared by digest in constant time). Users and Groups map
// onto the directory; deactivation and deletion go through the lifecycle, which ends every
// grant, capability, session and connected account of the user in one step with its event.

export interface ScimDeps {
  issuer: string;
  store: WritStore;
  lifecycle: Lifecycle;
  audit: AuditLog;
  clock: Clock;
}

export const SCIM_PREFIX = '/scim/v2';

/** An RFC 7644 §3.12 error: `{ schemas, status, scimType?, detail }`. */
export class ScimError extends WritError {
  readonly scimType: string | undefined;
  constructor(status: number, detail: string, scimType?: string) {
    super(status === 404 ? 'not_found' : status === 409 ? 'conflict' : status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'invalid_request', detail, { status });
    this.scimType = scimType;
  }
}

const SCIM_ACTOR = { kind: 'admin', via: 'scim' } as const;
const ROLES = ['member', 'admin'] as const;

const userName = z.string().min(1).max(64).regex(/^[A-Za-z0-9._@+-]+$/, 'userName uses letters, digits and . _ @ + -');
const email = z.strictObject({ value: z.email().max(254), type: z.string().max(32).optional(), primary: z.boolean().optional(), display: z.string().max(254).optional() });
const role = z.looseObject({ value: z.enum(ROLES) });
const memberRef = z.looseObject({ value: z.string().min(1).max(64) });

const userBody = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCHEMA.user), 'schemas must include the core User schema'),
  userName,
  externalId: z.string().min(1).max(256).optional(),
  displayName: z.string().max(256).optional(),
  name: z.looseObject({ formatted: z.string().max(256).optional() }).optional(),
  active: z.boolean().optional(),
  emails: z.array(email).max(10).optional(),
  roles: z.array(role).max(2).optional(),
  password: z.string().min(8).max(1024).optional(),
});

const groupBody = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCHEMA.group), 'schemas must include the core Group schema'),
  displayName: z.string().trim().min(1).max(256),
  externalId: z.string().min(1).max(256).optional(),
  members: z.array(memberRef).max(10_000).optional(),
});

const patchBody = z.looseObject({
  schemas: z.array(z.string()).refine((s) => s.includes(SCHEMA.patch), 'schemas must be the PatchOp message'),
  Operations: z.array(z.looseObject({
    op: z.string().transform((s) => s.toLowerCase()).pipe(z.enum(['add', 'replace', 'remove'])),
    path: z.string().max(256).optional(),
    value: z.unknown().optional(),
  })).min(1).max(1000),
});

const listQuery = z.looseObject({
  filter: z.string().max(512).optional(),
  startIndex: z.coerce.number().int().optional(),
  count: z.coerce.number().int().optional(),
});

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new ScimError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`, 'invalidValue');
}

/** `attr eq "value"` — the one filter form Writ answers (RFC 7644 §3.4.2.2); anything else is `invalidFilter`. */
function parseFilter(filter: string, allowed: string[]): { attr: string; value: string } {
  const m = /^\s*([A-Za-z.]+)\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$/i.exec(filter);
  const attr = m && allowed.find((a) => a.toLowerCase() === m[1]!.toLowerCase());
  if (!m || !attr) throw new ScimError(400, `only ${allowed.map((a) => `${a} eq "…"`).join(' or ')} filters are supported`, 'invalidFilter');
  return { attr, value: JSON.parse(`"${m[2]}"`) as string };
}

/** The working copy of a user that PUT and PATCH edit, before it is applied. */
interface UserDraft {
  userName: string;
  externalId: string | undefined;
  displayName: string | undefined;
  email: string | undefined;
  roles: Role[];
  active: boolean;
}

const draftOf = (u: UserRecord): UserDraft => ({
  userName: u.username, externalId: u.external_id, displayName: u.display_name, email: u.email, roles: [...u.roles], active: !u.disabled_at,
});

function primaryEmail(emails: Array<{ value: string; primary?: boolean | undefined }> | undefined): string | undefined {
  return emails?.find((e) => e.primary)?.value ?? emails?.[0]?.value;
}

const IGNORED = /^(name\.(givenName|familyName|middleName|honorificPrefix|honorificSuffix)|nickName|profileUrl|title|userType|preferredLanguage|locale|timezone|(phoneNumbers|addresses|ims|photos|entitlements|x509Certificates)(\[.*\])?(\..+)?|urn:ietf:params:scim:schemas:extension:enterprise:2\.0:User(:.+)?)$/i;

/** Applies one PATCH operation on a user (RFC 7644 §3.5.2), including the path-less form clients send. */
function patchUser(draft: UserDraft, op: { op: 'add' | 'replace' | 'remove'; path?: string | undefined; value?: unknown }): void {
  if (!op.path) {
    if (op.op === 'remove') throw new ScimError(400, 'remove needs a path', 'noTarget');
    const value = parse(z.record(z.string(), z.unknown()), op.value);
    for (const [path, v] of Object.entries(value)) patchUser(draft, { op: op.op, path, value: v });
    return;
  }
  const path = op.path.toLowerCase();
  const remove = op.op === 'remove';
  switch (path) {
    case 'active': draft.active = remove ? true : parse(z.union([z.boolean(), z.enum(['true', 'false', 'True', 'False']).transform((s) => s.toLowerCase() === 'true')]), op.value); return;
    case 'username': if (remove) throw new ScimError(400, 'userName is required', 'mutability'); draft.userName = parse(userName, op.value); return;
    case 'externalid': draft.externalId = remove ? undefined : parse(z.string().min(1).max(256), op.value); return;
    case 'displayname':
    case 'name.formatted': draft.displayName = remove ? undefined : parse(z.string().max(256), op.value); return;
    case 'name': draft.displayName = remove ? undefined : parse(z.looseObject({ formatted: z.string().max(256).optional() }), op.value).formatted; return;
    case 'emails':
    case 'emails[type eq "work"].value':
    case 'emails[primary eq true].value':
      if (remove) { draft.email = undefined; return; }
      draft.email = path === 'emails' ? primaryEmail(parse(z.array(email).max(10), op.value)) : parse(z.email().max(254), op.value);
      return;
    case 'roles': {
      if (remove) { draft.roles = ['member']; return; }
      const given = parse(z.array(role).max(2), op.value).map((r) => r.value);
      draft.roles = op.op === 'add' ? [...new Set([...draft.roles, ...given])] : [...new Set(given)];
      return;
    }
    default:
      // Core and enterprise attributes Writ does not keep (identity providers send them by default):
      // accepted and not stored, as a server may do with attributes it does not support.
      if (IGNORED.test(op.path)) return;
      throw new ScimError(400, `attribute ${op.path} cannot be changed here`, 'invalidPath');
  }
}

/** Koa middleware answering everything under /scim/v2/ with SCIM's own shapes, errors included. */
export function scimRoutes(deps: ScimDeps) {
  const { store, lifecycle, audit, clock } = deps;
  const base = `${deps.issuer}${SCIM_PREFIX}`;
  const iso = () => new Date(clock.now()).toISOString();

  async function authenticate(ctx: Context): Promise<string> {
    const header = ctx.get('authorization');
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? '';
    const dot = token.indexOf('.');
    const org_id = dot > 0 ? token.slice(0, dot) : '';
    const stored = org_id ? await store.scim.getToken(org_id) : undefined;
    // Compared even when no token is stored, so an unknown org takes the same path.
    const ok = safeEqual(stored?.digest ?? digestSecret(''), digestSecret(token.slice(dot + 1))) && stored !== undefined;
    if (!ok) {
      ctx.set('www-authenticate', 'Bearer realm="writ-scim"');
      throw new ScimError(401, 'a valid SCIM bearer token for the org is required');
    }
    return org_id;
  }

  async function groupsOf(org_id: string, user_id: string) {
    return store.directory.listGroupsOfUser(org_id, user_id);
  }

  async function userOf(org_id: string, id: string): Promise<UserRecord> {
    const user = await store.directory.getUser(org_id, id, { includeDisabled: true });
    if (!user) throw new ScimError(404, `User ${id} not found`);
    return user;
  }

  async function groupOf(org_id: string, id: string): Promise<GroupRecord> {
    const group = await store.directory.getGroup(org_id, id);
    if (!group) throw new ScimError(404, `Group ${id} not found`);
    return group;
  }

  async function renderUser(org_id: string, user: UserRecord) {
    return userResource(base, user, await groupsOf(org_id, user.id));
  }

  async function renderGroup(org_id: string, group: GroupRecord) {
    const users = await store.directory.listUsers(org_id);
    return groupResource(base, group, new Map(users.map((u) => [u.id, u.display_name ?? u.username])));
  }

  /** RFC 7644 §3.14: a stale If-Match is refused before anything changes. */
  function checkIfMatch(ctx: Context, current: Record<string, unknown>): void {
    const wanted = ctx.get('if-match');
    if (!wanted || wanted.trim() === '*') return;
    const tags = wanted.split(',').map((t) => t.trim());
    if (!tags.includes(etagOf(current))) throw new ScimError(412, 'the resource changed since that version', undefined);
  }

  function send(ctx: Context, status: number, resource: Record<string, unknown> | undefined) {
    ctx.status = status;
    if (resource === undefined) return;
    const version = (resource.meta as { version?: string } | undefined)?.version;
    if (version) ctx.set('etag', version);
    ctx.type = SCIM_CONTENT_TYPE;
    ctx.body = resource;
  }

  /** A GET with the client's current version (`If-None-Match`) answers 304 without a body. */
  function sendUnlessUnchanged(ctx: Context, current: Record<string, unknown>) {
    const tag = ctx.get('if-none-match');
    if (tag && tag.split(',').map((t) => t.trim()).includes(etagOf(current))) { ctx.status = 304; return; }
    send(ctx, 200, current);
  }

  async function applyUser(org_id: string, user: UserRecord, draft: UserDraft): Promise<UserRecord> {
    const before = draftOf(user);
    const changes = {
      ...(draft.userName !== before.userName ? { username: draft.userName } : {}),
      ...(draft.externalId !== before.externalId ? { external_id: draft.externalId ?? null } : {}),
      ...(draft.displayName !== before.displayName ? { display_name: draft.displayName ?? null } : {}),
      ...(draft.email !== before.email ? { email: draft.email ?? null } : {}),
      ...(draft.roles.join() !== before.roles.join() ? { roles: draft.roles.length ? draft.roles : ['member' as const] } : {}),
    };
    if (Object.keys(changes).length) await lifecycle.updateUser(org_id, user.id, changes, SCIM_ACTOR);
    if (before.active && !draft.active) await lifecycle.disableUser(org_id, user.id, SCIM_ACTOR, 'scim');
    if (!before.active && draft.active) await lifecycle.enableUser(org_id, user.id, SCIM_ACTOR, 'scim');
    return userOf(org_id, user.id);
  }

  async function checkMembers(org_id: string, members: string[]): Promise<void> {
    for (const id of new Set(members)) {
      if (!(await store.directory.getUser(org_id, id, { includeDisabled: true }))) throw new ScimError(400, `member ${id} is not a user of this org`, 'invalidValue');
    }
  }

  /** One page (RFC 7644 §3.4.2.4, 1-based `startIndex`); only the page's records are rendered. */
  async function page<T>(ctx: Context, all: T[], render: (record: T) => Promise<Record<string, unknown>>) {
    const q = parse(listQuery, ctx.query);
    const startIndex = Math.max(1, q.startIndex ?? 1);
    const count = Math.min(MAX_RESULTS, Math.max(0, q.count ?? MAX_RESULTS));
    const rendered = [];
    for (const record of all.slice(startIndex - 1, startIndex - 1 + count)) rendered.push(await render(record));
    return listResponse(rendered, all.length, startIndex);
  }

  async function route(ctx: Context, org_id: string, method: string, segments: string[]): Promise<void> {
    const [collection, id, ...rest] = segments;
    if (rest.length) throw new ScimError(404, 'no such endpoint');
    if (collection === 'ServiceProviderConfig' && !id && method === 'GET') return send(ctx, 200, serviceProviderConfig(base));
    if (collection === 'Schemas' && method === 'GET') {
      const all = schemas(base);
      if (!id) return send(ctx, 200, listResponse(all, all.length, 1));
      const one = all.find((s) => s.id === id);
      if (!one) throw new ScimError(404, `schema ${id} not found`);
      return send(ctx, 200, one);
    }
    if (collection === 'ResourceTypes' && method === 'GET') {
      const all = resourceTypes(base);
      if (!id) return send(ctx, 200, listResponse(all, all.length, 1));
      const one = all.find((s) => s.id === id);
      if (!one) throw new ScimError(404, `resource type ${id} not found`);
      return send(ctx, 200, one);
    }

    if (collection === 'Users') {
      if (!id && method === 'GET') {
        const q = parse(listQuery, ctx.query);
        let users: UserRecord[];
        if (q.filter) {
          const f = parseFilter(q.filter, ['userName', 'externalId']);
          users = f.attr === 'userName'
            ? (await store.directory.listUsers(org_id)).filter((u) => u.username.toLowerCase() === f.value.toLowerCase())
            : (await store.directory.listUsers(org_id)).filter((u) => u.external_id === f.value);
        } else {
          users = await store.directory.listUsers(org_id);
        }
        return send(ctx, 200, await page(ctx, users, (u) => renderUser(org_id, u)));
      }
      if (!id && method === 'POST') {
        const body = parse(userBody, await readJson(ctx.req));
        const at = iso();
        const user: UserRecord = {
          id: newId('usr'), org_id, username: body.userName, email: primaryEmail(body.emails), roles: body.roles?.length ? [...new Set(body.roles.map((r) => r.value))] : ['member'],
          // No password unless the client sets one: such a user signs in through the org's identity provider.
          password_hash: body.password ? await hashPassword(body.password) : '',
          display_name: body.displayName ?? body.name?.formatted, external_id: body.externalId,
          disabled_at: body.active === false ? at : undefined, created_at: at, updated_at: at,
        };
        try {
          await store.directory.createUser(org_id, user);
        } catch (err) {
          if (err instanceof WritError && err.code === 'conflict') throw new ScimError(409, `userName ${body.userName} is taken in this org`, 'uniqueness');
          throw err;
        }
        await audit.record(org_id, { type: 'user.created', actor: SCIM_ACTOR, subject: { user_id: user.id }, details: { username: user.username, roles: user.roles, active: !user.disabled_at } });
        ctx.set('location', `${base}/Users/${user.id}`);
        return send(ctx, 201, await renderUser(org_id, user));
      }
      if (!id) throw new ScimError(405, `${method} is not allowed on /Users`);
      const user = await userOf(org_id, id);
      const current = await renderUser(org_id, user);
      if (method === 'GET') return sendUnlessUnchanged(ctx, current);
      if (method === 'PUT') {
        const body = parse(userBody, await readJson(ctx.req));
        checkIfMatch(ctx, current);
        const draft: UserDraft = {
          userName: body.userName, externalId: body.externalId, displayName: body.displayName ?? body.name?.formatted,
          email: primaryEmail(body.emails), roles: body.roles ? [...new Set(body.roles.map((r) => r.value))] : user.roles, active: body.active ?? true,
        };
        return send(ctx, 200, await renderUser(org_id, await applyUser(org_id, user, draft)));
      }
      if (method === 'PATCH') {
        const body = parse(patchBody, await readJson(ctx.req));
        checkIfMatch(ctx, current);
        const draft = draftOf(user);
        for (const op of body.Operations) patchUser(draft, op);
        return send(ctx, 200, await renderUser(org_id, await applyUser(org_id, user, draft)));
      }
      if (method === 'DELETE') {
        checkIfMatch(ctx, current);
        await lifecycle.deleteUser(org_id, id, SCIM_ACTOR, 'scim');
        ctx.status = 204;
        return;
      }
      throw new ScimError(405, `${method} is not allowed on a User`);
    }

    if (collection === 'Groups') {
      if (!id && method === 'GET') {
        const q = parse(listQuery, ctx.query);
        let groups = await store.directory.listGroups(org_id);
        if (q.filter) {
          const f = parseFilter(q.filter, ['displayName', 'externalId']);
          groups = groups.filter((g) => (f.attr === 'displayName' ? g.display_name.toLowerCase() === f.value.toLowerCase() : g.external_id === f.value));
        }
        return send(ctx, 200, await page(ctx, groups, (g) => renderGroup(org_id, g)));
      }
      if (!id && method === 'POST') {
        const body = parse(groupBody, await readJson(ctx.req));
        const members = (body.members ?? []).map((m) => m.value);
        await checkMembers(org_id, members);
        const at = iso();
        const group: GroupRecord = { id: newId('grp'), org_id, display_name: body.displayName, external_id: body.externalId, members, created_at: at, updated_at: at };
        try {
          await store.directory.createGroup(org_id, group);
        } catch (err) {
          if (err instanceof WritError && err.code === 'conflict') throw new ScimError(409, `a group named ${body.displayName} exists in this org`, 'uniqueness');
          throw err;
        }
        await audit.record(org_id, { type: 'group.created', actor: SCIM_ACTOR, subject: { group_id: group.id }, details: { display_name: group.display_name, members: group.members.length } });
        ctx.set('location', `${base}/Groups/${group.id}`);
        return send(ctx, 201, await renderGroup(org_id, (await store.directory.getGroup(org_id, group.id))!));
      }
      if (!id) throw new ScimError(405, `${method} is not allowed on /Groups`);
      const group = await groupOf(org_id, id);
      const current = await renderGroup(org_id, group);
      if (method === 'GET') return sendUnlessUnchanged(ctx, current);
      if (method === 'DELETE') {
        checkIfMatch(ctx, current);
        await store.directory.deleteGroup(org_id, id);
        await audit.record(org_id, { type: 'group.deleted', actor: SCIM_ACTOR, subject: { group_id: id } });
        ctx.status = 204;
        return;
      }
      let changes: { display_name?: string; external_id?: string | null; members?: string[] };
      if (method === 'PUT') {
        const body = parse(groupBody, await readJson(ctx.req));
        checkIfMatch(ctx, current);
        changes = { display_name: body.displayName, external_id: body.externalId ?? null, members: (body.members ?? []).map((m) => m.value) };
      } else if (method === 'PATCH') {
        const body = parse(patchBody, await readJson(ctx.req));
        checkIfMatch(ctx, current);
        let members = [...group.members];
        let display_name = group.display_name;
        let external_id: string | null = group.external_id ?? null;
        for (const op of body.Operations) {
          const path = op.path?.toLowerCase();
          const filtered = op.path ? /^members\[value eq "([^"]+)"\]$/i.exec(op.path) : null;
          if (filtered && op.op === 'remove') members = members.filter((m) => m !== filtered[1]);
          else if (path === 'members') {
            const given = op.value === undefined ? [] : parse(z.array(memberRef), op.value).map((m) => m.value);
            if (op.op === 'add') members = [...members, ...given];
            else if (op.op === 'replace') members = given;
            else members = given.length ? members.filter((m) => !given.includes(m)) : [];
          } else if (path === 'displayname' && op.op !== 'remove') display_name = parse(z.string().trim().min(1).max(256), op.value);
          else if (path === 'externalid') external_id = op.op === 'remove' ? null : parse(z.string().min(1).max(256), op.value);
          else if (!path && op.op !== 'remove') {
            const v = parse(z.looseObject({ displayName: z.string().trim().min(1).max(256).optional(), externalId: z.string().min(1).max(256).optional(), members: z.array(memberRef).optional() }), op.value);
            if (v.displayName) display_name = v.displayName;
            if (v.externalId) external_id = v.externalId;
            if (v.members) members = op.op === 'add' ? [...members, ...v.members.map((m) => m.value)] : v.members.map((m) => m.value);
          } else throw new ScimError(400, `unsupported patch of ${op.path ?? 'the group'}`, 'invalidPath');
        }
        changes = { display_name, external_id, members };
      } else {
        throw new ScimError(405, `${method} is not allowed on a Group`);
      }
      await checkMembers(org_id, changes.members ?? []);
      let updated: GroupRecord | undefined;
      try {
        updated = await store.directory.updateGroup(org_id, id, changes, iso());
      } catch (err) {
        if (err instanceof WritError && err.code === 'conflict') throw new ScimError(409, 'a group with that name exists in this org', 'uniqueness');
        throw err;
      }
      await audit.record(org_id, { type: 'group.updated', actor: SCIM_ACTOR, subject: { group_id: id }, details: { display_name: updated!.display_name, members: updated!.members.length } });
      return send(ctx, 200, await renderGroup(org_id, updated!));
    }
    throw new ScimError(404, 'no such endpoint');
  }

  return async (ctx: Context, next: Next) => {
    if (ctx.path !== SCIM_PREFIX && !ctx.path.startsWith(`${SCIM_PREFIX}/`)) return next();
    ctx.set('cache-control', 'no-store');
    try {
      const org_id = await authenticate(ctx);
      const segments = ctx.path.slice(SCIM_PREFIX.length).split('/').filter(Boolean).map((s) => decodeURIComponent(s));
      await route(ctx, org_id, ctx.method, segments);
    } catch (err) {
      const scim = err instanceof ScimError ? err
        : err instanceof WritError && err.status < 500 ? new ScimError(err.status, err.description, err.code === 'conflict' ? 'uniqueness' : undefined)
          : undefined;
      if (!scim) throw err;
      ctx.status = scim.status;
      ctx.type = SCIM_CONTENT_TYPE;
      ctx.body = { schemas: [SCHEMA.error], status: String(scim.status), ...(scim.scimType ? { scimType: scim.scimType } : {}), detail: scim.description };
    }
  };
}
