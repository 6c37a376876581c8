// The real `writ` command, spawned against a real Writ: output, --json, and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';

const MAIN = resolve(import.meta.dirname, '../../src/cli/main.ts');

function writ(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('admin commands against a real server: create, list, connect, dry run, keys, audit; exit codes mean something', async (t) => {
  const server = await startTestWrit();
  t.after(() => server.stop());
  // The token comes from the data dir's admin-token file when the variable is not set.
  writeFileSync(join(server.dataDir, 'admin-token'), server.adminToken);
  const env = { WRIT_URL: server.issuer, WRIT_DATA_DIR: server.dataDir };

  const created = await writ(['orgs', 'create', 'CLI Corp', '--json'], env);
  assert.equal(created.code, 0, created.stderr);
  const org = JSON.parse(created.stdout);
  assert.match(org.id, /^org_/);
  const listed = await writ(['orgs', 'list'], env);
  assert.equal(listed.code, 0);
  assert.match(listed.stdout, /ID\s+NAME/);
  assert.ok(listed.stdout.includes(org.id));

  const user = await writ(['users', 'create', 'ann', '--org', org.id, '--json'], { ...env, WRIT_USER_PASSWORD: 'a long enough password' });
  assert.equal(user.code, 0, user.stderr);
  const userId = JSON.parse(user.stdout).id as string;
  assert.ok(!user.stdout.includes('a long enough password'));
  const agent = await writ(['agents', 'create', 'Bot', '--org', org.id, '--tool', 'demo.notes.get', '--tool', 'github.issues.create'], env);
  assert.equal(agent.code, 0, agent.stderr);
  assert.match(agent.stdout, /client secret \(shown once\): \S+/);
  const agentId = /created agent (agt_\S+)/.exec(agent.stdout)![1]!;
  // A tool nothing defines is refused where it is written, with the closest real name; nothing is created.
  const typo = await writ(['agents', 'create', 'Typo', '--org', org.id, '--tool', 'demo.notes.creat'], env);
  assert.equal(typo.code, 4, typo.stderr);
  assert.match(typo.stderr, /unknown tool: demo\.notes\.creat \(did you mean demo\.notes\.create\?\)/);
  const bogus = await writ(['agents', 'create', 'Bogus', '--org', org.id, '--tool', 'github.issues.create', '--tool', 'totally.bogus', '--json'], env);
  assert.equal(bogus.code, 4, bogus.stderr);
  assert.match(bogus.stderr, /totally\.bogus \(no connector is named totally\)/);
  assert.deepEqual(JSON.parse((await writ(['agents', 'list', '--org', org.id, '--json'], env)).stdout).agents.map((a: any) => a.client_id), [agentId]);
  const widened = await fetch(`${server.issuer}/admin/v1/orgs/${org.id}/agents/${agentId}`, {
    method: 'PATCH', headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ tools: ['github.issues.create', 'github.issue.get'] }),
  });
  assert.equal(widened.status, 400);
  assert.match(((await widened.json()) as any).error_description, /github\.issue\.get \(did you mean github\.issues\.get\?\)/);

  const link = await writ(['connect', 'github', '--org', org.id, '--user', userId], env);
  assert.equal(link.code, 0, link.stderr);
  assert.ok(link.stdout.trim().startsWith(`${server.issuer}/connect/`), link.stdout);
  const accounts = await writ(['accounts', 'list', '--org', org.id, '--json'], env);
  assert.equal(JSON.parse(accounts.stdout).connected_accounts[0].status, 'pending');

  const deny = await writ(['policy', 'check', '--org', org.id, '--agent', agentId, '--tool', 'notion.pages.create'], env);
  assert.equal(deny.code, 1, 'a denied dry run fails the operation');
  assert.match(deny.stdout, /^DENY/);
  assert.match(deny.stdout, /^DENY .*\n  - outside the agent's ceiling: notion\.pages\.create\n/, 'a denial leads with what denies');
  assert.doesNotMatch(deny.stdout, /^  - tool \S+ allowed/m, 'what the policy alone allows is never read as a reason of the DENY');

  const rotated = await writ(['keys', 'rotate', '--json'], env);
  assert.equal(rotated.code, 0, rotated.stderr);
  assert.ok(Array.isArray(JSON.parse(rotated.stdout).kids));

  const query = await writ(['audit', 'query', '--org', org.id, '--type', 'agent.created', '--json'], env);
  assert.equal(JSON.parse(query.stdout).events.length, 1);
  const verify = await writ(['audit', 'verify', '--org', org.id], env);
  assert.equal(verify.code, 0);
  assert.match(verify.stdout, /chain intact: \d+ events/);
  const out = join(mkdtempSync(join(tmpdir(), 'writ-cli-')), 'audit.jsonl');
  const exported = await writ(['audit', 'export', '--org', org.id, '--out', out], env);
  assert.equal(exported.code, 0, exported.stderr);
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((e) => e.seq), lines.map((_e, i) => i + 1), 'every event, oldest first');
  assert.equal(lines[0].type, 'org.created');
  const tail = await writ(['audit', 'tail', '--org', org.id, '--limit', '2'], env);
  assert.equal(tail.stdout.trim().split('\n').length, 2);

  // Exit codes: 3 not found, 4 refused, 2 usage, 1 unreachable.
  assert.equal((await writ(['agents', 'list', '--org', 'org_nope'], env)).code, 3);
  const refused = await writ(['users', 'create', 'ann', '--org', org.id], { ...env, WRIT_USER_PASSWORD: 'a long enough password' });
  assert.equal(refused.code, 4, 'username taken');
  assert.match(refused.stderr, /conflict/);
  assert.equal((await writ(['users', 'create', 'bob', '--org', org.id], env)).code, 2, 'no password given');
  assert.equal((await writ(['orgs', 'list', '--bogus'], env)).code, 2);

  // With --json a failure is one JSON document on stderr, whatever failed, with the exit code.
  for (const [args, extra, code, error] of [
    [['agents', 'list', '--org', 'org_nope', '--json'], env, 3, 'not_found'],
    [['agents', 'create', 'X', '--org', org.id, '--tool', 'totally.bogus', '--json'], env, 4, 'invalid_request'],
    [['orgs', 'list', '--bogus', '--json'], env, 2, 'usage'],
    [['frobnicate', '--json'], env, 2, 'unknown_command'],
    [['orgs', 'list', '--json'], { WRIT_URL: 'http://127.0.0.1:9', WRIT_ADMIN_TOKEN: server.adminToken }, 1, 'unreachable'],
    [['orgs', 'list', '--json'], { WRIT_URL: server.issuer, WRIT_ADMIN_TOKEN: 'wrong-token' }, 4, 'unauthorized'],
  ] as const) {
    const failed = await writ([...args], { ...extra });
    assert.equal(failed.code, code, `${args.join(' ')}: ${failed.stderr}`);
    assert.equal(failed.stdout, '', 'nothing on stdout');
    const doc = JSON.parse(failed.stderr);
    assert.deepEqual(Object.keys(doc).sort(), ['error', 'error_description', 'exit_code']);
    assert.equal(doc.error, error, failed.stderr);
    assert.equal(doc.exit_code, code);
    assert.ok(!failed.stderr.includes(server.adminToken));
  }
  assert.equal((await writ(['frobnicate'], env)).code, 2);
  assert.equal((await writ(['orgs', 'list'], { WRIT_URL: server.issuer, WRIT_DATA_DIR: join(tmpdir(), 'writ-no-such-dir') })).code, 2, 'no admin token anywhere');
  assert.equal((await writ(['orgs', 'list'], { WRIT_URL: 'http://127.0.0.1:9', WRIT_ADMIN_TOKEN: server.adminToken })).code, 1);
  assert.equal((await writ(['orgs', 'list'], { WRIT_URL: server.issuer, WRIT_ADMIN_TOKEN: 'wrong-token' })).code, 4);
});

