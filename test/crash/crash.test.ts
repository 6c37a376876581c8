// The crash test in short form for `npm test`: three SIGKILLs of a real Writ child process.
// The full run (20 kills by default): node test/crash/crash.ts --kills 20
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCrashTest } from './crash.ts';

test('SIGKILL at random moments loses nothing acknowledged and leaves a sound store', { timeout: 240_000 }, async (t) => {
  const seed = Date.now() % 2 ** 31;
  const summary = await runCrashTest({ kills: 3, seed, revocationKillChance: 0.1, log: (line) => t.diagnostic(line) });
  t.diagnostic(`seed ${seed}: ${JSON.stringify(summary.acknowledged)}`);
  assert.deepEqual(summary.problems, []);
  assert.equal(summary.lost, 0);
  assert.equal(summary.spentTwice, 0, 'no single-use capability was spent twice');
  assert.equal(summary.crashesSurvived, 3);
  // Kills inside a revocation are random here; revocation-window.test.ts makes one every time.
  t.diagnostic(`${summary.killedInRevocation} of the kills landed inside a revocation`);
  assert.equal(summary.integrity, 'ok');
  assert.ok(summary.acknowledged.grants + summary.acknowledged.exchanges > 0, 'operations were acknowledged between kills');
  assert.ok(summary.acknowledged.executions > 0, 'tool executions were acknowledged between kills');
});
