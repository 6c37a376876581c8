import { z } from 'zod';
import { authorizationDetailsSchema } from '../rights/schema.ts';
import { WritError } from '../errors/index.ts';
import type { ToolAccessDetail } from '../rights/rights.ts';

// RFC 8693 §2.1 request parameters, validated once at the edge.

export const TOKEN_TYPE = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  biscuit: 'urn:writ:params:oauth:token-type:biscuit',
} as const;

export type TokenTypeUri = (typeof TOKEN_TYPE)[keyof typeof TOKEN_TYPE];
const tokenType = z.enum([TOKEN_TYPE.access_token, TOKEN_TYPE.jwt, TOKEN_TYPE.biscuit]);

const oneOrMany = z.union([z.string(), z.array(z.string())]).transform((v) => (Array.isArray(v) ? v : [v]));

const schema = z.object({
  subject_token: z.string().min(1).max(16 * 1024),
  subject_token_type: z.string().max(256),
  actor_token: z.string().min(1).max(16 * 1024).optional(),
  actor_token_type: z.string().max(256).optional(),
  requested_token_type: z.string().max(256).optional(),
  audience: oneOrMany.optional(),
  resource: oneOrMany.optional(),
  scope: z.string().max(4096).optional(),
  authorization_details: z.string().max(64 * 1024).optional(),
});

export interface ExchangeParams {
  subject_token: string;
  subject_token_type: TokenTypeUri;
  actor_token?: string | undefined;
  actor_token_type?: TokenTypeUri | undefined;
  requested_token_type: TokenTypeUri;
  /** The one audience the capability is for (audience and resource name the same thing here). */
  audience: string | undefined;
  /** What the client asked for, as details; undefined means "the subject's rights". */
  requested: ToolAccessDetail[] | undefined;
  /** Whether the request used `scope` (errors then say invalid_scope, RFC 6749 §5.2). */
  viaScope: boolean;
}

const strip = (v: unknown) => (v === undefined || v === '' ? undefined : v);

export function parseExchangeParams(raw: Record<string, unknown>): ExchangeParams {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, strip(v)])));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new WritError('invalid_request', `${issue.path.join('.') || 'request'}: ${issue.message}`);
  }
  const p = parsed.data;
  const type = (value: string | undefined, name: string): TokenTypeUri | undefined => {
    if (value === undefined) return undefined;
    const t = tokenType.safeParse(value);
    // RFC 8693 §2.2.2: an unsupported token type is invalid_request.
    if (!t.success) throw new WritError('invalid_request', `${name} is not a token type this server accepts`);
    return t.data;
  };
  const subject_token_type = type(p.subject_token_type, 'subject_token_type')!;
  if ((p.actor_token === undefined) !== (p.actor_token_type === undefined)) {
    throw new WritError('invalid_request', 'actor_token and actor_token_type go together'); // RFC 8693 §2.1
  }
  const targets = [...new Set([...(p.audience ?? []), ...(p.resource ?? [])])];
  // RFC 8693 §2.2.2: invalid_target when the server cannot issue for the named target(s).
  if (targets.length > 1) throw new WritError('invalid_target', 'a capability is for exactly one audience');

  let requested: ToolAccessDetail[] | undefined;
  if (p.authorization_details !== undefined) {
    let json: unknown;
    try { json = JSON.parse(p.authorization_details); } catch { throw new WritError('invalid_authorization_details', 'authorization_details is not valid JSON'); }
    const d = authorizationDetailsSchema.safeParse(json);
    if (!d.success) {
      const issue = d.error.issues[0]!;
      throw new WritError('invalid_authorization_details', `${issue.path.join('.')}: ${issue.message}`);
    }
    requested = d.data as ToolAccessDetail[];
  }
  let viaScope = false;
  if (p.scope !== undefined) {
    const scopes = p.scope.split(' ').filter(Boolean);
    const bad = scopes.find((s) => !/^tool:[a-z0-9][a-z0-9_.-]{0,127}$/.test(s));
    if (bad) throw new WritError('invalid_scope', `scope ${JSON.stringify(bad.slice(0, 64))} is not a tool scope`);
    if (scopes.length) {
      viaScope = requested === undefined;
      const tools = scopes.map((s) => s.slice(5));
      requested = requested ?? [{ type: 'tool_access', tools }];
    }
  }
  return {
    subject_token: p.subject_token,
    subject_token_type,
    actor_token: p.actor_token,
    actor_token_type: type(p.actor_token_type, 'actor_token_type'),
    requested_token_type: type(p.requested_token_type, 'requested_token_type') ?? TOKEN_TYPE.jwt,
    audience: targets[0],
    requested,
    viaScope,
  };
}
