import { z } from 'zod';
import { resourcePathProblems } from './resource-path.ts';

// A connector is data: a provider's auth endpoints and quirks, the hosts its credential may be
// sent to, and tools — each one HTTP call with a path template, the minimum provider scopes it
// needs, a JSON Schema for its input and how to derive the resource it touches. One schema
// family validates the shipped catalog at start-up and the bodies orgs register.

export const CONNECTOR_NAME = /^[a-z][a-z0-9_-]{1,39}$/;
/** A tool's name inside its connector: dotted lowercase segments (`messages.send`). */
export const TOOL_KEY = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)*$/;
const FIELD = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** `{field}` or, in resource templates, `{field.sub}`. */
const PLACEHOLDER = /\{([^{}]*)\}/g;
const HOST = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;
// Headers a definition may never set: the credential and the transport belong to the executor.
const RESERVED_HEADERS = new Set(['authorization', 'cookie', 'host', 'content-length', 'transfer-encoding', 'connection', 'proxy-authorization']);

export interface SchemaOptions {
  /**
   * Permit `http:` URLs: `true` for development providers on loopback (the demo, endpoint
   * overrides), or a host test (the hosts an operator allow-listed with WRIT_ALLOW_PRIVATE_EGRESS,
   * which production refuses). Off by default for everything orgs register.
   */
  allowHttp?: boolean | ((url: URL) => boolean);
}

function endpoint(options: SchemaOptions) {
  return z.string().max(2048).refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    if (url.username || url.password || url.hash) return false;
    const http = options.allowHttp === true || (typeof options.allowHttp === 'function' && options.allowHttp(url));
    return url.protocol === 'https:' || (http && url.protocol === 'http:');
  }, { message: options.allowHttp === true ? 'must be an http(s) URL without credentials or fragment' : options.allowHttp ? 'must be an https URL (http only for hosts in WRIT_ALLOW_PRIVATE_EGRESS) without credentials or fragment' : 'must be an https URL without credentials or fragment' });
}

const scope = z.string().min(1).max(256).regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'scopes are printable ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)');

const jsonSchemaNode = z.record(z.string(), z.unknown());

