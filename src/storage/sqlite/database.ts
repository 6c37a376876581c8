import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

// One node:sqlite file in WAL mode. node:sqlite is synchronous: every statement runs to completion
// before the event loop moves on, so a transaction here cannot interleave with another request in
// this process; across processes, BEGIN IMMEDIATE plus busy_timeout serialises writers.

export interface Migration {
  /** The aggregate that owns the tables, e.g. `directory`. */
  aggregate: string;
  /** Increasing from 1 within the aggregate. Never edit a landed migration: add the next one. */
  version: number;
  sql: string;
}

export type Row = Record<string, SQLInputValue>;

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;

/**
 * The data dir 0700 and the database file 0600, whatever the umask and however they were left:
 * the file holds the vault's ciphertext, grants and the audit log. The file is created before
 * SQLite opens it, because SQLite creates it 0644 and gives its -wal and -shm files that mode.
 */
function createPrivately(path: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  chmodSync(dir, PRIVATE_DIR);
  closeSync(openSync(path, 'a', PRIVATE_FILE));
  chmodSync(path, PRIVATE_FILE);
}

export class SqliteDatabase {
  readonly db: DatabaseSync;
  #statements = new Map<string, ReturnType<DatabaseSync['prepare']>>();
  #depth = 0;
  #queue: Array<{ fn: () => unknown; resolve: (value: unknown) => void; reject: (error: unknown) => void }> = [];
  #flushScheduled = false;

  constructor(path: string) {
    if (path !== ':memory:') createPrivately(path);
    // The busy timeout comes first: switching to WAL takes a lock that another process opening
    // the same file at the same moment may hold.
    this.db = new DatabaseSync(path, { timeout: 5000 });
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = NORMAL');
    this.db.exec('PRAGMA foreign_keys = ON');
    // SQLite gives -wal and -shm the main file's mode; ones left by an older release are fixed here.
    if (path !== ':memory:') for (const file of [`${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, PRIVATE_FILE);
  }

  migrate(migrations: Migration[]): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      aggregate TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,
      PRIMARY KEY (aggregate, version))`);
    const applied = new Set(
      (this.db.prepare('SELECT aggregate, version FROM schema_migrations').all() as Array<{ aggregate: string; version: number }>)
        .map((r) => `${r.aggregate}@${r.version}`),
    );
    const pending = migrations
      .filter((m) => !applied.has(`${m.aggregate}@${m.version}`))
      .sort((a, b) => a.aggregate.localeCompare(b.aggregate) || a.version - b.version);
    for (const m of pending) {
      this.transaction(() => {
        this.db.exec(m.sql);
        this.run('INSERT INTO schema_migrations (aggregate, version, applied_at) VALUES (?, ?, ?)', m.aggregate, m.version, new Date().toISOString());
      });
    }
  }

  #prepare(sql: string) {
    let stmt = this.#statements.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.#statements.set(sql, stmt);
    }
    return stmt;
  }

  run(sql: string, ...params: SQLInputValue[]): { changes: number } {
    const r = this.#prepare(sql).run(...params);
    return { changes: Number(r.changes) };
  }

  get<T = Row>(sql: string, ...params: SQLInputValue[]): T | undefined {
    return this.#prepare(sql).get(...params) as T | undefined;
  }

  all<T = Row>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.#prepare(sql).all(...params) as T[];
  }

  /** Runs `fn` atomically; nested calls join the outer transaction. */
  transaction<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.db.exec('BEGIN IMMEDIATE');
    this.#depth++;
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (err) {
      this.db.exec('ROLLBACK');
      throw err;
    } finally {
      this.#depth--;
    }
  }

  /**
   * Group commit for the hot path: writes queued in one turn of the event loop share one
   * transaction (one WAL commit), each in its own savepoint so one failing write undoes only
   * itself. The promise settles after COMMIT, so nobody answers before their write is durable.
   */
  write<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#queue.splice(0);
    if (batch.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
      this.#depth++;
      try {
        for (const item of batch) {
          this.db.exec('SAVEPOINT queued_write');
          try {
            outcomes.push({ ok: true, value: item.fn() });
            this.db.exec('RELEASE queued_write');
          } catch (error) {
            this.db.exec('ROLLBACK TO queued_write');
            this.db.exec('RELEASE queued_write');
            outcomes.push({ ok: false, error });
          }
        }
        this.db.exec('COMMIT');
      } catch (err) {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
        throw err;
      } finally {
        this.#depth--;
      }
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  /** `PRAGMA integrity_check` — 'ok' when the file is sound. */
  integrityCheck(): string {
    const row = this.db.prepare('PRAGMA integrity_check').get() as { integrity_check: string };
    return row.integrity_check;
  }

  close(): void {
    // Queued writes still get their commit before the handle closes.
    if (this.#queue.length) this.#flush();
    if (this.db.isOpen) this.db.close();
  }
}

export const json = (value: unknown): string => JSON.stringify(value);
export const parse = <T>(text: unknown): T => JSON.parse(String(text)) as T;
export const optional = (value: string | undefined | null): string | null => value ?? null;
