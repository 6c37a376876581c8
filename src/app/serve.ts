import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { startWrit } from './writ.ts';
import { ConfigError, loadConfig, type Config } from '../config/load.ts';
import { createLogger } from '../core/log.ts';
import { serveClusterMetrics } from '../ops/metrics.ts';
import { systemClock } from '../core/clock.ts';
import { KeyManager } from '../keys/manager.ts';
import { open, parseMasterKeyRing, seal, VaultCryptoError } from '../vault/crypto.ts';
import { openSqliteStore } from '../storage/sqlite/index.ts';

// `writ serve`: the authorization server and executor. With WRIT_WORKERS=N (or `auto`), a primary
// prepares the store once (migrations, first signing keys) and forks N workers that share the
// port; each is a full, stateless Writ over the shared store.

function workerCount(env: Record<string, string | undefined>): number {
  const raw = env.WRIT_WORKERS ?? '1';
  if (raw === 'auto') return availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new ConfigError('WRIT_WORKERS', 'must be a whole number from 1 to 64, or auto');
  return n;
}

/** Migrations and first keys, once, before workers race for them. */
async function prepare(config: Config): Promise<void> {
  const store = config.store === 'mongodb' ? await (await import('../storage/mongodb/index.ts')).openMongoStore(config.mongodbUri!) : openSqliteStore(config.dataDir);
  try {
    const ring = parseMasterKeyRing(config.masterKey);
    const keys = new KeyManager(store.keys, {
      seal: (plaintext, aad) => seal(ring, plaintext, aad),
      open: (sealed, aad) => open(ring, sealed, aad).toString('utf8'),
    }, systemClock);
    await keys.init();
  } finally {
    await store.close();
  }
}

/**
 * The start-up failures an operator causes and can fix, as one line naming the setting and what to
 * do; anything else is a bug and keeps its stack.
 */
function startupProblem(err: unknown, config: Config): string | undefined {
  if (err instanceof ConfigError) return `configuration error: ${err.message}`;
  if ((err as { code?: unknown } | null)?.code === 'EADDRINUSE') {
    return `PORT ${config.port} is already in use on ${config.host}: stop the process that holds it, or set PORT to a free port`;
  }
  if (err instanceof VaultCryptoError && (err.reason === 'decrypt_failed' || err.reason === 'unknown_key' || err.reason === 'malformed')) {
    return `WRIT_MASTER_KEY does not open the keys sealed in ${config.store === 'mongodb' ? 'the MongoDB store' : config.dataDir}: start with the master key this store was created with (or a key ring that still holds it; see docs/vault.md)`;
  }
  if (err instanceof VaultCryptoError && err.reason === 'invalid_key') return `configuration error: WRIT_MASTER_KEY: ${err.message}`;
  return undefined;
}

/** Runs a start-up step; an operator's mistake ends the process with one line and exit code 2. */
async function orExit<T>(config: Config, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    const problem = startupProblem(err, config);
    if (!problem) throw err;
    process.stderr.write(`writ: ${problem}\n`);
    process.exit(2);
  }
}

export async function serve(env: Record<string, string | undefined> = process.env): Promise<void> {
  let config: Config;
  let workers: number;
  try {
    config = loadConfig(env);
    workers = workerCount(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`writ: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  if (workers > 1 && cluster.isPrimary) {
    if (config.port === 0) {
      process.stderr.write('writ: configuration error: PORT: several workers need a fixed port\n');
      process.exit(2);
    }
    await orExit(config, () => prepare(config));
    // /metrics on any worker answers with every worker's metrics summed (ops/metrics.ts).
    serveClusterMetrics();
    const logger = createLogger({ level: config.env.WRIT_LOG_LEVEL });
    logger.info('starting workers', { workers });
    let stopping = false;
    for (let i = 0; i < workers; i++) cluster.fork();
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) return;
      logger.warn('worker exited; starting another', { pid: worker.process.pid, code, signal });
      cluster.fork();
    });
    const stop = () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      let left = Object.keys(cluster.workers ?? {}).length;
      if (left === 0) process.exit(0);
      cluster.on('exit', () => { if (--left === 0) process.exit(0); });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return;
  }

  const writ = await orExit(config, () => startWrit(config));
  if (cluster.isPrimary) {
    process.stderr.write(`\nWrit is listening at ${writ.issuer}\n`);
    if (config.generatedSecrets.length || config.storedSecrets.length) {
      process.stderr.write(`Development secrets are in ${config.dataDir} (admin-token, master-key).\n`);
    }
    process.stderr.write(`Next: curl -H "Authorization: Bearer $(cat ${config.dataDir}/admin-token)" ${writ.issuer}/admin/v1/orgs\n\n`);
  }
  const stop = async () => {
    await writ.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
