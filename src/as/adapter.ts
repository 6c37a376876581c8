import type { Adapter, AdapterPayload } from 'oidc-provider';
import type { DirectoryStore, AgentRecord } from '../storage/ports/directory.ts';
import { bearerDigest, BEARER_MODELS, isBearerDigest, type OidcStore } from '../storage/ports/oidc.ts';
import { TOKEN_EXCHANGE_GRANT } from './constants.ts';
import { JWT_BEARER_GRANT } from '../exchange/id-jag.ts';

/**
 * oidc-provider client metadata for an agent. The secret field holds a digest (see provider.ts).
 * A rotated-out secret or key set stays accepted beside the new one until its overlap ends.
 */
export function clientMetadata(agent: AgentRecord, nowMs: number = Date.now()): AdapterPayload {
  const interactive = agent.redirect_uris.length > 0;
  const overlapping = (until: string | undefined) => until !== undefined && Date.parse(until) > nowMs;
  const previousKeys = overlapping(agent.previous_jwks?.expires_at) ? agent.previous_jwks!.keys : [];
  return {
    client_id: agent.client_id,
    ...(agent.client_secret_digest ? { client_secret: agent.client_secret_digest } : {}),
    ...(overlapping(agent.previous_secret?.expires_at) ? { previous_secret_digest: agent.previous_secret!.digest } : {}),
    redirect_uris: agent.redirect_uris,
    response_types: interactive ? ['code'] : [],
    grant_types: [
      ...(interactive ? ['authorization_code', 'refresh_token'] : []),
      'client_credentials',
      TOKEN_EXCHANGE_GRANT,
      // Cross-app access: an ID-JAG from the org's identity provider (refused unless the org trusts one).
      JWT_BEARER_GRANT,
    ],
    token_endpoint_auth_method: agent.token_endpoint_auth_method,
    ...(agent.jwks ? { jwks: { keys: [...agent.jwks.keys, ...previousKeys] } } : {}),
    ...(agent.jwks_uri ? { jwks_uri: agent.jwks_uri } : {}),
    authorization_details_types: ['tool_access'],
    client_name: agent.name,
    org_id: agent.org_id,
    tools: agent.tools,
  } as AdapterPayload;
}

/**
 * One adapter class per oidc-provider model name, all over the same store. Tokens, codes and
 * requests whose id is the bearer value are stored under its digest, with the digest as their
 * `jti` (BEARER_MODELS): what is presented is hashed to find it, and the presented value is put
 * back as `jti` for oidc-provider.
 */
export function createAdapterClass(oidc: OidcStore, directory: DirectoryStore, now: () => number) {
  return class WritOidcAdapter implements Adapter {
    readonly name: string;
    readonly #bearer: boolean;
    constructor(name: string) { this.name = name; this.#bearer = BEARER_MODELS.has(name); }

    // A model read by uid or user code carries its stored digest as jti, and oidc-provider
    // saves, consumes or destroys it by that. Only those calls accept a digest: `find` takes what
    // a client presents, so a digest copied out of the store is hashed again and finds nothing.
    #stored(id: string): string {
      return this.#bearer && !isBearerDigest(id) ? bearerDigest(id) : id;
    }

    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      // Org-level tokens carry their grant in `extra`; index it as the grant id so revoking the
      // org grant deletes them like any other derived token.
      const extra = (payload as { extra?: { auth_event_id?: unknown } }).extra;
      const key = this.#stored(id);
      const stored = {
        ...payload,
        ...(this.name === 'ClientCredentials' && typeof extra?.auth_event_id === 'string' ? { grantId: extra.auth_event_id } : {}),
        ...(this.#bearer ? { jti: key } : {}),
      };
      await oidc.upsert(this.name, key, stored as Record<string, unknown>, expiresIn ? now() + expiresIn * 1000 : undefined);
    }

    async find(id: string) {
      if (this.name === 'Client') {
        // Agents live in the directory; client authentication is the one lookup by id alone.
        const agent = await directory.findAgentForClientAuthentication(id);
        if (agent) return clientMetadata(agent, now());
        // RFC 7591 registrations (external MCP clients), kept without expiry: never stale.
        return (await oidc.find(this.name, id)) as AdapterPayload | undefined;
      }
      if (!this.#bearer) return (await oidc.find(this.name, id)) as AdapterPayload | undefined;
      const found = await oidc.find(this.name, bearerDigest(id));
      return found && ({ ...found, jti: id } as AdapterPayload);
    }

    async findByUserCode(userCode: string) {
      return (await oidc.findByUserCode(this.name, userCode)) as AdapterPayload | undefined;
    }

    async findByUid(uid: string) {
      return (await oidc.findByUid(this.name, uid)) as AdapterPayload | undefined;
    }

    async consume(id: string) {
      await oidc.consume(this.name, this.#stored(id), Math.floor(now() / 1000));
    }

    async destroy(id: string) {
      await oidc.destroy(this.name, this.#stored(id));
    }

    async revokeByGrantId(grantId: string) {
      await oidc.revokeByGrantId(grantId);
    }
  };
}
