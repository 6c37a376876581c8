import { test } from 'node:test';
import { randomBytes } from 'node:crypto';
import { openMongoStore, type MongoStore } from '../../src/storage/mongodb/index.ts';
import { runContract } from './suites/index.ts';

// The same contract against MongoDB, wherever MONGODB_URI points (a standalone mongod, a replica
// set or a sharded cluster). Every store gets its own database, named for this run, dropped on
// close; a peer is a second client on that database.
const uri = process.env.MONGODB_URI;

if (!uri) {
  test('MongoDB contract suite', { skip: 'MongoDB contract suite not run: MONGODB_URI is not set' }, () => {});
} else {
  const run = `writ_contract_${process.pid}_${randomBytes(3).toString('hex')}`;
  let opened = 0;
  runContract('mongodb', async () => {
    const dbName = `${run}_${++opened}`;
    const handles: MongoStore[] = [await openMongoStore(uri, { dbName })];
    const store = handles[0]!;
    return {
      store,
      async openPeer() {
        const peer = await openMongoStore(uri, { dbName });
        handles.push(peer);
        return peer;
      },
      async close() {
        try {
          await store.db.dropDatabase();
        } finally {
          for (const h of handles) await h.close();
        }
      },
    };
  });
}
