// Signed checkpoints of an org's audit chain, checked offline against an exported log: an edited,
// deleted or wholly rewritten log (hashes recomputed, so the chain itself verifies) is detected by
// anyone holding an earlier checkpoint. Also through the real `writ audit verify --checkpoints`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { seedOrg, startTestWrit, type TestWrit } from '../support/writ.ts';
import { checkpointPayload, verifyEvidence, type CheckpointDocument } from '../../src/audit/checkpoints.ts';
import { hashEvent } from '../../src/audit/chain.ts';
import type { AuditRecord } from '../../src/storage/ports/audit.ts';
import type { SqliteStore } from '../../src/storage/sqlite/index.ts';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

async function exported(writ: TestWrit, org_id: string): Promise<AuditRecord[]> {
  const res = await fetch(`${writ.issuer}/admin/v1/orgs/${org_id}/audit/export`, { headers: { authorization: `Bearer ${writ.adminToken}` } });
  return (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord);
}

async function published(writ: TestWrit, org_id: string): Promise<CheckpointDocument> {
  const res = await fetch(`${writ.issuer}/v1/audit/${org_id}/checkpoints`);
  assert.equal(res.status, 200);
  return res.json() as Promise<CheckpointDocument>;
}

/** Rehashes a chain from `from` on, as someone who can write the store and knows the hash rule would. */
function rechain(events: AuditRecord[], from = 0): AuditRecord[] {
  const out = events.map((e) => ({ ...e }));
  for (let i = from; i < out.length; i++) {
    const { hash: _h, ...rest } = out[i]!;
    rest.prev_hash = i === 0 ? '0'.repeat(64) : out[i - 1]!.hash;
    out[i] = { ...rest, hash: hashEvent(rest) };
  }
  return out;
}

test('checkpoints are signed on demand and published with their key; a log that matches them verifies offline', async (t) => {
  const writ = await startTestWrit({ env: { WRIT_AUDIT_CHECKPOINT_INTERVAL: '0' } });
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const org = seeded.org.id;

  const first = await writ.admin('POST', `/orgs/${org}/audit/checkpoints`);
  assert.equal(first.status, 201, first.text);
  assert.equal(first.json.org_id, org);
  assert.equal(first.json.seq, (await exported(writ, org)).length);
  assert.equal((await writ.admin('POST', `/orgs/${org}/audit/checkpoints`)).json.seq, first.json.seq, 'an unchanged chain gets no second checkpoint');
  await writ.admin('POST', `/orgs/${org}/users`, { username: 'ann', password: 'a long enough password' });
  const second = await writ.admin('POST', `/orgs/${org}/audit/checkpoints`);
  assert.equal(second.json.seq, first.json.seq + 1);

  const doc = await published(writ, org);
  assert.equal(doc.keys.keys.length, 1);
  assert.equal(doc.keys.keys[0]!.crv, 'Ed25519');
  assert.equal(doc.keys.keys[0]!.d, undefined, 'no private part is published');
  assert.deepEqual(doc.checkpoints.map((c) => c.seq), [first.json.seq, second.json.seq]);
  const result = await verifyEvidence(await exported(writ, org), doc);
  assert.deepEqual(result.problems, []);
  assert.equal(result.ok, true);
  assert.equal(result.checkpoints_checked, 2);

  // Another org has its own key and chain; an org that does not exist has no document.
  const other = await seedOrg(writ, { name: 'Other' });
  await writ.admin('POST', `/orgs/${other.org.id}/audit/checkpoints`);
  const otherDoc = await published(writ, other.org.id);
  assert.notEqual(otherDoc.keys.keys[0]!.kid, doc.keys.keys[0]!.kid);
  assert.equal((await verifyEvidence(await exported(writ, org), otherDoc)).ok, false, 'one org\'s log does not pass for another\'s');
  assert.equal((await fetch(`${writ.issuer}/v1/audit/org_nope/checkpoints`)).status, 404);
});

