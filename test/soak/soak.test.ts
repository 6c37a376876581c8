import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from './soak.ts';

// The five-minute soak is `node test/soak/soak.ts`; here a short run (longer under `npm run
// test:long`) proves the script and that mixed load causes no unexpected error. Memory and
// descriptor figures are reported, not asserted.
const SECONDS = Number(process.env.WRIT_SOAK_SECONDS ?? 3);

test('a short soak of mixed load: no unexpected errors', async (t) => {
  const summary = await runSoak({ seconds: SECONDS, log: () => {} });
  t.diagnostic(JSON.stringify(summary));
  assert.deepEqual(summary.errors, []);
  assert.ok(summary.operations.executions! > 0 && summary.operations.revocations! > 0 && summary.operations.delegations! > 0);
});
