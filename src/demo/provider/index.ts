// A small, real OAuth 2.0 provider with a notes API: the `demo` connector's upstream for the
// quickstart, and the provider Writ's end-to-end tests connect to, refresh against and break.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { demoConfiguration } from './configuration.ts';
import type { Fault } from './faults.ts';
import { FaultSwitch } from './faults.ts';
import { interactionRoutes } from './interactions.ts';
import { notesApi, type Note } from './notes-api.ts';
import { loadOidcProvider, type OidcContext } from './oidc.ts';
import { DemoStore } from './store.ts';

export type { DemoClient } from './configuration.ts';
export type { Fault } from './faults.ts';
export type { Note } from './notes-api.ts';
export { DEMO_PASSWORD } from './interactions.ts';

const ClientSchema = z.strictObject({
  client_id: z.string().min(1).max(200),
  client_secret: z.string().min(1),
  redirect_uris: z.array(z.url({ protocol: /^https?$/ })).min(1),
  token_endpoint_auth_method: z.enum(['client_secret_post', 'client_secret_basic']).optional(),
});

const OptionsSchema = z.strictObject({
  port: z.number().int().min(0).max(65535).default(0),
  issuer: z.url({ protocol: /^https?$/ }).optional(),
  clients: z.array(ClientSchema).min(1),
  accessTokenTtlSeconds: z.number().int().positive().default(3600),
  rotateRefreshTokens: z.boolean().default(true),
  users: z.array(z.string().regex(/^[A-Za-z0-9._-]{1,64}$/)).min(1).default(['john', 'alice']),
  // RFC 6749 §3.3 scope-token characters.
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/)).min(1).default(['notes:read', 'notes:write']),
});

export type DemoProviderOptions = z.input<typeof OptionsSchema>;

/** What the authorization endpoint was last asked, for tests to check the client's request. */
export interface AuthorizationRequestSummary {
  client_id: string;
  redirect_uri?: string;
  scope?: string;
  code_challenge_method?: string;
  at: string;
}

/** Counters only; never a token or a secret. */
export interface DemoProviderStats {
  tokenRequests: number;
  refreshRequests: number;
  apiCalls: number;
  /** The notes API's last request line as it arrived (path and query, still percent-encoded). */
  lastApiRequest?: { method: string; target: string };
  lastAuthorization?: AuthorizationRequestSummary;
}

export interface DemoProvider {
  /** Where the server listens, e.g. `http://127.0.0.1:53124`. */
  readonly url: string;
  readonly issuer: string;
  /** Resource indicator of the notes API: the `aud` of the access tokens. */
  readonly resource: string;
  /** A snapshot of the counters. */
  readonly stats: DemoProviderStats;
  /** A snapshot of every stored note. */
  readonly notes: readonly Note[];
  /** The user withdraws every app's access: their access and refresh tokens stop working. Returns the grants revoked. */
  revokeUserGrants(username: string): number;
  /** Makes the notes API misbehave (see `Fault`) until cleared with `null`. */
  setFault(fault: Fault | null): void;
  close(): Promise<void>;
}

export async function startDemoProvider(options: DemoProviderOptions): Promise<DemoProvider> {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new TypeError(`invalid demo provider options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const config = parsed.data;
  const { default: Provider, errors } = await loadOidcProvider();

  const server = createServer();
  await listen(server, config.port);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = config.issuer ?? url;
  const resource = `${issuer}/api`;

  const store = new DemoStore();
  const notes = new Map<string, Note>();
  const faults = new FaultSwitch();
  const stats: DemoProviderStats = { tokenRequests: 0, refreshRequests: 0, apiCalls: 0 };

  const provider = new Provider(issuer, demoConfiguration({
    store,
    clients: config.clients,
    users: config.users,
    scopes: config.scopes,
    resource,
    accessTokenTtlSeconds: config.accessTokenTtlSeconds,
    rotateRefreshTokens: config.rotateRefreshTokens,
    invalidTarget: errors.InvalidTarget,
  }));

  provider.use(async function countRequests(ctx: OidcContext, next) {
    await next();
    const route = ctx.oidc?.route;
    const params = ctx.oidc?.params ?? {};
    if (route === 'token') {
      stats.tokenRequests += 1;
      if (params.grant_type === 'refresh_token') stats.refreshRequests += 1;
    } else if (route === 'authorization') {
      stats.lastAuthorization = {
        client_id: String(params.client_id ?? ''),
        ...optionalString('redirect_uri', params.redirect_uri),
        ...optionalString('scope', params.scope),
        ...optionalString('code_challenge_method', params.code_challenge_method),
        at: new Date().toISOString(),
      };
    }
  });
  provider.use(notesApi({ provider, resource, notes, faults, onCall: (method, target) => { stats.apiCalls += 1; stats.lastApiRequest = { method, target }; } }));
  provider.use(interactionRoutes(provider, config.users));
  server.on('request', provider.callback());

  return {
    url,
    issuer,
    resource,
    get stats() {
      return structuredClone(stats);
    },
    get notes() {
      return [...notes.values()].map((n) => Object.freeze({ ...n }));
    },
    revokeUserGrants(username) {
      const grantIds = store.grantIdsOf(username);
      for (const grantId of grantIds) store.revokeGrant(grantId);
      return grantIds.length;
    },
    setFault: (fault) => faults.set(fault),
    async close() {
      // Hung requests (the `hang` fault) and keep-alive sockets would hold close() open.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
    },
  };
}

function optionalString<K extends string>(key: K, value: unknown): Partial<Record<K, string>> {
  return typeof value === 'string' ? ({ [key]: value } as Record<K, string>) : {};
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
