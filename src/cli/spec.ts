// Command definitions are data: name, arguments, options and a description. The parser, the
// `--help` text and docs/cli.md all read the same table.

export interface OptionSpec {
  type: 'string' | 'boolean';
  description: string;
  /** May be given more than once (collected into an array). */
  multiple?: boolean;
  /** Environment variable read when the option is absent. */
  env?: string;
  short?: string;
}

export interface ArgSpec { name: string; description: string; required: boolean }

export interface CommandSpec {
  /** Words that select the command, e.g. `['audit', 'export']`. */
  name: string[];
  description: string;
  args: ArgSpec[];
  options: Record<string, OptionSpec>;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, refused: 4 } as const;

/** Options every command that talks to a server understands. */
export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  url: { type: 'string', env: 'WRIT_URL', description: 'Writ\'s base URL (default `http://localhost:$PORT`, PORT default 8080).' },
  'data-dir': { type: 'string', env: 'WRIT_DATA_DIR', description: 'Where `admin-token` is read from when WRIT_ADMIN_TOKEN is not set (default `./.writ`).' },
  json: { type: 'boolean', description: 'Machine-readable output: one JSON document on stdout.' },
  help: { type: 'boolean', short: 'h', description: 'Show this command\'s usage.' },
};

const org = { org: { type: 'string', env: 'WRIT_ORG', description: 'The org id (`org_…`).' } } satisfies Record<string, OptionSpec>;
const arg = (name: string, description: string, required = true): ArgSpec => ({ name, description, required });

