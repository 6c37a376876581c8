import { setTimeout as sleep } from 'node:timers/promises';
import type { Collection, Db } from 'mongodb';
import { WritError } from '../../errors/index.ts';
import type { RevocationEntry, RevocationFeedStore } from '../ports/revocation-feed.ts';
import { isDuplicateKey, KeyedQueue, type IndexPlan } from './database.ts';

// The public revocation feed: deployment-wide, one global order.
//
// Feed positions must be handed out in the order entries become visible, or a follower could
// read position 11, move its cursor past 10, and never see 10. So an entry is inserted at
// head + 1 only after the head was read: the unique index on `position` turns a race into a
// retry, and position order is commit order. A floor document remembers the highest position
// ever used, so purging the newest entries never lets a position be handed out twice.

export interface RevocationDoc extends RevocationEntry { position: number }

export interface FeedFloorDoc { _id: string; position: number }

const FEED_POSITION_INDEX = 'revocations_position';
export const FEED_FLOOR_ID = 'revocations';
const MAX_APPEND_ATTEMPTS = 64;

export const revocationFeedIndexes: IndexPlan[] = [
  {
    collection: 'revocations',
    indexes: [
      { key: { position: 1 }, name: FEED_POSITION_INDEX, unique: true },
      { key: { expires: 1 }, name: 'revocations_expires' },
    ],
  },
];

export class MongoRevocationFeedStore implements RevocationFeedStore {
  readonly #revocations: Collection<RevocationDoc>;
  readonly #floor: Collection<FeedFloorDoc>;
  readonly #queue = new KeyedQueue();

  constructor(db: Db) {
    this.#revocations = db.collection<RevocationDoc>('revocations');
    this.#floor = db.collection<FeedFloorDoc>('feed_floor');
  }

  async appendRevocations(entries: RevocationEntry[]) {
    await this.#queue.run(FEED_FLOOR_ID, async () => {
      for (const e of entries) await this.#appendOne(e);
    });
  }

  /**
   * The highest position used. The newest entry is read before the floor, in that order: a purge
   * raises the floor before it deletes, so whichever side of the purge the first read lands on,
   * the head is seen.
   */
  async #head(): Promise<number> {
    const last = await this.#revocations.findOne(
      {}, { sort: { position: -1 }, projection: { _id: 0, position: 1 }, readConcern: { level: 'local' } });
    const floor = await this.#floor.findOne({ _id: FEED_FLOOR_ID }, { readConcern: { level: 'local' } });
    return Math.max(last?.position ?? 0, floor?.position ?? 0);
  }

  async #appendOne(e: RevocationEntry): Promise<void> {
    for (let attempt = 1; attempt <= MAX_APPEND_ATTEMPTS; attempt++) {
      const position = (await this.#head()) + 1;
      try {
        await this.#revocations.insertOne({ position, id: e.id, type: e.type, at: e.at, expires: e.expires });
        return;
      } catch (err) {
        if (!isDuplicateKey(err, FEED_POSITION_INDEX)) throw err;
        await sleep(Math.random() * Math.min(50, 2 ** attempt));
      }
    }
    throw new WritError('temporarily_unavailable', 'the revocation feed is busy, try again', { debug: { attempts: MAX_APPEND_ATTEMPTS } });
  }

  async listRevocations(cursor: number, limit: number) {
    // The cursor is the last entry handed out, never the head: the head is read apart from the
    // page (and with read concern local), so an entry at or below it may not be visible to this
    // majority read yet, and a cursor moved to the head would pass it for good.
    const docs = limit <= 0 ? [] : await this.#revocations.find({ position: { $gt: cursor } }).sort({ position: 1 }).limit(limit).toArray();
    const last = docs.at(-1);
    if (!last) return { entries: [], cursor };
    return {
      entries: docs.map((d): RevocationEntry => ({ id: d.id, type: d.type, at: d.at, expires: d.expires })),
      cursor: last.position,
    };
  }

  async purgeRevocations(nowSeconds: number) {
    // Raise the floor to the current head before deleting, so the head is remembered even when
    // the newest entries are the ones that go.
    const head = await this.#head();
    if (head > 0) {
      await this.#floor.updateOne({ _id: FEED_FLOOR_ID }, { $max: { position: head } }, { upsert: true });
    }
    return (await this.#revocations.deleteMany({ expires: { $lt: nowSeconds } })).deletedCount;
  }
}
