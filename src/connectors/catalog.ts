import { readdirSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { systemClock, type Clock } from '../core/clock.ts';
import { UNEXPECTED, WritError } from '../errors/index.ts';
import type { OrgConnectorRecord, OrgConnectorStore } from './org-connector-store.ts';
import type { OAuthProviderConfig } from '../vault/oauth-client.ts';
import type { Vault } from '../vault/service.ts';
import { DEMO_CONNECTOR, demoConnectorDefinition } from './catalog/demo.ts';
import { checkEgress, EgressError, resolveEgress, type EgressOptions } from './egress.ts';
import { applyEndpoints, EndpointOverrideError, type ConnectorEndpoints } from './endpoints.ts';
import { ToolInputError } from './request.ts';
import { withClosedResourcePaths } from './resource-path.ts';
import {
  connectorDefinitionSchema, describeIssues, orgConnectorRegistration,
  type ConnectorDefinition, type ToolDefinition,
} from './schema.ts';

// The catalog: shipped definitions (validated once at start-up; a broken one stops the
// process with the file and the field) plus connectors each org registers, whose tools appear
// as `<name>.<tool>` in that org only.

/** A definition the operator must fix; at start-up it stops the process. */
export class CatalogLoadError extends WritError {
  constructor(source: string, detail: string) {
    super('server_error', UNEXPECTED, { message: `connector definition ${source} is invalid: ${detail}` });
    this.name = 'CatalogLoadError';
  }
}

export interface CatalogTool {
  /** `connector.tool`, the name capabilities and grants use. */
  name: string;
  connector: string;
  definition: ToolDefinition;
  origin: 'catalog' | 'org';
}

export interface CatalogConnector {
  definition: ConnectorDefinition;
  origin: 'catalog' | 'org';
  /** The org's OAuth client id for org connectors; shipped connectors use the deployment's. */
  client_id?: string | undefined;
  has_client_secret: boolean;
}

/**
 * A tool found by name, with the connector it was read from: one read of the connector serves a
 * whole tool call (input, request, credential header, success field), so they cannot disagree.
 */
export interface ToolWithConnector extends CatalogTool {
  catalogConnector: CatalogConnector;
}

/** What the admin API may show about an org connector: never the client secret. */
export interface OrgConnectorView {
  name: string;
  display_name: string;
  auth: Record<string, unknown>;
  api_base_url: string;
  allowed_hosts: string[];
  tools: string[];
  client_secret_set: boolean;
  created_at: string;
  updated_at: string;
}

export interface CatalogOptions {
  /** Seals org connectors' client secrets; needed to register one. */
  vault?: Vault;
  /** Where org connectors are kept; without it the catalog holds the shipped connectors only. */
  orgConnectors?: OrgConnectorStore;
  /** Base URL of the demo provider (`WRIT_DEMO_PROVIDER_URL`); the demo connector exists only when set. */
  demoProviderUrl?: string | undefined;
  /** OAuth clients of the shipped connectors, by connector name, from the deployment's configuration. */
  oauthClients?: Record<string, { client_id: string; client_secret?: string | undefined }>;
  /** Operator allow-list for private or loopback provider hosts. The demo provider's host is added. */
  egress?: EgressOptions;
  /**
   * Endpoint overrides for shipped connectors, by name (`WRIT_CONNECTOR_ENDPOINTS`): enterprise
   * or regional hosts, local stand-ins. http only for hosts in `egress.allowPrivateHosts`.
   */
  endpoints?: Record<string, ConnectorEndpoints>;
  /** Where the JSON definitions live; default `./catalog` beside this file. */
  catalogDir?: URL;
  clock?: Clock;
}

const CLIENT_SECRET_PURPOSE = 'connector-client-secret';
const JSON_FILE = /^[a-z][a-z0-9_-]*\.json$/;

export function loadShippedDefinitions(options: Pick<CatalogOptions, 'demoProviderUrl' | 'catalogDir'> = {}): ConnectorDefinition[] {
  const dir = options.catalogDir ?? new URL('./catalog/', import.meta.url);
  const strict = connectorDefinitionSchema();
  const out: ConnectorDefinition[] = [];
  for (const file of readdirSync(dir).filter((f) => JSON_FILE.test(f)).sort()) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(new URL(file, dir), 'utf8'));
    } catch (err) {
      throw new CatalogLoadError(file, `not JSON (${(err as Error).message})`);
    }
    const parsed = strict.safeParse(raw);
    if (!parsed.success) throw new CatalogLoadError(file, describeIssues(parsed.error));
    if (`${parsed.data.name}.json` !== file) throw new CatalogLoadError(file, `name "${parsed.data.name}" does not match the file name`);
    out.push(parsed.data);
  }
  if (options.demoProviderUrl !== undefined) {
    const parsed = connectorDefinitionSchema({ allowHttp: true }).safeParse(demoConnectorDefinition(options.demoProviderUrl));
    if (!parsed.success) throw new CatalogLoadError('demo', describeIssues(parsed.error));
    out.push(parsed.data);
  }
  const names = new Set<string>();
  for (const d of out) {
    if (names.has(d.name)) throw new CatalogLoadError(d.name, 'defined twice');
    names.add(d.name);
  }
  return out;
}