export const COMMANDS: CommandSpec[] = [
  { name: ['serve'], description: 'Run the authorization server and executor in one process (configuration from the environment, see docs/configuration.md). SIGTERM drains in-flight requests, then closes the store.', args: [], options: {} },
  { name: ['dev'], description: 'Development: `writ serve` with the bundled demo notes provider connected (connector `demo`), so a by-hand walkthrough ends in a real tool call. `npm run dev` runs it; the provider listens on a free loopback port (or DEMO_PROVIDER_PORT) and stops with Writ.', args: [], options: {} },

  { name: ['orgs', 'create'], description: 'Create an org.', args: [arg('name', 'Display name.')], options: {} },
  { name: ['orgs', 'list'], description: 'List orgs.', args: [], options: {} },
  { name: ['orgs', 'delete'], description: 'Delete an org (refused by servers without org deletion).', args: [arg('org', 'Org id.')], options: {} },

  { name: ['users', 'create'], description: 'Add a user with a local password. The password is read from WRIT_USER_PASSWORD, never from the command line.', args: [arg('username', 'Sign-in name.')],
    options: { ...org, email: { type: 'string', description: 'Email address.' }, role: { type: 'string', multiple: true, description: '`member` (default) or `admin`; repeatable.' }, password: { type: 'string', env: 'WRIT_USER_PASSWORD', description: 'Read from WRIT_USER_PASSWORD.' } } },
  { name: ['users', 'list'], description: 'List an org\'s users.', args: [], options: { ...org } },
  { name: ['users', 'delete'], description: 'Delete a user: their sessions, grants with every capability derived from them and connected accounts end first.', args: [arg('user', 'User id.')], options: { ...org } },
  { name: ['users', 'update'], description: 'Change a user\'s username, email, display name, roles or password (read from WRIT_USER_PASSWORD).', args: [arg('user', 'User id.')],
    options: {
      ...org, username: { type: 'string', description: 'New sign-in name.' }, email: { type: 'string', description: 'Email address.' }, 'display-name': { type: 'string', description: 'Display name.' },
      role: { type: 'string', multiple: true, description: '`member` or `admin`; repeatable; replaces the roles.' }, password: { type: 'string', env: 'WRIT_USER_PASSWORD', description: 'Read from WRIT_USER_PASSWORD.' },
    } },
  { name: ['users', 'disable'], description: 'Disable a user: no sign-in; sessions, grants, capabilities and connected accounts end at once.', args: [arg('user', 'User id.')], options: { ...org } },
  { name: ['users', 'enable'], description: 'Enable a disabled user again (nothing that ended comes back).', args: [arg('user', 'User id.')], options: { ...org } },

  { name: ['agents', 'create'], description: 'Register an agent with its tool ceiling. The client secret is printed once. Every tool must exist (a shipped connector\'s, or one of the org\'s own connectors\'): an unknown name is refused (exit 4) with the closest real one.', args: [arg('name', 'Display name.')],
    options: {
      ...org, tool: { type: 'string', multiple: true, description: 'A tool the agent may ever be granted; repeatable.' },
      'redirect-uri': { type: 'string', multiple: true, description: 'Redirect URI for delegation; repeatable.' },
      'auth-method': { type: 'string', description: '`client_secret_basic` (default), `client_secret_post` or `private_key_jwt`.' },
      'jwks-file': { type: 'string', description: 'A JSON file with the agent\'s public JWK Set (for `private_key_jwt`).' },
    } },
  { name: ['agents', 'list'], description: 'List an org\'s agents.', args: [], options: { ...org } },
  { name: ['agents', 'delete'], description: 'Delete an agent and revoke every grant it held.', args: [arg('client_id', 'Agent id.')], options: { ...org } },
  { name: ['agents', 'update'], description: 'Change an agent\'s name, ceiling (--tool, replaces it) or redirect URIs; nothing already issued changes.', args: [arg('client_id', 'Agent id.')],
    options: { ...org, name: { type: 'string', description: 'Display name.' }, tool: { type: 'string', multiple: true, description: 'A tool of the new ceiling; repeatable.' }, 'redirect-uri': { type: 'string', multiple: true, description: 'Redirect URI; repeatable; replaces them.' } } },
  { name: ['agents', 'disable'], description: 'Disable an agent: no client authentication; every grant and capability it holds or that was delegated through it ends.', args: [arg('client_id', 'Agent id.')], options: { ...org } },
  { name: ['agents', 'enable'], description: 'Enable a disabled agent again (nothing that ended comes back).', args: [arg('client_id', 'Agent id.')], options: { ...org } },
  { name: ['agents', 'rotate-secret'], description: 'Issue a new client secret, printed once; the old one works for --overlap seconds more (default 3600).', args: [arg('client_id', 'Agent id.')],
    options: { ...org, overlap: { type: 'string', description: 'Seconds the old secret keeps working (0 ends it at once).' } } },
  { name: ['agents', 'rotate-keys'], description: 'Replace a private_key_jwt agent\'s public keys from a JWK Set file (or set a jwks_uri); old inline keys work for --overlap seconds more.', args: [arg('client_id', 'Agent id.')],
    options: { ...org, 'jwks-file': { type: 'string', description: 'A JSON file with the new public JWK Set.' }, 'jwks-uri': { type: 'string', description: 'An https URL where the agent publishes its keys instead.' }, overlap: { type: 'string', description: 'Seconds the old keys keep working (default 3600).' } } },

  { name: ['scim', 'token'], description: 'Issue the org\'s SCIM bearer token, printed once; the previous one stops working.', args: [], options: { ...org } },

  { name: ['identity-provider', 'set'], description: 'Set (or replace) the org\'s OpenID provider for single sign-on. The client secret is read from WRIT_IDP_CLIENT_SECRET, never from the command line; with --private-key-file Writ signs private_key_jwt assertions instead. Register the printed redirect URI at the provider.', args: [],
    options: {
      ...org, issuer: { type: 'string', description: 'The provider\'s issuer URL (https; http only on loopback).' }, 'client-id': { type: 'string', description: 'Writ\'s client id at the provider.' },
      'client-secret': { type: 'string', env: 'WRIT_IDP_CLIENT_SECRET', description: 'Read from WRIT_IDP_CLIENT_SECRET.' },
      'auth-method': { type: 'string', description: '`client_secret_basic` (default), `client_secret_post` or `private_key_jwt`.' },
      'private-key-file': { type: 'string', description: 'A JSON file with the private JWK for `private_key_jwt` (sealed at rest; its public half is shown).' },
      scope: { type: 'string', multiple: true, description: 'A scope to ask for; repeatable (default `openid email profile`).' },
      claim: { type: 'string', multiple: true, description: '`field=claim` for `username`, `email`, `display_name` or `roles` (default preferred_username, email, name, groups); repeatable.' },
      'admin-value': { type: 'string', multiple: true, description: 'A value of the roles claim that makes a user an org admin; repeatable.' },
      domain: { type: 'string', multiple: true, description: 'An email domain the provider signs in (home-realm discovery; other domains are refused); repeatable.' },
      passwords: { type: 'string', description: '`on` (default) or `off`: whether the org\'s users may still sign in with a Writ password.' },
      'max-age': { type: 'string', description: 'Seconds: how recent the provider\'s sign-in must be for consent to an agent (default 300).' },
      'accept-id-jag': { type: 'boolean', description: 'Accept ID-JAGs this provider signs at /token (jwt-bearer).' },
    } },
  { name: ['identity-provider', 'show'], description: 'Show the org\'s identity provider (never its secret).', args: [], options: { ...org } },
  { name: ['identity-provider', 'remove'], description: 'Remove the org\'s identity provider and its users\' links to it; passwords work again.', args: [], options: { ...org } },
  { name: ['cross-app', 'set'], description: 'Set the authorization servers Writ may issue ID-JAGs for, as its users\' identity provider, from a JSON file `{ "targets": [{ "audience", "clients": { agent: client_id there }, "scopes", "resources", "ttl" }] }`.', args: [], options: { ...org, file: { type: 'string', description: 'JSON file with the targets.' } } },
  { name: ['cross-app', 'show'], description: 'Show the org\'s cross-app access targets.', args: [], options: { ...org } },

  { name: ['connectors', 'create'], description: 'Register or replace an org connector from a definition file (docs/connectors.md).', args: [arg('name', 'Connector name.')], options: { ...org, file: { type: 'string', description: 'JSON file with the definition.' } } },
  { name: ['connectors', 'list'], description: 'Connectors available to an org (catalog and org-registered).', args: [], options: { ...org } },
  { name: ['connectors', 'delete'], description: 'Delete an org connector.', args: [arg('name', 'Connector name.')], options: { ...org } },

  { name: ['accounts', 'create'], description: 'Create a connected account: prints the connection link for OAuth connectors, or stores an API key read from WRIT_API_KEY.', args: [],
    options: { ...org, connector: { type: 'string', description: 'Connector name.' }, user: { type: 'string', description: 'Owner user id (omit for an org-owned account).' }, 'api-key': { type: 'string', env: 'WRIT_API_KEY', description: 'Read from WRIT_API_KEY (write-only).' } } },
  { name: ['accounts', 'list'], description: 'List connected accounts (status, scopes, expiry; never a credential).', args: [], options: { ...org } },
  { name: ['accounts', 'delete'], description: 'Disconnect an account: revoke upstream where supported, shred the credential.', args: [arg('id', 'Account id.')], options: { ...org } },

  { name: ['connect'], description: 'Print the link a person opens to connect a provider account.', args: [arg('connector', 'Connector name.')],
    options: { ...org, user: { type: 'string', description: 'Owner user id (omit for an org-owned account).' } } },

  { name: ['exchange'], description: 'Developer helper: trade a delegated token for a capability (RFC 8693) through the SDK and print it.', args: [],
    options: {
      'client-id': { type: 'string', env: 'WRIT_CLIENT_ID', description: 'The agent\'s client id.' },
      'client-secret': { type: 'string', env: 'WRIT_CLIENT_SECRET', description: 'Read from WRIT_CLIENT_SECRET.' },
      'subject-token': { type: 'string', env: 'WRIT_SUBJECT_TOKEN', description: 'Read from WRIT_SUBJECT_TOKEN.' },
      tool: { type: 'string', multiple: true, description: 'Tool to ask for; repeatable.' },
      resource: { type: 'string', description: 'Resource (or pattern) to narrow to.' },
      format: { type: 'string', description: '`jwt` (default) or `biscuit`.' },
      audience: { type: 'string', description: 'Downstream audience (default the executor).' },
    } },
  { name: ['execute'], description: 'Developer helper: run a tool with a capability through the SDK and print its data.', args: [arg('tool', 'Tool name.')],
    options: {
      input: { type: 'string', description: 'Tool input as a JSON object (default `{}`).' },
      capability: { type: 'string', env: 'WRIT_CAPABILITY', description: 'Read from WRIT_CAPABILITY.' },
    } },

  { name: ['policy', 'validate'], description: 'Parse every policy file in a directory; print `file:line: problem` for each error and exit 1 if there is one. Needs no server.', args: [arg('dir', 'Policy directory (default WRIT_POLICIES or ./policies).', false)], options: {} },
  { name: ['policy', 'check'], description: 'Dry-run the policy in force on the server: would this agent get these tools? Exits 0 on allow, 1 on deny.', args: [],
    options: {
      ...org, agent: { type: 'string', description: 'Agent id.' }, user: { type: 'string', description: 'User id (omit for an org-level principal).' },
      tool: { type: 'string', multiple: true, description: 'Tool; repeatable.' }, resource: { type: 'string', multiple: true, description: 'Resource; repeatable.' },
      audience: { type: 'string', description: 'Audience (default the executor).' },
      arg: { type: 'string', multiple: true, description: 'An argument of the call, `field=value` (a number when it reads as one); repeatable. Approval rules are judged against these.' },
    } },

  { name: ['mcp', 'settings'], description: 'Show, or with --accept set, whether the org accepts external MCP clients (clients of no org, by metadata document or registration), which ones, and the tools they may ever be granted in it. Every external client\'s agent in the org takes a new ceiling at once.', args: [],
    options: {
      ...org, accept: { type: 'string', description: '`none`, `any`, or `listed` (only the clients given with --client).' },
      client: { type: 'string', multiple: true, description: 'A client id (its metadata document URL, or a registered id) or a host; repeatable.' },
      tool: { type: 'string', multiple: true, description: 'A tool external clients may be granted; repeatable.' },
    } },

  { name: ['keys', 'rotate'], description: 'Rotate signing keys; older keys stay published until their tokens expire.', args: [], options: {} },

  { name: ['audit', 'query'], description: 'Audit events, newest first, with filters.', args: [],
    options: {
      ...org, type: { type: 'string', description: 'Event type.' }, user: { type: 'string', description: 'User id.' }, agent: { type: 'string', description: 'Agent id.' },
      tool: { type: 'string', description: 'Tool.' }, grant: { type: 'string', description: 'Grant id.' }, since: { type: 'string', description: 'ISO time.' }, until: { type: 'string', description: 'ISO time.' },
      limit: { type: 'string', description: 'Page size (default 100).' }, cursor: { type: 'string', description: '`next_cursor` from the previous page.' },
    } },
  { name: ['audit', 'tail'], description: 'The latest events, oldest first; with --follow, keep printing new ones.', args: [],
    options: { ...org, limit: { type: 'string', description: 'How many to show first (default 10).' }, follow: { type: 'boolean', short: 'f', description: 'Keep polling for new events.' }, interval: { type: 'string', description: 'Polling interval in seconds (default 2).' } } },
  { name: ['audit', 'verify'], description: 'Walk the org\'s hash chain; exit 1 when a link is broken. With --checkpoints, check offline: an exported log (--log, or the server\'s export) against signed checkpoints saved earlier, so an edited, truncated or wholly rewritten log is detected without trusting the server.', args: [],
    options: {
      ...org, checkpoints: { type: 'string', description: 'A checkpoints document saved from `GET /v1/audit/{org}/checkpoints` (keys and signed checkpoints).' },
      log: { type: 'string', description: 'An exported log (`writ audit export --out`, JSON lines); read offline, no server needed.' },
      keys: { type: 'string', description: 'A JWK Set pinned earlier, trusted instead of the keys inside the checkpoints document.' },
    } },
  { name: ['audit', 'checkpoint'], description: 'Sign a checkpoint of the org\'s audit chain now and print it (one is also signed at WRIT_AUDIT_CHECKPOINT_INTERVAL).', args: [], options: { ...org } },
  { name: ['audit', 'stream'], description: 'Stream the org\'s events to its SIEM: set the HTTPS endpoint (--endpoint), show the stream and its cursor, or remove it (--remove).', args: [],
    options: { ...org, endpoint: { type: 'string', description: 'The SIEM\'s HTTPS endpoint receiving OCSF events.' }, from: { type: 'string', description: '`start` (default for a new stream) or `now`.' }, remove: { type: 'boolean', description: 'Stop streaming.' } } },
  { name: ['audit', 'export'], description: 'Export every event oldest first as JSON lines (or OCSF), to --out or stdout. Uses the server\'s export endpoint, or pages through the audit query when the server has none (JSON lines only).', args: [],
    options: { ...org, format: { type: 'string', description: '`jsonl` (default) or `ocsf`.' }, out: { type: 'string', description: 'Output file (default stdout).' } } },

  { name: ['demo'], description: 'The quickstart story, offline: Writ and the bundled notes provider start in this process; an org, a user and an agent are created, John delegates and connects his notes account, the agent exchanges its delegation and creates a note, and the audit trail is shown. Without --auto, prints the links for a person to open.', args: [],
    options: { auto: { type: 'boolean', description: 'Drive the sign-in, consent and connect pages headlessly.' }, keep: { type: 'boolean', description: 'Keep Writ running at the end.' } } },

  { name: ['migrate'], description: 'Copy every record from one store to another and verify counts and the audit chain (`--from sqlite --to mongodb`).', args: [],
    options: { from: { type: 'string', description: '`sqlite` (the store in WRIT_DATA_DIR).' }, to: { type: 'string', description: '`mongodb` (MONGODB_URI), or `sqlite` with --target-dir.' }, 'target-dir': { type: 'string', description: 'Target data dir when --to sqlite.' } } },
];

