// `writ mcp settings`: an org admin's answer to external MCP clients from the command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { startTestWrit, seedOrg } from '../support/writ.ts';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

function writ(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('writ mcp settings shows and sets what external MCP clients may do in an org', async (t) => {
  const server = await startTestWrit();
  t.after(() => server.stop());
  const seeded = await seedOrg(server);
  const env = { WRIT_URL: server.issuer, WRIT_ADMIN_TOKEN: server.adminToken, WRIT_ORG: seeded.org.id };

  const initial = await writ(['mcp', 'settings'], env);
  assert.equal(initial.code, 0, initial.stderr);
  assert.match(initial.stdout, /accept: none/);

  const set = await writ(['mcp', 'settings', '--accept', 'listed', '--client', 'https://app.example/client.json', '--tool', 'demo.notes.list', '--json'], env);
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(JSON.parse(set.stdout).clients, ['https://app.example/client.json']);
  assert.deepEqual((await server.admin('GET', `/orgs/${seeded.org.id}/mcp`)).json.tools, ['demo.notes.list']);

  const refused = await writ(['mcp', 'settings', '--accept', 'listed'], env);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /at least one client/);
});