const inputSchema = z.strictObject({
  type: z.literal('object'),
  description: z.string().max(2000).optional(),
  properties: keyedRecord(jsonSchemaNode, (key) => (FIELD.test(key) ? undefined : 'input field names are identifiers')).default({}),
  required: z.array(z.string()).default([]),
  additionalProperties: z.union([z.boolean(), jsonSchemaNode]).optional(),
}).superRefine((schema, ctx) => {
  for (const field of schema.required) {
    if (!(field in schema.properties)) ctx.addIssue({ code: 'custom', path: ['required'], message: `required field "${field}" is not in properties` });
  }
  // The executor validates input with this schema: it must convert.
  try {
    z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a usable JSON Schema: ${(err as Error).message}` });
  }
});

export const toolSchema = z.strictObject({
  description: z.string().min(1).max(1000),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
  path: z.string().min(1).max(1024).regex(/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/{}]*$/, 'a path starts with / and holds only path characters and {field} placeholders'),
  /** The minimum provider scopes this tool needs. */
  scopes: z.array(scope).default([]),
  input_schema: inputSchema,
  /** What goes in the JSON body: the input minus path and query fields, nothing, or the listed fields. */
  body: z.union([z.enum(['input', 'none']), z.array(z.string().regex(FIELD))]).optional(),
  /** Input fields sent as query parameters. */
  query: z.array(z.string().regex(FIELD)).optional(),
  /** A GraphQL document: the body becomes `{ query, variables }` with the input as variables. */
  graphql: z.string().min(1).max(10_000).optional(),
  /**
   * An email the executor builds from input fields (connectors/mime.ts): recipients `to` (one
   * address, or a list) and optional `cc` and `bcc` (lists), `subject` and plain `text`, sent
   * base64url in the body field `into`. Argument constraints on any recipient field apply to every
   * recipient in all of them.
   */
  mime: z.strictObject({
    to: z.string().regex(FIELD), cc: z.string().regex(FIELD).optional(), bcc: z.string().regex(FIELD).optional(),
    subject: z.string().regex(FIELD), text: z.string().regex(FIELD), into: z.string().regex(FIELD),
  }).optional(),
  /** How to derive the resource id from the input, e.g. `github:repo:{owner}/{repo}`. */
  resource: z.string().min(1).max(256).regex(/^[a-z0-9_-]+:[^\s]*$/, 'a resource template looks like kind:…{field}…').optional(),
}).superRefine((tool, ctx) => {
  const fields = tool.input_schema.properties;
  const required = new Set(tool.input_schema.required);
  const placeholders = [...tool.path.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  if (tool.path.replace(PLACEHOLDER, '').match(/[{}]/)) ctx.addIssue({ code: 'custom', path: ['path'], message: 'unbalanced { } in path' });
  if (/(^|\/)\.{1,2}(\/|$)/.test(tool.path)) ctx.addIssue({ code: 'custom', path: ['path'], message: 'a path has no . or .. segments' });
  for (const name of placeholders) {
    if (!FIELD.test(name) || !(name in fields) || !required.has(name)) {
      ctx.addIssue({ code: 'custom', path: ['path'], message: `path placeholder {${name}} must name a required input field` });
    }
  }
  for (const name of tool.query ?? []) {
    if (!(name in fields)) ctx.addIssue({ code: 'custom', path: ['query'], message: `query field "${name}" is not in input_schema.properties` });
    if (placeholders.includes(name)) ctx.addIssue({ code: 'custom', path: ['query'], message: `"${name}" is already a path placeholder` });
  }
  if (Array.isArray(tool.body)) {
    for (const name of tool.body) if (!(name in fields)) ctx.addIssue({ code: 'custom', path: ['body'], message: `body field "${name}" is not in input_schema.properties` });
  }
  const sendsBody = tool.graphql !== undefined || (tool.body !== undefined && tool.body !== 'none');
  if ((tool.method === 'GET' || tool.method === 'DELETE') && sendsBody) {
    ctx.addIssue({ code: 'custom', path: ['body'], message: `${tool.method} tools send no body` });
  }
  if (tool.graphql !== undefined && tool.method !== 'POST') ctx.addIssue({ code: 'custom', path: ['graphql'], message: 'GraphQL tools use POST' });
  if (tool.mime) {
    for (const key of ['to', 'cc', 'bcc', 'subject', 'text'] as const) {
      const name = tool.mime[key];
      if (name !== undefined && !(name in fields)) ctx.addIssue({ code: 'custom', path: ['mime', key], message: `mime field "${name}" is not in input_schema.properties` });
    }
    if (tool.method === 'GET' || tool.method === 'DELETE' || tool.graphql !== undefined || (tool.body !== undefined && tool.body !== 'input')) {
      ctx.addIssue({ code: 'custom', path: ['mime'], message: 'a mime tool sends its message in a JSON body (method POST, PUT or PATCH; body "input")' });
    }
  }
  for (const m of (tool.resource ?? '').matchAll(PLACEHOLDER)) {
    const [head] = m[1]!.split('.');
    if (!m[1]!.split('.').every((part) => FIELD.test(part)) || !(head! in fields)) {
      ctx.addIssue({ code: 'custom', path: ['resource'], message: `resource placeholder {${m[1]}} must name an input field` });
    }
  }
  // What names the resource must be all that the provider can read there (resource-path.ts).
  for (const problem of resourcePathProblems(tool.input_schema, tool.resource)) {
    ctx.addIssue({ code: 'custom', path: ['input_schema', ...problem.at.flatMap((key) => ['properties', key])], message: problem.message });
  }
});

const refresh = z.strictObject({
  /** The provider issues a new refresh token on every refresh (and may revoke the old one). */
  rotating: z.boolean().optional(),
  /** Access tokens expire; false for providers whose tokens live until revoked. */
  expires: z.boolean().optional(),
}).default({});

const authMethod = z.enum(['client_secret_post', 'client_secret_basic']);

function oauth2Auth(options: SchemaOptions) {
  return z.strictObject({
    type: z.literal('oauth2'),
    authorization_url: endpoint(options),
    token_url: endpoint(options),
    revocation_url: endpoint(options).optional(),
    /** Every scope the connector may request. */
    scopes: z.array(scope).max(200),
    /** How the provider joins scopes: RFC 6749 §3.3 says a space; Slack and Linear use commas. */
    scope_separator: z.enum([' ', ',']).optional(),
    token_endpoint_auth_method: authMethod,
    refresh,
    extra_authorize_params: keyedRecord(z.string().max(256), (key) => (/^[a-z_]{1,64}$/.test(key) ? undefined : 'parameter names are lowercase letters and _')).optional(),
    /** Per-org configuration; shipped connectors get theirs from the deployment. */
    client_id: z.string().min(1).max(512).optional(),
  });
}

const apiKeyAuth = z.strictObject({
  type: z.literal('api_key'),
  /** Header that carries the key; default `Authorization`. */
  header: z.string().regex(/^[A-Za-z0-9-]{1,64}$/).refine((h) => h.toLowerCase() !== 'cookie' && h.toLowerCase() !== 'host', 'not a header for credentials').optional(),
  /** Written before the key, e.g. `Bearer `. */
  prefix: z.string().max(32).regex(/^[\x20-\x7E]*$/).optional(),
});

const noAuth = z.strictObject({ type: z.literal('none') });

function authSchema(options: SchemaOptions) {
  return z.discriminatedUnion('type', [oauth2Auth(options), apiKeyAuth, noAuth]);
}

// Keys are checked in a refinement rather than by the record's key schema, so the error names
// the offending key instead of a generic "invalid key".
function keyedRecord<T extends z.ZodType>(value: T, check: (key: string) => string | undefined) {
  return z.record(z.string(), value).superRefine((record, ctx) => {
    for (const key of Object.keys(record)) {
      const problem = check(key);
      if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
    }
  });
}

const headers = keyedRecord(z.string().max(512).regex(/^[\x20-\x7E]*$/, 'header values are printable ASCII'), (h) => {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(h)) return 'header names are letters, digits and -';
  if (RESERVED_HEADERS.has(h.toLowerCase())) return 'a connector may not set this header';
  return undefined;
});

function connectorFields(options: SchemaOptions) {
  return {
    display_name: z.string().min(1).max(100),
    description: z.string().max(1000).optional(),
    docs_url: z.url().optional(),
    api_base_url: endpoint(options),
    /** Hosts the credential may be sent to; defaults to the host of `api_base_url`. */
    allowed_hosts: z.array(z.string().toLowerCase().regex(HOST, 'a host name (optionally :port)')).min(1).max(20).optional(),
    /** Sent with every call (e.g. `Notion-Version`). */
    default_headers: headers.optional(),
    /** A top-level boolean in a 200 answer that is false when the call failed (Slack's `ok`). */
    success_field: z.string().regex(/^[a-z_]{1,40}$/).optional(),
    tools: keyedRecord(toolSchema, (key) => (TOOL_KEY.test(key) ? undefined : 'tool keys are dotted lowercase segments, e.g. messages.send'))
      .refine((tools) => Object.keys(tools).length > 0, 'a connector needs at least one tool')
      .refine((tools) => Object.keys(tools).length <= 200, 'at most 200 tools'),
  };
}

type ConnectorShape = { auth: z.infer<ReturnType<typeof authSchema>>; api_base_url: string; allowed_hosts?: string[] | undefined; tools: Record<string, z.infer<typeof toolSchema>> };

function crossCheck(c: ConnectorShape, ctx: z.RefinementCtx): void {
  const baseHost = URL.canParse(c.api_base_url) ? new URL(c.api_base_url).host : undefined;
  if (c.allowed_hosts && baseHost && !c.allowed_hosts.includes(baseHost)) {
    ctx.addIssue({ code: 'custom', path: ['allowed_hosts'], message: `must include the api_base_url host ${baseHost}` });
  }
  // The default allowed_hosts is this host, and a stored definition is validated again when read:
  // a host the list would refuse (an IPv6 literal) must be refused here, not on every later read.
  if (!c.allowed_hosts && baseHost && !HOST.test(baseHost)) {
    ctx.addIssue({ code: 'custom', path: ['api_base_url'], message: `the host ${baseHost} is not a host name or IPv4 address (IPv6 literals are not supported)` });
  }
  if (c.auth.type === 'oauth2') {
    const known = new Set(c.auth.scopes);
    for (const [name, tool] of Object.entries(c.tools)) {
      for (const s of tool.scopes) {
        if (!known.has(s)) ctx.addIssue({ code: 'custom', path: ['tools', name, 'scopes'], message: `scope "${s}" is not among auth.scopes` });
      }
    }
  }
}

const withDefaultHosts = <T extends ConnectorShape>(c: T): T & { allowed_hosts: string[] } =>
  ({ ...c, allowed_hosts: c.allowed_hosts ?? [new URL(c.api_base_url).host] });

/** The shipped catalog's definitions. */
export function connectorDefinitionSchema(options: SchemaOptions = {}) {
  return z.strictObject({ name: z.string().regex(CONNECTOR_NAME, 'connector names are lowercase, 2-40 characters'), auth: authSchema(options), ...connectorFields(options) })
    .superRefine(crossCheck)
    .transform(withDefaultHosts);
}

export type ConnectorDefinition = z.output<ReturnType<typeof connectorDefinitionSchema>>;
export type ToolDefinition = z.output<typeof toolSchema>;
export type ConnectorAuth = ConnectorDefinition['auth'];

/**
 * What an org admin registers. The client secret is per-org configuration: the caller seals it
 * with the vault and never returns it. https only, but for hosts `options.allowHttp` admits.
 */
export const orgConnectorRegistration = (options: SchemaOptions) => z.strictObject({
  name: z.string().regex(CONNECTOR_NAME, 'connector names are lowercase, 2-40 characters').optional(),
  auth: z.discriminatedUnion('type', [
    oauth2Auth(options).extend({
      client_id: z.string().min(1).max(512),
      client_secret: z.string().min(1).max(2048).optional(),
      refresh: refresh,
    }),
    apiKeyAuth,
    noAuth,
  ]),
  ...connectorFields(options),
}).superRefine(crossCheck);

/** The registration schema with no http at all. */
export const orgConnectorRegistrationSchema = orgConnectorRegistration({});

export type OrgConnectorRegistration = z.output<typeof orgConnectorRegistrationSchema>;

/** One line per issue, `path: message` — the clear error a broken definition fails with. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
}
