import { createHash } from 'node:crypto';
import type { GroupRecord, UserRecord } from '../storage/ports/directory.ts';

// SCIM 2.0 resources (RFC 7643) as Writ represents its users and groups, and the fixed
// discovery documents (ServiceProviderConfig, Schemas, ResourceTypes).

export const SCHEMA = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  config: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export const SCIM_CONTENT_TYPE = 'application/scim+json';

/** A weak ETag over the resource's content: any change to what a client sees changes it (RFC 7644 §3.14). */
export function etagOf(resource: Record<string, unknown>): string {
  const { meta: _meta, ...content } = resource;
  return `W/"${createHash('sha256').update(JSON.stringify(content)).digest('base64url').slice(0, 22)}"`;
}

function withMeta(resource: Record<string, unknown>, meta: { resourceType: string; created: string; lastModified: string; location: string }) {
  return { ...resource, meta: { ...meta, version: etagOf(resource) } };
}

export function userResource(base: string, user: UserRecord, groups: GroupRecord[]): Record<string, unknown> {
  return withMeta({
    schemas: [SCHEMA.user],
    id: user.id,
    ...(user.external_id ? { externalId: user.external_id } : {}),
    userName: user.username,
    ...(user.display_name ? { displayName: user.display_name, name: { formatted: user.display_name } } : {}),
    active: !user.disabled_at,
    ...(user.email ? { emails: [{ value: user.email, primary: true, type: 'work' }] } : {}),
    roles: user.roles.map((r) => ({ value: r })),
    groups: groups.map((g) => ({ value: g.id, display: g.display_name, $ref: `${base}/Groups/${g.id}`, type: 'direct' })),
  }, { resourceType: 'User', created: user.created_at, lastModified: user.updated_at ?? user.created_at, location: `${base}/Users/${user.id}` });
}

export function groupResource(base: string, group: GroupRecord, names: Map<string, string>): Record<string, unknown> {
  return withMeta({
    schemas: [SCHEMA.group],
    id: group.id,
    ...(group.external_id ? { externalId: group.external_id } : {}),
    displayName: group.display_name,
    members: group.members.map((id) => ({ value: id, $ref: `${base}/Users/${id}`, type: 'User', ...(names.has(id) ? { display: names.get(id) } : {}) })),
  }, { resourceType: 'Group', created: group.created_at, lastModified: group.updated_at, location: `${base}/Groups/${group.id}` });
}

export function listResponse(resources: unknown[], total: number, startIndex: number) {
  return { schemas: [SCHEMA.list], totalResults: total, startIndex, itemsPerPage: resources.length, Resources: resources };
}

export const MAX_RESULTS = 200;

export function serviceProviderConfig(base: string) {
  return {
    schemas: [SCHEMA.config],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [{ type: 'oauthbearertoken', name: 'OAuth Bearer Token', description: 'The org\'s SCIM token, issued and rotated by an org administrator.', primary: true }],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}

const attr = (name: string, type: string, extra: Record<string, unknown> = {}) => ({
  name, type, multiValued: false, required: false, caseExact: false, mutability: 'readWrite', returned: 'default', uniqueness: 'none', ...extra,
});

export function schemas(base: string) {
  return [
    {
      schemas: [SCHEMA.schema], id: SCHEMA.user, name: 'User', description: 'A person of the org',
      attributes: [
        attr('userName', 'string', { required: true, uniqueness: 'server' }),
        attr('externalId', 'string', { caseExact: true }),
        attr('displayName', 'string'),
        attr('name', 'complex', { subAttributes: [attr('formatted', 'string')] }),
        attr('active', 'boolean'),
        attr('emails', 'complex', { multiValued: true, subAttributes: [attr('value', 'string'), attr('type', 'string'), attr('primary', 'boolean')] }),
        attr('roles', 'complex', { multiValued: true, subAttributes: [attr('value', 'string', { canonicalValues: ['member', 'admin'] })] }),
        attr('groups', 'complex', { multiValued: true, mutability: 'readOnly', subAttributes: [attr('value', 'string'), attr('display', 'string')] }),
        attr('password', 'string', { mutability: 'writeOnly', returned: 'never' }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCHEMA.user}` },
    },
    {
      schemas: [SCHEMA.schema], id: SCHEMA.group, name: 'Group', description: 'A set of users of the org, for policy and approvals',
      attributes: [
        attr('displayName', 'string', { required: true, uniqueness: 'server' }),
        attr('externalId', 'string', { caseExact: true }),
        attr('members', 'complex', { multiValued: true, subAttributes: [attr('value', 'string', { mutability: 'immutable' }), attr('display', 'string', { mutability: 'readOnly' })] }),
      ],
      meta: { resourceType: 'Schema', location: `${base}/Schemas/${SCHEMA.group}` },
    },
  ];
}

export function resourceTypes(base: string) {
  return [
    { schemas: [SCHEMA.resourceType], id: 'User', name: 'User', endpoint: '/Users', schema: SCHEMA.user, meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` } },
    { schemas: [SCHEMA.resourceType], id: 'Group', name: 'Group', endpoint: '/Groups', schema: SCHEMA.group, meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` } },
  ];
}
