import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { WritStore } from '../../src/storage/index.ts';
import { assertIntactChain } from './suites/audit.ts';
import { runContract } from './suites/index.ts';

// The contract against the embedded store: a fresh data dir per test. A peer is a second
// openSqliteStore on the same file, which is what a second process does.
runContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-contract-'));
  const handles: WritStore[] = [openSqliteStore(dir)];
  return {
    store: handles[0]!,
    async openPeer() {
      const peer = openSqliteStore(dir);
      handles.push(peer);
      return peer;
    },
    async close() {
      for (const h of handles) await h.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const WORKER = new URL('./support/append-worker.ts', import.meta.url).pathname;

interface Worker { ready: Promise<void>; done: Promise<void>; go(): void }

function startWorker(dir: string, org_id: string, count: number, tag: string): Worker {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', WORKER, dir, org_id, String(count), tag], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`append worker ${tag} exited ${code}: ${stderr}`))));
  });
  const ready = Promise.race([new Promise<void>((resolve) => child.stdout.once('data', () => resolve())), done]);
  return { ready, done, go: () => child.stdin.end('go\n') };
}

test('sqlite: separate processes appending to one file keep one unbroken chain per org', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-contract-procs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  openSqliteStore(dir).close(); // create and migrate before the workers race
  const PER_WORKER = 40;
  // Opened one at a time, then released together: the appends are what race.
  const workers: Worker[] = [];
  for (const [org, tag] of [['org_A', 'w1'], ['org_A', 'w2'], ['org_A', 'w3'], ['org_B', 'w4']] as const) {
    const worker = startWorker(dir, org, PER_WORKER, tag);
    await worker.ready;
    workers.push(worker);
  }
  for (const worker of workers) worker.go();
  await Promise.all(workers.map((w) => w.done));
  const store = openSqliteStore(dir);
  t.after(() => store.close());
  const chainA = await store.audit.scanAudit('org_A', 0, 1000);
  assertIntactChain(chainA, 3 * PER_WORKER);
  assertIntactChain(await store.audit.scanAudit('org_B', 0, 1000), PER_WORKER);
  const byWorker = new Map<string, number>();
  for (const e of chainA) byWorker.set(String(e.details.worker), (byWorker.get(String(e.details.worker)) ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(byWorker), { w1: PER_WORKER, w2: PER_WORKER, w3: PER_WORKER });
  assert.equal(store.database.integrityCheck(), 'ok');
});
