import { UNEXPECTED, WritError } from '../errors/index.ts';
import type { EgressOptions } from './egress.ts';
import { connectorDefinitionSchema, describeIssues, type ConnectorDefinition } from './schema.ts';

// Endpoint overrides for shipped connectors (`WRIT_CONNECTOR_ENDPOINTS`): GitHub Enterprise
// Server, a regional API host, or a provider stand-in on loopback. The definition keeps its
// tools, scopes and quirks; only where it sends requests changes. The credential then goes to
// the new API host and nowhere else: `allowed_hosts` becomes exactly that host.

export interface ConnectorEndpoints {
  api_base_url?: string | undefined;
  authorization_url?: string | undefined;
  token_url?: string | undefined;
  revocation_url?: string | undefined;
}

/** A bad override; the catalog reports it as the connector's load error, which stops start-up. */
export class EndpointOverrideError extends WritError {
  constructor(message: string) {
    super('server_error', UNEXPECTED, { message });
    this.name = 'EndpointOverrideError';
  }
}

const OAUTH_FIELDS = ['authorization_url', 'token_url', 'revocation_url'] as const;

function operatorAllows(url: URL, egress: EgressOptions): boolean {
  const list = egress.allowPrivateHosts ?? [];
  return list.includes(url.host) || list.includes(url.hostname);
}

/**
 * The definition with its endpoints replaced. Every URL must be https, except on a host the
 * operator allow-listed for private egress (`WRIT_ALLOW_PRIVATE_EGRESS`). Throws
 * EndpointOverrideError naming the field.
 */
export function applyEndpoints(definition: ConnectorDefinition, endpoints: ConnectorEndpoints, egress: EgressOptions = {}): ConnectorDefinition {
  const given = Object.entries(endpoints).filter(([, v]) => v !== undefined) as Array<[keyof ConnectorEndpoints, string]>;
  if (given.length === 0) throw new EndpointOverrideError('names no endpoint');
  for (const [field, value] of given) {
    if (!URL.canParse(value)) throw new EndpointOverrideError(`${field}: not a URL`);
    const url = new URL(value);
    if (url.protocol === 'http:' && !operatorAllows(url, egress)) {
      throw new EndpointOverrideError(`${field}: http is allowed only for hosts in WRIT_ALLOW_PRIVATE_EGRESS (${url.host} is not)`);
    }
  }
  const oauthOverride = OAUTH_FIELDS.filter((f) => endpoints[f] !== undefined);
  if (oauthOverride.length > 0 && definition.auth.type !== 'oauth2') {
    throw new EndpointOverrideError(`${oauthOverride[0]}: ${definition.name} does not use OAuth`);
  }

  const auth = definition.auth.type === 'oauth2'
    ? { ...definition.auth, ...Object.fromEntries(oauthOverride.map((f) => [f, endpoints[f]])) }
    : definition.auth;
  const api_base_url = endpoints.api_base_url ?? definition.api_base_url;
  const replaced = {
    ...definition, auth, api_base_url,
    allowed_hosts: endpoints.api_base_url !== undefined ? [new URL(api_base_url).host] : definition.allowed_hosts,
  };
  // Schemes were judged above against the allow-list; the schema checks everything else again.
  const parsed = connectorDefinitionSchema({ allowHttp: true }).safeParse(replaced);
  if (!parsed.success) throw new EndpointOverrideError(describeIssues(parsed.error));
  return parsed.data;
}