test('exchange and execute helpers go through the SDK', async (t) => {
  const server = await startTestWrit();
  t.after(() => server.stop());
  const seeded = await seedOrg(server);
  const run = await delegate(server, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const env = { WRIT_URL: server.issuer, WRIT_CLIENT_ID: seeded.agent.client_id, WRIT_CLIENT_SECRET: seeded.agent.client_secret, WRIT_SUBJECT_TOKEN: run.tokens!.access_token };
  const cap = await writ(['exchange', '--tool', 'demo.notes.create', '--format', 'biscuit', '--json'], env);
  assert.equal(cap.code, 0, cap.stderr);
  const json = JSON.parse(cap.stdout);
  assert.equal(json.issued_token_type, 'urn:writ:params:oauth:token-type:biscuit');
  assert.deepEqual(Object.keys(json).sort(), ['access_token', 'authorization_details', 'expires_in', 'issued_token_type', 'token_type'], 'snake_case, as the token endpoint answers');
  const wider = await writ(['exchange', '--tool', 'notion.pages.create'], env);
  assert.equal(wider.code, 4);
  assert.match(wider.stderr, /invalid_authorization_details/);
  assert.ok(!wider.stderr.includes(run.tokens!.access_token));
  // The demo connector has no such tool: exit 3, typed.
  const exec = await writ(['execute', 'demo.notes.archive', '--input', '{"title":"t","body":"b"}'], { WRIT_URL: server.issuer, WRIT_CAPABILITY: json.access_token });
  assert.equal(exec.code, 3, exec.stderr);
  assert.match(exec.stderr, /^writ: unknown_tool: /);
  assert.ok(!exec.stderr.includes(json.access_token));
  assert.equal((await writ(['execute', 'demo.notes.create', '--input', '[1]'], { WRIT_URL: server.issuer, WRIT_CAPABILITY: json.access_token })).code, 2);
});

test('policy validate: file:line errors and exit 1 for a broken file, 0 for the shipped policies, 2 for a missing dir', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'writ-policies-'));
  writeFileSync(join(dir, 'good.yaml'), readFileSync(resolve(import.meta.dirname, '../../policies/default.yaml')));
  writeFileSync(join(dir, 'broken.yaml'), 'version: 1\nrules:\n  - id: x\n    effect: allow\n    match: { tools: [1, 2\n');
  const bad = await writ(['policy', 'validate', dir]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, new RegExp(`${join(dir, 'broken.yaml').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+`));
  assert.equal((await writ(['policy', 'validate', resolve(import.meta.dirname, '../../policies')])).code, 0);
  assert.equal((await writ(['policy', 'validate', join(dir, 'nope')])).code, 2);
});

test('a bare writ prints the usage instead of starting a server; --version prints the version; writ serve --help describes serving', async () => {
  const bare = await writ([]);
  assert.equal(bare.code, 0);
  assert.match(bare.stderr, /usage: writ <command>/);
  assert.match(bare.stderr, /writ serve\s+Run the authorization server/);
  const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const version = await writ([flag]);
    assert.equal(version.code, 0);
    assert.equal(version.stdout, `writ ${pkg.version}\n`);
  }
  const serveHelp = await writ(['serve', '--help']);
  assert.equal(serveHelp.code, 0);
  assert.match(serveHelp.stdout, /Run the authorization server and executor in one process/);
  const serveJson = await writ(['serve', '--json']);
  assert.equal(serveJson.code, 2, 'serve takes no options');
  assert.match(serveJson.stderr, /takes no options/);
});
