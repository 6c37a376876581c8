import { z } from 'zod';

// The environment Writ reads, as one strict schema. The descriptions generate
// docs/configuration.md; a test fails when that page is stale.

const port = z.coerce.number().int().min(0).max(65535);

export const environmentSchema = z.object({
  PORT: port.default(8080).describe('TCP port the server listens on (0 picks a free port).'),
  HOST: z.string().min(1).default('127.0.0.1').describe('Interface to bind. Use `0.0.0.0` behind a load balancer.'),
  WRIT_ISSUER: z.url().optional().describe('Public issuer URL, no trailing slash. Defaults to `http://localhost:$PORT`. Required in production, and https there.'),
  WRIT_DATA_DIR: z.string().min(1).default('./.writ').describe('Directory for the embedded store and generated development secrets: made mode 0700 on every start, every file in it 0600.'),
  WRIT_STORE: z.enum(['sqlite', 'mongodb']).default('sqlite').describe('Storage adapter: `sqlite` (embedded, one file in the data dir) or `mongodb`.'),
  MONGODB_URI: z.string().min(1).optional().describe('MongoDB connection string; required when `WRIT_STORE=mongodb`.'),
  WRIT_ADMIN_TOKEN: z.string().min(32).optional().describe('Bearer token for `/admin/v1` (at least 32 characters). Generated into the data dir when absent, except in production.'),
  WRIT_MASTER_KEY: z.string().min(1).optional().describe('Master key ring for the vault and signing keys: `v<N>:<base64url 32 bytes>` entries, comma-separated, newest first (a single bare key is version 1). Generated into the data dir when absent, except in production.'),
  WRIT_POLICIES: z.string().min(1).default('./policies').describe('Directory of policy files (`*.yaml`), reloaded when they change.'),
  WRIT_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info').describe('Minimum level of the JSON log lines on stdout.'),
  WRIT_ACCESS_TOKEN_TTL: z.coerce.number().int().min(30).max(600).default(600).describe('Lifetime in seconds of delegated access tokens (at most 10 minutes).'),
  WRIT_REFRESH_TOKEN_TTL: z.coerce.number().int().min(60).default(30 * 24 * 3600).describe('Lifetime in seconds of refresh tokens; they rotate on every use and die with their grant.'),
  WRIT_ALLOW_PRIVATE_EGRESS: z.string().optional().describe('Comma-separated hosts (`host` or `host:port`) the executor and single sign-on may call although they resolve to loopback or private addresses, and over plain http (shipped connectors\' endpoint overrides, org connectors and orgs\' identity providers alike). For local providers and tests only; production refuses it.'),
  WRIT_DEMO_PROVIDER_URL: z.url().optional().describe('Base URL of the bundled demo notes provider, for the `demo` connector.'),
  WRIT_CONNECTOR_CLIENTS: z.string().optional().describe('OAuth clients of the shipped connectors, as JSON: `{"github": {"client_id": "…", "client_secret": "…"}}`. Orgs can instead register their own connectors through the admin API.'),
  WRIT_WORKERS: z.string().regex(/^(auto|[1-9][0-9]?)$/).default('1').describe('Worker processes sharing the port (node:cluster), each a full Writ over the shared store; `auto` uses one per core. Needs a fixed `PORT`.'),
  WRIT_CONNECTOR_ENDPOINTS: z.string().optional().describe('Endpoint overrides for shipped connectors (GitHub Enterprise Server, regional hosts), as JSON: `{"github": {"api_base_url": "https://ghe.example/api/v3", "authorization_url": "https://ghe.example/login/oauth/authorize", "token_url": "https://ghe.example/login/oauth/access_token", "revocation_url": "…"}}`; every field is optional. The credential is then sent only to the new API host. URLs must be https, except for hosts listed in `WRIT_ALLOW_PRIVATE_EGRESS`.'),
  WRIT_EXECUTOR_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000).describe('How long the executor waits for a provider to answer one tool call, in milliseconds; past it the call fails with `upstream_timeout` (504).'),
  WRIT_AUDIT_CHECKPOINT_INTERVAL: z.coerce.number().int().min(0).max(7 * 86400).default(3600).describe('Seconds between signed checkpoints of each org\'s audit chain (a checkpoint is made only when the chain grew); `0` signs them on demand only (`POST /admin/v1/orgs/{org}/audit/checkpoints`).'),
  WRIT_SIEM_INTERVAL: z.coerce.number().int().min(0).max(3600).default(5).describe('Seconds between SIEM delivery runs for orgs with a stream; `0` delivers on demand only (`POST /admin/v1/orgs/{org}/audit/stream/deliver`).'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development').describe('`production` refuses generated or missing secrets and non-https issuers.'),
}).strict();

export type Environment = z.infer<typeof environmentSchema>;

/** Picks only the variables Writ knows from a full process environment. */
export function pickEnvironment(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(environmentSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') out[key] = value;
  }
  return out;
}

/** Markdown reference generated from the schema. */
export function renderConfigurationDocs(): string {
  const rows = Object.entries(environmentSchema.shape).map(([name, schema]) => {
    const def = (schema as z.ZodType).def as { defaultValue?: unknown; type: string };
    const dflt = def.type === 'default' ? `\`${String(def.defaultValue)}\`` : '—';
    const description = (schema as z.ZodType).description ?? '';
    return `| \`${name}\` | ${dflt} | ${description} |`;
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:generate`; do not edit by hand. -->',
    '',
    'Writ reads its configuration from the environment. Unknown `WRIT_*` variables are ignored;',
    'invalid values stop the server at start-up with a message naming the variable.',
    '',
    '| variable | default | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