test('an edited, deleted or wholly rewritten log is detected against earlier checkpoints (generated edits)', async (t) => {
  const writ = await startTestWrit({ env: { WRIT_AUDIT_CHECKPOINT_INTERVAL: '0' } });
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const org = seeded.org.id;
  for (let i = 0; i < 6; i++) {
    await writ.admin('POST', `/orgs/${org}/users`, { username: `user${i}`, password: 'a long enough password' });
    if (i % 2 === 1) await writ.admin('POST', `/orgs/${org}/audit/checkpoints`);
  }
  const log = await exported(writ, org);
  const doc = await published(writ, org);
  assert.equal((await verifyEvidence(log, doc)).ok, true);
  const lastCheckpoint = doc.checkpoints.at(-1)!.seq;

  await fc.assert(fc.asyncProperty(
    fc.oneof(
      // An event's content changed, the chain left alone.
      fc.record({ kind: fc.constant('edit' as const), at: fc.nat(log.length - 1), text: fc.string({ minLength: 1 }) }),
      // The same edit, and every later hash recomputed: the chain verifies on its own.
      fc.record({ kind: fc.constant('rewrite' as const), at: fc.nat(lastCheckpoint - 1), text: fc.string({ minLength: 1 }) }),
      // Events removed from the middle.
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(log.length - 2), count: fc.integer({ min: 1, max: 3 }) }),
      // The tail cut off before the last checkpoint, the rest untouched.
      fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat(lastCheckpoint - 1) }),
    ),
    async (attack) => {
      let tampered: AuditRecord[];
      if (attack.kind === 'edit' || attack.kind === 'rewrite') {
        tampered = log.map((e, i) => (i === attack.at ? { ...e, details: { ...e.details, note: attack.text } } : e));
        if (attack.kind === 'rewrite') {
          tampered = rechain(tampered, attack.at);
          // The rewritten chain is internally consistent: only the checkpoints catch it.
          assert.deepEqual((await verifyEvidence(tampered, { ...doc, checkpoints: [] })).problems.map((p) => p.reason), ['no_checkpoints']);
        }
      } else if (attack.kind === 'delete') {
        tampered = log.filter((_, i) => i < attack.at || i >= attack.at + attack.count);
      } else {
        tampered = log.slice(0, attack.keep);
      }
      const result = await verifyEvidence(tampered, doc);
      assert.equal(result.ok, false, `${JSON.stringify(attack)} went unnoticed`);
    },
  ), { numRuns: 60 });

  // A forged checkpoint for the rewritten chain, signed with a key the attacker made, is refused
  // by a checker that pinned the org's key earlier.
  const rewritten = rechain(log.map((e, i) => (i === 1 ? { ...e, details: { forged: true } } : e)), 1);
  const forger = generateKeyPairSync('ed25519');
  const kid = doc.keys.keys[0]!.kid!;
  const forged = doc.checkpoints.map((c) => {
    const unsigned = { ...c, head_hash: rewritten[c.seq - 1]!.hash };
    return { ...unsigned, signature: sign(null, checkpointPayload(unsigned), forger.privateKey).toString('base64url') };
  });
  const forgedDoc = { ...doc, keys: { keys: [{ ...(forger.publicKey.export({ format: 'jwk' }) as Record<string, string>), kid }] }, checkpoints: forged };
  assert.equal((await verifyEvidence(rewritten, forgedDoc)).ok, true, 'self-consistent forgeries pass only when their own key is trusted');
  const pinned = await verifyEvidence(rewritten, forgedDoc, doc.keys.keys);
  assert.equal(pinned.ok, false);
  assert.ok(pinned.problems.every((p) => p.reason === 'bad_signature'));
});

test('the store rewritten whole, chain recomputed: the server\'s own verify passes, `writ audit verify --checkpoints` does not', async (t) => {
  const writ = await startTestWrit({ env: { WRIT_AUDIT_CHECKPOINT_INTERVAL: '0' } });
  t.after(() => writ.stop());
  writeFileSync(join(writ.dataDir, 'admin-token'), writ.adminToken);
  const env = { WRIT_URL: writ.issuer, WRIT_DATA_DIR: writ.dataDir };
  const seeded = await seedOrg(writ);
  const org = seeded.org.id;
  await writ.admin('POST', `/orgs/${org}/users`, { username: 'mallory', password: 'a long enough password' });
  const checkpoint = await cli(['audit', 'checkpoint', '--org', org, '--json'], env);
  assert.equal(checkpoint.code, 0, checkpoint.stderr);
  const docFile = join(writ.dataDir, 'checkpoints.json');
  writeFileSync(docFile, JSON.stringify(await published(writ, org)));
  const logFile = join(writ.dataDir, 'audit.jsonl');
  assert.equal((await cli(['audit', 'export', '--org', org, '--out', logFile], env)).code, 0);

  const ok = await cli(['audit', 'verify', '--checkpoints', docFile, '--log', logFile], {});
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /log intact/);

  // Someone with write access to the store erases the user.created event of mallory and rehashes.
  const db = (writ.store as SqliteStore).database;
  const events = await exported(writ, org);
  const victim = events.findIndex((e) => e.type === 'user.created' && (e.details as { username?: string }).username === 'mallory');
  const rewritten = rechain(events.map((e, i) => (i === victim ? { ...e, details: { username: 'someone-else', roles: ['member'] } } : e)), victim);
  for (const e of rewritten) db.run('UPDATE audit_events SET details = ?, prev_hash = ?, hash = ? WHERE org_id = ? AND seq = ?', JSON.stringify(e.details), e.prev_hash, e.hash, org, e.seq);
  assert.equal((await writ.admin('POST', `/orgs/${org}/audit/verify`)).json.ok, true, 'the rewritten chain is consistent in itself');

  // Against the server's current export (no --log), with the checkpoints saved before.
  const caught = await cli(['audit', 'verify', '--checkpoints', docFile, '--json'], env);
  assert.equal(caught.code, 1, caught.stdout + caught.stderr);
  const report = JSON.parse(caught.stdout);
  assert.equal(report.ok, false);
  assert.ok(report.problems.some((p: { reason: string }) => p.reason === 'head_mismatch'));
  // A saved log with its tail cut is caught too.
  writeFileSync(logFile, events.slice(0, -1).map((e) => JSON.stringify(e)).join('\n') + '\n');
  const truncated = await cli(['audit', 'verify', '--checkpoints', docFile, '--log', logFile], {});
  assert.equal(truncated.code, 1);
  assert.match(truncated.stdout, /log_truncated/);
});
