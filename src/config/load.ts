import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { UNEXPECTED, WritError } from '../errors/index.ts';
import { environmentSchema, pickEnvironment, type Environment } from './schema.ts';

const connectorClientsSchema = z.record(
  z.string().regex(/^[a-z][a-z0-9_-]*$/),
  z.strictObject({ client_id: z.string().min(1).max(512), client_secret: z.string().min(1).max(4096).optional() }),
);

const endpointUrl = z.url({ protocol: /^https?$/ }).max(2048);
const connectorEndpointsSchema = z.record(
  z.string().regex(/^[a-z][a-z0-9_-]*$/),
  z.strictObject({ api_base_url: endpointUrl.optional(), authorization_url: endpointUrl.optional(), token_url: endpointUrl.optional(), revocation_url: endpointUrl.optional() })
    .refine((e) => Object.values(e).some((v) => v !== undefined), 'names no endpoint'),
);

/** Misconfiguration: stops start-up and names the exact setting. */
export class ConfigError extends WritError {
  readonly setting: string;
  constructor(setting: string, message: string) {
    super('server_error', UNEXPECTED, { message: `${setting}: ${message}` });
    this.name = 'ConfigError';
    this.setting = setting;
  }
}

export interface Config {
  env: Environment;
  port: number;
  host: string;
  /** Explicit issuer, or undefined to derive it from the bound port. */
  issuer: string | undefined;
  dataDir: string;
  store: 'sqlite' | 'mongodb';
  mongodbUri: string | undefined;
  adminToken: string;
  masterKey: string;
  policiesDir: string;
  /** OAuth clients of shipped connectors, by connector name. */
  connectorClients: Record<string, { client_id: string; client_secret?: string | undefined }>;
  /** Endpoint overrides of shipped connectors, by connector name. */
  connectorEndpoints: Record<string, { api_base_url?: string | undefined; authorization_url?: string | undefined; token_url?: string | undefined; revocation_url?: string | undefined }>;
  /** Hosts the executor may call although they are private or loopback (tests, local providers). */
  allowPrivateEgress: string[];
  production: boolean;
  /** Paths of development secrets generated on this start (for the start-up warning). */
  generatedSecrets: string[];
  /** Paths of development secrets read back from the data dir. */
  storedSecrets: string[];
}

const SECRET_FILES = { WRIT_ADMIN_TOKEN: 'admin-token', WRIT_MASTER_KEY: 'master-key' } as const;

function generate(setting: keyof typeof SECRET_FILES): string {
  return setting === 'WRIT_MASTER_KEY' ? `v1:${randomBytes(32).toString('base64url')}` : randomBytes(32).toString('base64url');
}

/**
 * Validates the environment and resolves secrets. In development, missing secrets are generated
 * into the data dir (mode 0600) and reused on the next start; production refuses them.
 */
export function loadConfig(rawEnv: Record<string, string | undefined> = process.env): Config {
  const parsed = environmentSchema.safeParse(pickEnvironment(rawEnv));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(String(issue.path[0] ?? 'environment'), issue.message);
  }
  const env = parsed.data;
  const production = env.NODE_ENV === 'production';
  const dataDir = resolve(env.WRIT_DATA_DIR);

  if (env.WRIT_STORE === 'mongodb' && !env.MONGODB_URI) {
    throw new ConfigError('MONGODB_URI', 'is required when WRIT_STORE=mongodb');
  }
  if (production && env.WRIT_ISSUER && !env.WRIT_ISSUER.startsWith('https://')) {
    throw new ConfigError('WRIT_ISSUER', 'must be an https URL in production');
  }
  if (production && env.WRIT_ALLOW_PRIVATE_EGRESS) {
    throw new ConfigError('WRIT_ALLOW_PRIVATE_EGRESS', 'must not be set in production');
  }

  const generatedSecrets: string[] = [];
  const storedSecrets: string[] = [];
  const secret = (setting: keyof typeof SECRET_FILES): string => {
    const given = env[setting];
    if (given) return given;
    const file = join(dataDir, SECRET_FILES[setting]);
    if (production) {
      throw new ConfigError(setting, 'must be set in production; generated development secrets are refused');
    }
    if (existsSync(file)) {
      storedSecrets.push(file);
      return readFileSync(file, 'utf8').trim();
    }
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    chmodSync(dataDir, 0o700); // mkdir's mode applies only to a directory it creates
    writeFileSync(file, generate(setting) + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(file, 0o600);
    generatedSecrets.push(file);
    return readFileSync(file, 'utf8').trim();
  };

  const adminToken = secret('WRIT_ADMIN_TOKEN');
  const masterKey = secret('WRIT_MASTER_KEY');
  if (adminToken.length < 32) throw new ConfigError('WRIT_ADMIN_TOKEN', 'must be at least 32 characters');
  // Without WRIT_ISSUER the issuer is derived as http://localhost:PORT, which production refuses.
  if (production && !env.WRIT_ISSUER) {
    throw new ConfigError('WRIT_ISSUER', 'must be set in production to the https URL clients reach (without it the issuer would be http://localhost)');
  }

  let connectorClients: Config['connectorClients'] = {};
  if (env.WRIT_CONNECTOR_CLIENTS) {
    const clients = connectorClientsSchema.safeParse((() => { try { return JSON.parse(env.WRIT_CONNECTOR_CLIENTS); } catch { return undefined; } })());
    if (!clients.success) throw new ConfigError('WRIT_CONNECTOR_CLIENTS', 'must be JSON like {"github": {"client_id": "…", "client_secret": "…"}}');
    connectorClients = clients.data;
  }

  let connectorEndpoints: Config['connectorEndpoints'] = {};
  if (env.WRIT_CONNECTOR_ENDPOINTS) {
    const endpoints = connectorEndpointsSchema.safeParse((() => { try { return JSON.parse(env.WRIT_CONNECTOR_ENDPOINTS); } catch { return undefined; } })());
    if (!endpoints.success) {
      const issue = endpoints.error.issues[0];
      const where = issue && issue.path.length ? ` (${issue.path.join('.')}: ${issue.message})` : '';
      throw new ConfigError('WRIT_CONNECTOR_ENDPOINTS', `must be JSON like {"github": {"api_base_url": "https://…", "authorization_url": "https://…", "token_url": "https://…"}}${where}`);
    }
    connectorEndpoints = endpoints.data;
  }

  return {
    env,
    connectorClients,
    connectorEndpoints,
    allowPrivateEgress: (env.WRIT_ALLOW_PRIVATE_EGRESS ?? '').split(',').map((h) => h.trim()).filter(Boolean),
    port: env.PORT,
    host: env.HOST,
    issuer: env.WRIT_ISSUER?.replace(/\/$/, ''),
    dataDir,
    store: env.WRIT_STORE,
    mongodbUri: env.MONGODB_URI,
    adminToken,
    masterKey,
    policiesDir: resolve(env.WRIT_POLICIES),
    production,
    generatedSecrets,
    storedSecrets,
  };
}
