import { MongoServerError, type Db, type Document, type IndexDescription } from 'mongodb';
import { WritError } from '../../errors/index.ts';

// Shared plumbing for the MongoDB adapter: index plans, duplicate-key recognition, and the
// `$set`/`$unset` split that keeps optional fields absent rather than null.
//
// `_id` is left to the driver (an ObjectId per document) and never read back: every record has
// a natural key of its own, enforced by a unique index that leads with `org_id` wherever a
// tenant applies, and every mapper picks the port's fields by name, so `_id` cannot leak out.
// Documents are always built fresh, so the driver adding `_id` in place never touches a caller's
// object.

/** The indexes one collection needs; created idempotently at start-up. */
export interface IndexPlan {
  collection: string;
  indexes: IndexDescription[];
}

export const DUPLICATE_KEY = 11000;

/** True for E11000; with `index`, only when that index (by name) is the one violated. */
export function isDuplicateKey(err: unknown, index?: string): boolean {
  if (!(err instanceof MongoServerError) || err.code !== DUPLICATE_KEY) return false;
  if (index === undefined) return true;
  return err.message.includes(`index: ${index} `) || err.message.endsWith(`index: ${index}`);
}

/** Maps a unique-index violation to `conflict`; anything else is rethrown untouched. */
export function rethrowAsConflict(err: unknown, description: string): never {
  if (isDuplicateKey(err)) throw new WritError('conflict', description, { cause: err });
  throw err;
}

/**
 * Upserts on a unique key can race: two writers both miss, both insert, one gets E11000. The
 * loser's retry finds the winner's document and updates it, which is what it meant to do.
 */
export async function retryOnDuplicate<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return write();
  }
}

/**
 * Splits a flat field map into `$set` (defined values) and `$unset` (undefined ones), leaving
 * out an empty operator: servers before 5.0 refuse `{ $unset: {} }`.
 */
export function setAndUnset(fields: Record<string, unknown>, extra: Document = {}): Document {
  const $set: Document = {};
  const $unset: Document = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) $unset[key] = '';
    else $set[key] = value;
  }
  const update: Document = { ...extra };
  if (Object.keys($set).length > 0) update.$set = { ...$set, ...(extra.$set as Document | undefined) };
  if (Object.keys($unset).length > 0) update.$unset = { ...$unset, ...(extra.$unset as Document | undefined) };
  return update;
}

/** Creates every planned index; a same-named index with other options fails start-up by name. */
export async function ensureIndexes(db: Db, plans: IndexPlan[]): Promise<void> {
  for (const plan of plans) {
    try {
      await db.collection(plan.collection).createIndexes(plan.indexes);
    } catch (err) {
      const names = plan.indexes.map((i) => i.name).join(', ');
      throw new Error(
        `MongoDB could not create the indexes of collection "${plan.collection}" (${names}); ` +
        'an existing index with the same name but other options has to be dropped or migrated first',
        { cause: err },
      );
    }
  }
}

/**
 * Runs tasks one after another per key, in call order. Used where a store step is "read the
 * head, then insert the next": this process's writers then never race each other, and the
 * unique index and retry only arbitrate between processes.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => { if (this.#tails.get(key) === tail) this.#tails.delete(key); });
    return result;
  }
}

/** Values Writ stores as JSON text: maps whose keys come from callers (dots and `$` allowed). */
export const json = (value: unknown): string => JSON.stringify(value);
export const parse = <T>(text: string): T => JSON.parse(text) as T;
