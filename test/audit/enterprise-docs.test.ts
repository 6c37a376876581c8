// The SCIM, lifecycle and audit evidence commands of docs/enterprise.md, run as written (every
// `sh` block after an `enterprise-docs:run` marker, in order, under `bash -euo pipefail`) against a
// real Writ, with the real `writ` command on the path and a SIEM receiver on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { seedOrg, startTestWrit } from '../support/writ.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function blocks(): string[] {
  const page = readFileSync(join(ROOT, 'docs/enterprise.md'), 'utf8');
  return [...page.matchAll(/<!-- enterprise-docs:run -->\s*```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

const hasTools = [['jq', '--version'], ['curl', '--version'], ['bash', '--version']].every(([tool, flag]) => spawnSync(tool!, [flag!]).status === 0);

test('the enterprise page\'s SCIM, lifecycle and audit evidence commands run as written', { skip: hasTools ? false : 'jq, curl or bash is not installed (.ci/run installs them)' }, async (t) => {
  const found = blocks();
  assert.equal(found.length, 3, 'one block each for SCIM, lifecycle and audit evidence');
  const writ = await startTestWrit({ env: { WRIT_SIEM_INTERVAL: '0', WRIT_AUDIT_CHECKPOINT_INTERVAL: '0' } });
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const deliveries: string[] = [];
  const siem = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c; });
    req.on('end', () => { deliveries.push(body); res.writeHead(204).end(); });
  });
  await new Promise<void>((r) => siem.listen(0, '127.0.0.1', () => r()));
  t.after(() => new Promise<void>((r) => siem.close(() => r())));

  const dir = mkdtempSync(join(tmpdir(), 'writ-enterprise-docs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = join(dir, 'writ');
  writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" --disable-warning=ExperimentalWarning "${join(ROOT, 'src/cli/main.ts')}" "$@"\n`);
  chmodSync(bin, 0o755);
  const script = `set -euo pipefail\n${found.join('\n')}`;
  const env = {
    PATH: `${dir}:${process.env.PATH}`, HOME: dir, WRIT_URL: writ.issuer, WRIT_ADMIN_TOKEN: writ.adminToken,
    ORG: seeded.org.id, USER_ID: seeded.user.id, AGENT: seeded.agent.client_id, SIEM_URL: `http://127.0.0.1:${(siem.address() as AddressInfo).port}/ingest`,
  };
  const run = spawn('bash', ['-c', script], { cwd: dir, env });
  let output = '';
  run.stdout.on('data', (d: Buffer) => { output += d; });
  run.stderr.on('data', (d: Buffer) => { output += d; });
  const code = await new Promise<number | null>((r) => run.on('close', r));
  assert.equal(code, 0, output);
  assert.match(output, /log intact/);
  assert.ok(deliveries.length > 0, 'the SIEM received the events');
  assert.equal((await writ.admin('GET', `/orgs/${seeded.org.id}/agents/${seeded.agent.client_id}`)).status, 404, 'the agent was deleted');
});
