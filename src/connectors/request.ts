import { WritError } from '../errors/index.ts';
import type { Credential } from '../vault/records.ts';
import { checkEgress, type EgressOptions } from './egress.ts';
import type { ConnectorDefinition, ToolDefinition } from './schema.ts';
import { mimeBody } from './mime.ts';

// From a tool definition and a validated input to the upstream HTTP request. Every path value
// is percent-encoded as one segment, so `../`, `?`, `#`, `%2F` or CRLF in the input can never
// change the path; the finished URL is checked against the connector's allowed hosts.

export interface UpstreamRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

/** The caller's input cannot make a request: `invalid_input`, naming the field. */
export class ToolInputError extends WritError {
  readonly field: string;
  constructor(field: string, message: string) {
    super('invalid_input', message, { expose: { field } });
    this.name = 'ToolInputError';
    this.field = field;
  }
}

const PLACEHOLDER = /\{([^{}]+)\}/g;

function scalar(field: string, value: unknown): string {
  if (typeof value === 'string') {
    // A lone surrogate cannot be percent-encoded (encodeURIComponent throws) and URLSearchParams
    // would silently turn it into U+FFFD: refuse it instead of calling with another value.
    if (!value.isWellFormed()) throw new ToolInputError(field, `${field} is not well-formed Unicode`);
    return value;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  throw new ToolInputError(field, `${field} must be a string, number or boolean`);
}

/** One path segment's worth of a value: RFC 3986 §3.3 pchar only, everything else encoded. */
export function encodePathValue(field: string, value: unknown): string {
  const text = scalar(field, value);
  // `.` and `..` would survive encoding and be resolved away by every URL parser (WHATWG URL
  // even decodes `%2e` for this), so they are refused rather than encoded.
  if (text === '' || text === '.' || text === '..') throw new ToolInputError(field, `${field} cannot be empty, "." or ".."`);
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Reads `a.b.c` from the input. */
function pick(input: Record<string, unknown>, path: string): unknown {
  let value: unknown = input;
  for (const part of path.split('.')) {
    if (!value || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The resource id the tool call touches, from the tool's template (`github:repo:{owner}/{repo}`). */
export function resourceFor(tool: ToolDefinition, input: Record<string, unknown>): string | undefined {
  if (tool.resource === undefined) return undefined;
  return tool.resource.replace(PLACEHOLDER, (_, path: string) => {
    const value = pick(input, path);
    if (value === undefined) throw new ToolInputError(path, `${path} is needed to name the resource`);
    const text = scalar(path, value);
    if (/[\s*]/.test(text)) throw new ToolInputError(path, `${path} may not contain whitespace or *`);
    return text;
  });
}

export interface BuildOptions extends EgressOptions {
  /** Overrides the connector's `api_base_url` (tests, regional endpoints). */
  baseUrl?: string;
}

export function buildRequest(
  connector: Pick<ConnectorDefinition, 'api_base_url' | 'allowed_hosts' | 'default_headers'>,
  tool: ToolDefinition,
  input: Record<string, unknown>,
  options: BuildOptions = {},
): UpstreamRequest {
  const used = new Set<string>();
  const path = tool.path.replace(PLACEHOLDER, (_, field: string) => {
    used.add(field);
    if (!Object.hasOwn(input, field)) throw new ToolInputError(field, `${field} is required`);
    return encodePathValue(field, input[field]);
  });

  const base = new URL(options.baseUrl ?? connector.api_base_url);
  const basePath = base.pathname.replace(/\/+$/, '');
  const url = new URL(base.origin);
  url.pathname = basePath + path;
  // The parser must not have moved us out of the base path (belt and braces: values are encoded).
  if (!url.pathname.startsWith(basePath + '/') || url.pathname !== basePath + path) {
    throw new ToolInputError('path', 'the input would change the request path');
  }
  for (const field of tool.query ?? []) {
    used.add(field);
    const value = input[field];
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(field, scalar(field, item));
  }
  checkEgress(url, connector.allowed_hosts, options);

  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [name, value] of Object.entries(connector.default_headers ?? {})) headers[name.toLowerCase()] = value;
  let body: string | undefined;
  if (tool.graphql !== undefined) {
    body = JSON.stringify({ query: tool.graphql, variables: input });
  } else if (tool.mime !== undefined) {
    body = JSON.stringify(mimeBody(tool.mime, input, used));
  } else if (Array.isArray(tool.body)) {
    body = JSON.stringify(Object.fromEntries(tool.body.filter((f) => input[f] !== undefined).map((f) => [f, input[f]])));
  } else if (tool.body === 'input' || (tool.body === undefined && tool.method !== 'GET' && tool.method !== 'DELETE')) {
    body = JSON.stringify(Object.fromEntries(Object.entries(input).filter(([k]) => !used.has(k))));
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  return { method: tool.method, url: url.toString(), headers, body };
}

/** The header that carries the credential, shaped by the connector's auth. */
export function credentialHeaders(auth: ConnectorDefinition['auth'], credential: Credential): Record<string, string> {
  if (credential.type === 'oauth2') {
    // RFC 6750 §2.1; token types other than bearer are sent as bearer too, which is what providers accept.
    return { authorization: `Bearer ${credential.access_token}` };
  }
  const header = auth.type === 'api_key' ? (auth.header ?? 'Authorization') : 'Authorization';
  const prefix = auth.type === 'api_key' ? (auth.prefix ?? '') : 'Bearer ';
  if (/[\r\n]/.test(credential.api_key)) throw new TypeError('an API key cannot contain line breaks');
  return { [header.toLowerCase()]: `${prefix}${credential.api_key}` };
}