export function usage(spec: CommandSpec): string {
  const args = spec.args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`)).join(' ');
  const lines = [`usage: writ ${spec.name.join(' ')}${args ? ` ${args}` : ''} [options]`, '', spec.description, ''];
  const options = { ...spec.options, ...(spec.name[0] === 'serve' || spec.name[0] === 'dev' || spec.name[0] === 'policy' && spec.name[1] === 'validate' || spec.name[0] === 'migrate' ? {} : GLOBAL_OPTIONS) };
  for (const [name, o] of Object.entries(options)) {
    lines.push(`  --${name}${o.type === 'string' ? ' <value>' : ''}${o.multiple ? ' (repeatable)' : ''}${o.env ? ` [env ${o.env}]` : ''}\n      ${o.description}`);
  }
  return lines.join('\n') + '\n';
}

/** docs/cli.md, from the same table. */
export function renderCliDocs(): string {
  const out = [
    '# The `writ` command',
    '',
    '<!-- Generated from src/cli/spec.ts by `npm run docs:generate`; do not edit by hand. -->',
    '',
    '`writ <command> [arguments] [options]`. Commands that talk to a server use the admin API at `--url`',
    '(or `WRIT_URL`) with the token from `WRIT_ADMIN_TOKEN`, or else `<data dir>/admin-token`. Output is for',
    'people by default; `--json` prints one JSON document for scripts. Long operations draw a progress bar',
    'on stderr when it is a terminal. Secrets (passwords, API keys, client secrets, tokens) are read from',
    'environment variables, never from arguments, so they stay out of shell history and process lists.',
    'With `--json` a failure is one JSON document on stderr, `{"error", "error_description", "exit_code"}`:',
    '`error` is the server\'s error code when it answered one, else `usage`, `unknown_command`, `unreachable`',
    'or `failed`; nothing is written to stdout.',
    'A bare `writ` prints the list of commands; only `writ serve` starts a server; `writ --version` prints',
    'the version.',
    '',
    '## Exit codes',
    '',
    '| code | meaning |',
    '| --- | --- |',
    '| 0 | done |',
    '| 1 | the operation failed (a broken audit chain, a policy error, a denied dry run, an unreachable server) |',
    '| 2 | usage or configuration error (unknown command, missing option, no admin token) |',
    '| 3 | not found (the org, agent, account … does not exist) |',
    '| 4 | refused by the server (validation, authentication, conflict, unsupported operation) |',
    '',
    '## Global options',
    '',
    ...Object.entries(GLOBAL_OPTIONS).map(([name, o]) => `- \`--${name}\`${o.env ? ` (env \`${o.env}\`)` : ''}: ${o.description}`),
    '',
    '## Commands',
    '',
    '| command | what it does |',
    '| --- | --- |',
    ...COMMANDS.map((c) => `| \`writ ${c.name.join(' ')}\` | ${c.description.split('. ')[0]!.replace(/\.$/, '')}. |`),
    '',
  ];
  for (const c of COMMANDS) {
    const args = c.args.map((a) => (a.required ? `<${a.name}>` : `[${a.name}]`)).join(' ');
    out.push(`### \`writ ${c.name.join(' ')}${args ? ` ${args}` : ''}\``, '', c.description, '');
    for (const a of c.args) out.push(`- \`${a.name}\`${a.required ? '' : ' (optional)'}: ${a.description}`);
    for (const [name, o] of Object.entries(c.options)) out.push(`- \`--${name}\`${o.multiple ? ' (repeatable)' : ''}${o.env ? ` (env \`${o.env}\`)` : ''}: ${o.description}`);
    if (c.args.length || Object.keys(c.options).length) out.push('');
  }
  return out.join('\n');
}