export class ConnectorCatalog {
  readonly #shipped = new Map<string, ConnectorDefinition>();
  readonly #options: CatalogOptions;
  readonly #store: OrgConnectorStore | undefined;
  readonly #clock: Clock;
  readonly #egress: EgressOptions;
  readonly #validators = new WeakMap<ToolDefinition, z.ZodType>();
  readonly #orgCache = new Map<string, { updated_at: string; definition: ConnectorDefinition }>();

  constructor(options: CatalogOptions = {}) {
    this.#options = options;
    this.#store = options.orgConnectors;
    this.#clock = options.clock ?? systemClock;
    for (const d of loadShippedDefinitions(options)) this.#shipped.set(d.name, d);
    const allow = [...(options.egress?.allowPrivateHosts ?? [])];
    if (options.demoProviderUrl !== undefined) allow.push(new URL(options.demoProviderUrl).host);
    this.#egress = { ...options.egress, allowPrivateHosts: allow };
    for (const [name, endpoints] of Object.entries(options.endpoints ?? {})) {
      const shipped = this.#shipped.get(name);
      if (!shipped) throw new CatalogLoadError(`${name} (WRIT_CONNECTOR_ENDPOINTS)`, 'no shipped connector has this name');
      try {
        // Judged against the operator's own list, not the demo provider's host added above.
        this.#shipped.set(name, applyEndpoints(shipped, endpoints, options.egress));
      } catch (err) {
        if (err instanceof EndpointOverrideError) throw new CatalogLoadError(`${name} (WRIT_CONNECTOR_ENDPOINTS)`, err.message);
        throw err;
      }
    }
    // Compile every input schema now, so a schema that cannot be used fails at start-up.
    for (const d of this.#shipped.values()) for (const tool of Object.values(d.tools)) this.#validator(tool);
  }

  get egress(): EgressOptions { return this.#egress; }

  shippedConnectors(): ConnectorDefinition[] {
    return [...this.#shipped.values()];
  }

  async getConnector(org_id: string, name: string): Promise<CatalogConnector | undefined> {
    const shipped = this.#shipped.get(name);
    if (shipped) {
      const client = this.#options.oauthClients?.[name];
      return { definition: shipped, origin: 'catalog', client_id: client?.client_id, has_client_secret: client?.client_secret !== undefined };
    }
    const record = await this.#store?.getOrgConnector(org_id, name);
    if (!record) return undefined;
    const definition = this.#orgDefinition(record);
    return {
      definition, origin: 'org', client_id: definition.auth.type === 'oauth2' ? definition.auth.client_id : undefined,
      has_client_secret: record.sealed_client_secret !== undefined,
    };
  }

  /** `connector.tool` → the tool with its connector, or undefined (the caller answers `unknown_tool`). */
  async getTool(org_id: string, toolName: string): Promise<ToolWithConnector | undefined> {
    const dot = toolName.indexOf('.');
    if (dot <= 0) return undefined;
    const connector = await this.getConnector(org_id, toolName.slice(0, dot));
    if (!connector) return undefined;
    const key = toolName.slice(dot + 1);
    if (!Object.hasOwn(connector.definition.tools, key)) return undefined;
    return { name: toolName, connector: connector.definition.name, definition: connector.definition.tools[key]!, origin: connector.origin, catalogConnector: connector };
  }

  async listTools(org_id: string): Promise<CatalogTool[]> {
    const out: CatalogTool[] = [];
    const add = (d: ConnectorDefinition, origin: 'catalog' | 'org') => {
      for (const [key, definition] of Object.entries(d.tools)) out.push({ name: `${d.name}.${key}`, connector: d.name, definition, origin });
    };
    for (const d of this.#shipped.values()) add(d, 'catalog');
    for (const record of (await this.#store?.listOrgConnectors(org_id)) ?? []) add(this.#orgDefinition(record), 'org');
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Validates the input against the tool's JSON Schema; throws ToolInputError with a clear message. */
  validateInput(tool: CatalogTool, input: unknown): Record<string, unknown> {
    const result = this.#validator(tool.definition).safeParse(input);
    if (!result.success) {
      const issue = result.error.issues[0]!;
      throw new ToolInputError(issue.path.join('.') || '(input)', `${issue.path.length ? issue.path.join('.') + ': ' : ''}${issue.message}`);
    }
    return result.data as Record<string, unknown>;
  }

  /** The OAuth client for connect and refresh, or undefined when the connector has none configured. */
  async oauthProvider(org_id: string, name: string): Promise<OAuthProviderConfig | undefined> {
    const connector = await this.getConnector(org_id, name);
    if (!connector || connector.definition.auth.type !== 'oauth2') return undefined;
    const auth = connector.definition.auth;
    let client_id: string | undefined;
    let client_secret: string | undefined;
    if (connector.origin === 'catalog') {
      const client = this.#options.oauthClients?.[name];
      client_id = client?.client_id;
      client_secret = client?.client_secret;
    } else {
      client_id = auth.client_id;
      const record = await this.#store!.getOrgConnector(org_id, name);
      if (record?.sealed_client_secret) {
        client_secret = await this.#options.vault!.openOrgSecret(org_id, CLIENT_SECRET_PURPOSE, name, record.sealed_client_secret);
      }
    }
    if (client_id === undefined) return undefined;
    if (connector.origin === 'org') {
      // Checked again at use, with DNS: a name may have come to point somewhere private.
      for (const url of this.#serverSideOAuthUrls(connector.definition)) {
        try {
          await resolveEgress(url, [url.host], this.#egress);
        } catch (err) {
          if (err instanceof EgressError) throw new WritError('forbidden', 'the connector\'s OAuth endpoint is not allowed for outbound calls', { cause: err });
          // A name that does not resolve is not a private address: the call itself will fail.
        }
      }
    }
    return {
      authorization_url: auth.authorization_url, token_url: auth.token_url, revocation_url: auth.revocation_url,
      client_id, client_secret, token_endpoint_auth_method: auth.token_endpoint_auth_method,
      scope_separator: auth.scope_separator, extra_authorize_params: auth.extra_authorize_params,
    };
  }

  /**
   * Registers (or replaces) an org connector from the admin API body. The client secret is
   * sealed with the org's data key; the view returned never holds it.
   */
  /** Org connectors are https, but for hosts the operator allow-listed for private egress (development). */
  #orgSchemaOptions() {
    const hosts = this.#egress.allowPrivateHosts ?? [];
    return { allowHttp: (url: URL) => hosts.includes(url.host) || hosts.includes(url.hostname) };
  }

  async registerOrgConnector(org_id: string, name: string | undefined, body: unknown): Promise<OrgConnectorView> {
    const { vault, store } = this.#requireOrgConnectors();
    const parsed = orgConnectorRegistration(this.#orgSchemaOptions()).safeParse(body);
    if (!parsed.success) throw new WritError('invalid_request', `invalid connector: ${describeIssues(parsed.error)}`);
    const chosen = name ?? parsed.data.name;
    if (chosen === undefined) throw new WritError('invalid_request', 'invalid connector: name is required');
    if (parsed.data.name !== undefined && parsed.data.name !== chosen) throw new WritError('invalid_request', 'invalid connector: name does not match');
    if (this.#shipped.has(chosen)) throw new WritError('conflict', `${chosen} is a built-in connector name`);
    const { client_secret, ...auth } = parsed.data.auth as typeof parsed.data.auth & { client_secret?: string };
    const definitionInput = { ...parsed.data, name: chosen, auth };
    const checked = connectorDefinitionSchema(this.#orgSchemaOptions()).safeParse(definitionInput);
    if (!checked.success) throw new WritError('invalid_request', `invalid connector: ${describeIssues(checked.error)}`);
    for (const tool of Object.values(checked.data.tools)) this.#validator(tool);
    // Writ itself calls the token and revocation endpoints, with the client secret, codes and
    // refresh tokens: they get the same egress rules as API calls.
    for (const url of this.#serverSideOAuthUrls(checked.data)) {
      try {
        checkEgress(url, [url.host], this.#egress);
      } catch (err) {
        if (err instanceof EgressError) throw new WritError('invalid_request', `invalid connector: ${err.message}`);
        throw err;
      }
    }

    const now = new Date(this.#clock.now()).toISOString();
    const existing = await store.getOrgConnector(org_id, chosen);
    const record: OrgConnectorRecord = {
      org_id, name: chosen, definition: checked.data as unknown as Record<string, unknown>,
      sealed_client_secret: client_secret === undefined ? undefined : await vault.sealOrgSecret(org_id, CLIENT_SECRET_PURPOSE, chosen, client_secret),
      created_at: existing?.created_at ?? now, updated_at: now,
    };
    await store.putOrgConnector(org_id, record);
    return this.#view(record, checked.data);
  }

  async listOrgConnectors(org_id: string): Promise<OrgConnectorView[]> {
    return ((await this.#store?.listOrgConnectors(org_id)) ?? []).map((r) => this.#view(r, this.#orgDefinition(r)));
  }

  async deleteOrgConnector(org_id: string, name: string): Promise<boolean> {
    this.#orgCache.delete(`${org_id}\u0000${name}`);
    return this.#requireOrgConnectors().store.deleteOrgConnector(org_id, name);
  }

  #serverSideOAuthUrls(d: ConnectorDefinition): URL[] {
    if (d.auth.type !== 'oauth2') return [];
    return [d.auth.token_url, d.auth.revocation_url].filter((u): u is string => typeof u === 'string').map((u) => new URL(u));
  }

  #requireOrgConnectors(): { vault: Vault; store: OrgConnectorStore } {
    if (!this.#options.vault || !this.#store) throw new TypeError('org connectors need the catalog to be built with a vault and an org connector store');
    return { vault: this.#options.vault, store: this.#store };
  }

  #view(record: OrgConnectorRecord, d: ConnectorDefinition): OrgConnectorView {
    return {
      name: d.name, display_name: d.display_name, auth: { ...d.auth }, api_base_url: d.api_base_url, allowed_hosts: d.allowed_hosts,
      tools: Object.keys(d.tools).map((k) => `${d.name}.${k}`), client_secret_set: record.sealed_client_secret !== undefined,
      created_at: record.created_at, updated_at: record.updated_at,
    };
  }

  #orgDefinition(record: OrgConnectorRecord): ConnectorDefinition {
    const key = `${record.org_id}\u0000${record.name}`;
    const cached = this.#orgCache.get(key);
    if (cached && cached.updated_at === record.updated_at) return cached.definition;
    // Stored definitions were validated on the way in; validating again on the way out means
    // a row edited behind Writ's back cannot smuggle in a host or a header. A row stored before
    // resource paths had to be closed is closed here rather than refused.
    const parsed = connectorDefinitionSchema(this.#orgSchemaOptions()).safeParse(withClosedResourcePaths(record.definition));
    if (!parsed.success) throw new CatalogLoadError(`${record.org_id}/${record.name}`, describeIssues(parsed.error));
    this.#orgCache.set(key, { updated_at: record.updated_at, definition: parsed.data });
    return parsed.data;
  }

  #validator(tool: ToolDefinition): z.ZodType {
    let v = this.#validators.get(tool);
    if (!v) {
      v = z.fromJSONSchema(tool.input_schema as Parameters<typeof z.fromJSONSchema>[0]);
      this.#validators.set(tool, v);
    }
    return v;
  }
}

export { DEMO_CONNECTOR };
