// The door table: which room of src/ may import which. It is the rule set dependency-cruiser
// checks (test/architecture.test.ts), it lists only doors the code uses (a door nobody walks
// through is removed, so a new inverted dependency cannot hide behind it), and it generates the
// "Doors" table of docs/architecture.md.

/** Rooms every room may use: the shared kernel. */
export const KERNEL = ['core', 'errors', 'types'] as const;

export interface Door {
  /** Rooms this room may import, besides itself and the kernel. `*` is the composition root. */
  to: string[];
  /** Why, in a few words, for the reader of docs/architecture.md. */
  why: string;
}

export const DOORS: Record<string, Door> = {
  app: { to: ['*'], why: 'the composition root wires every room' },
  cli: { to: ['app', 'audit', 'client', 'config', 'demo', 'policy'], why: 'serves through app, drives the admin API and the agent SDK, validates policy files, checks exported audit logs against signed checkpoints offline, runs the demo' },
  config: { to: [], why: 'the environment as one schema' },
  core: { to: [], why: 'kernel' },
  errors: { to: [], why: 'kernel' },
  storage: { to: ['approvals', 'connectors', 'rights'], why: 'ports and adapters know the kernel and the vocabulary of rights the records carry; adapters implement the ports rooms declare for themselves (connectors: org connectors, approvals: approval requests), type-only' },
  audit: { to: ['storage'], why: 'appends to the audit port; signs checkpoints of each chain, publishes them, streams events to SIEMs' },
  grants: { to: ['audit', 'rights', 'storage'], why: 'authorization events, with their audit events' },
  keys: { to: ['capability', 'storage'], why: 'signing and root keys, sealed in the store' },
  web: { to: [], why: 'HTML and cookies for every page' },
  as: { to: ['approvals', 'audit', 'capability', 'connectors', 'exchange', 'grants', 'revocation', 'rights', 'storage', 'web'], why: 'oidc-provider, its token-endpoint grants and pages; RFC 7662 introspection of capabilities (connectors: egress rules for client metadata documents)' },
  admin: { to: ['as', 'audit', 'connectors', 'grants', 'keys', 'lifecycle', 'policy', 'rights', 'sso', 'storage', 'vault', 'web'], why: 'the admin API over the rooms it manages (as: password hashing)' },
  sso: { to: ['audit', 'connectors', 'storage', 'web'], why: 'single sign-on per org through its OpenID provider, just-in-time users, cross-app access settings (connectors: egress rules for the provider\'s URLs)' },
  lifecycle: { to: ['audit', 'connectors', 'grants', 'storage', 'vault'], why: 'users and agents updated, disabled, enabled, deleted and their credentials rotated; every end of authority through the grants\' one transaction' },
  scim: { to: ['as', 'audit', 'lifecycle', 'storage', 'web'], why: 'SCIM 2.0 provisioning of users and groups onto the directory and the lifecycle (as: password hashing)' },
  exchange: { to: ['audit', 'capability', 'policy', 'revocation', 'rights', 'storage'], why: 'RFC 8693: subject, policy, mint, record, audit' },
  approvals: { to: ['audit', 'connectors', 'rights', 'storage', 'web'], why: 'human approval of one call: requests, approver pages, org webhooks (connectors: egress rules for webhook URLs)' },
  revocation: { to: ['rights', 'storage'], why: 'the cascade and the public feed' },
  policy: { to: ['rights'], why: 'pure decisions' },
  rights: { to: [], why: 'the vocabulary of rights: tool_access details, resource patterns, the one function that computes what may be held' },
  capability: { to: ['rights'], why: 'JWT and Biscuit capabilities' },
  verifier: { to: ['capability', 'rights'], why: 'the library downstream services install' },
  vault: { to: ['storage'], why: 'sealed credentials, refresh' },
  connectors: { to: ['vault'], why: "the catalog, declaring its org connector port; org connectors' client secrets are sealed in the vault" },
  executor: { to: ['audit', 'connectors', 'revocation', 'rights', 'storage', 'vault', 'verifier', 'web'], why: 'verify, resolve, refresh, call, audit' },
  mcp: { to: ['connectors', 'exchange', 'executor', 'revocation', 'rights', 'storage', 'web'], why: 'the executor as an MCP server: tokens for its resource, a capability per tools/call, the executor pipeline' },
  connect: { to: ['audit', 'connectors', 'storage', 'vault', 'web'], why: 'the outbound connect flow' },
  console: { to: ['as', 'audit', 'grants', 'lifecycle', 'policy', 'rights', 'sso', 'storage', 'web'], why: "the org admin's pages (as: page helpers, sign-in form)" },
  ops: { to: ['admin', 'approvals', 'executor', 'revocation', 'rights', 'storage'], why: 'request and response schemas for the OpenAPI document; store ports to observe' },
  client: { to: [], why: 'the agent SDK stands alone' },
  // Beside the product, not part of it: no product room has a door here (only the CLI's `demo` command).
  demo: { to: ['app', 'client', 'config'], why: 'the quickstart story and the notes provider it runs against (demo/provider/), apart from the product' },
};

/** Packages confined to the rooms that own them. */
export const PACKAGE_OWNERS: Record<string, string[]> = {
  'oidc-provider': ['as'],
  mongodb: ['storage'],
  koa: ['admin', 'app', 'approvals', 'as', 'connect', 'console', 'demo', 'web', 'mcp', 'scim'],
  '@koa/router': ['admin', 'approvals', 'as', 'connect', 'console', 'executor', 'revocation', 'sso', 'mcp', 'audit'],
  'koa-compose': ['as'],
  '@biscuit-auth/biscuit-wasm': ['capability'],
  // Metrics are the operator's room's: the rest of Writ reports through its Metrics interface.
  'prom-client': ['ops'],
  // Logging is the kernel's: every room logs through core/log.ts's Logger.
  pino: ['core'],
  // Keep-alive pools pinned to the addresses the egress check approved.
  undici: ['connectors'],
  // Each behind its own verifier entry point, so a service loads only the framework it uses.
  express: ['verifier'],
  fastify: ['verifier'],
  hono: ['verifier'],
  '@modelcontextprotocol/sdk': ['verifier', 'mcp'],
};

/** The adapters only the composition root opens. */
export const ADAPTERS = ['storage/sqlite', 'storage/mongodb'];

/** The "Doors" table of docs/architecture.md. */
export function renderDoorsTable(): string {
  const rows = Object.entries(DOORS).map(([room, door]) =>
    `| \`${room}/\` | ${door.to.length === 0 ? 'the kernel only' : door.to[0] === '*' ? 'everything' : door.to.map((r) => `\`${r}\``).join(', ')} | ${door.why} |`);
  return [
    '| room | may import (besides itself and the kernel: `core`, `errors`, `types`) | why |',
    '| --- | --- | --- |',
    ...rows,
  ].join('\n');
}

const START = '<!-- doors:start -->';
const END = '<!-- doors:end -->';

/** docs/architecture.md with its generated Doors table replaced by the current one. */
export function spliceDoorsTable(page: string): string {
  const from = page.indexOf(START);
  const to = page.indexOf(END);
  if (from < 0 || to < from) throw new Error(`docs/architecture.md needs ${START} … ${END} around the Doors table`);
  return `${page.slice(0, from + START.length)}\n${renderDoorsTable()}\n${page.slice(to)}`;
}
