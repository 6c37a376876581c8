import { GENESIS_HASH, hashEvent } from '../../../src/audit/chain.ts';
import { newId } from '../../../src/core/ids.ts';
import { openSqliteStore } from '../../../src/storage/sqlite/index.ts';

// A separate process for the cross-process audit test: opens the store in the given data dir
// and appends `count` events to one org's chain, yielding between appends so workers interleave.
// It opens first and appends only when told, so the race under test is the appends, not the opens.
const [dir, org_id, count, worker] = process.argv.slice(2);
if (!dir || !org_id || !count || !worker) throw new Error('usage: append-worker <dir> <org_id> <count> <worker>');

const store = openSqliteStore(dir);
// Opened: say so, then wait for the word, so every worker's appends start together.
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
process.stdin.destroy();
for (let i = 0; i < Number(count); i++) {
  await store.audit.appendAudit(org_id, (head) => {
    const base = {
      id: newId('evt'), org_id, seq: (head?.seq ?? 0) + 1, at: new Date().toISOString(), type: 'tool.executed',
      actor: { kind: 'agent', client_id: 'agt_1' }, subject: {}, details: { worker, i }, prev_hash: head?.hash ?? GENESIS_HASH,
    };
    return { ...base, hash: hashEvent(base) };
  });
  await new Promise((resolve) => setImmediate(resolve));
}
await store.close();
