// The start-up failures an operator causes end with one line that names the setting and what to
// do, exit code 2, and no stack trace: a port already in use, and a master key that does not open
// the data dir it is started on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { serveWrit } from '../support/workers.ts';

const ROOT = resolve(import.meta.dirname, '../..');

function serve(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'serve'], {
      cwd: ROOT, env: { PATH: process.env.PATH ?? '', WRIT_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => done({ code, stderr }));
  });
}

const problemLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('writ: '));
const noStack = (stderr: string) => !/\n\s+at /.test(stderr);

test('a port in use: one line naming PORT, exit 2', async (t) => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', () => r()));
  const port = (holder.address() as { port: number }).port;
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-port-'));
  t.after(() => { holder.close(); rmSync(dataDir, { recursive: true, force: true }); });
  const result = await serve({ PORT: String(port), HOST: '127.0.0.1', WRIT_DATA_DIR: dataDir });
  assert.equal(result.code, 2, result.stderr);
  assert.deepEqual(problemLines(result.stderr).length, 1, result.stderr);
  assert.match(problemLines(result.stderr)[0]!, new RegExp(`PORT ${port} is already in use`));
  assert.ok(noStack(result.stderr), result.stderr);
});

test('a wrong WRIT_MASTER_KEY on an existing data dir: one line naming the setting, exit 2', async (t) => {
  // A first start seals the signing keys under one master key…
  const first = await serveWrit();
  await first.stop({ keepData: true });
  t.after(() => rmSync(first.dataDir, { recursive: true, force: true }));
  // …a second start over the same data dir with another key cannot open them.
  const result = await serve({
    PORT: '0', WRIT_DATA_DIR: first.dataDir, WRIT_ADMIN_TOKEN: first.adminToken, WRIT_MASTER_KEY: `v1:${randomBytes(32).toString('base64url')}`,
  });
  assert.equal(result.code, 2, result.stderr);
  assert.equal(problemLines(result.stderr).length, 1, result.stderr);
  assert.match(problemLines(result.stderr)[0]!, /WRIT_MASTER_KEY does not open the keys sealed in/);
  assert.ok(!result.stderr.includes(first.masterKey.slice(3)), 'the key itself is never printed');
  assert.ok(noStack(result.stderr), result.stderr);
});
