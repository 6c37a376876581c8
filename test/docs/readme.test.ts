// The README's by-hand walkthrough, run as written against a real Writ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestWrit } from '../support/writ.ts';

const ROOT = join(import.meta.dirname, '../..');

function walkthrough(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /<!-- walkthrough:start -->\s*```sh\n([\s\S]*?)```\s*<!-- walkthrough:end -->/.exec(readme);
  assert.ok(section, 'README has the walkthrough block');
  return section[1]!;
}

const hasJq = spawnSync('jq', ['--version']).status === 0;

test('the README walkthrough runs as written', { skip: hasJq ? false : 'jq is not installed (.ci/run installs it)' }, async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  // Asynchronously: the server answering the script runs in this process.
  const child = spawn('bash', ['-euo', 'pipefail', '-c', walkthrough()], {
    cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, WRIT_URL: writ.issuer, WRIT_ADMIN_TOKEN: writ.adminToken },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  const status = await new Promise((resolve) => child.on('exit', resolve));
  const result = { status, stdout, stderr };
  assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  assert.match(result.stdout, /^org org_\S+, user usr_\S+, agent agt_\S+$/m);
  assert.match(result.stdout, /allow/i, 'the policy check answers allow');
  assert.match(result.stdout, /agent\.created/);
  const orgs = (await writ.admin('GET', '/orgs')).json.orgs;
  assert.equal(orgs.length, 1);
  assert.equal((await writ.admin('GET', `/orgs/${orgs[0].id}/agents`)).json.agents[0].tools[0], 'demo.notes.create');
});
