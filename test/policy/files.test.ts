import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/core/log.ts';
import { PolicyFileError, decide, loadPolicies, watchPolicies } from '../../src/policy/index.ts';
import type { PolicyInput, PolicySet } from '../../src/policy/index.ts';

const SHIPPED = fileURLToPath(new URL('../../policies/', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function policyDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'writ-policy-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

const allowGmail = `version: 1
rules:
  - id: allow-gmail
    description: Gmail tools
    effect: allow
    match: { tools: ['gmail.*'] }
`;
const allowSlack = `version: 1
rules:
  - id: allow-slack
    description: Slack tools
    effect: allow
    match: { tools: ['slack.*'] }
`;
const brokenSlack = `version: 1
rules:
  - id: allow-slack
    description: Slack tools
    effect: allow
    match: { tools: ['slack.*'] }
    constraints:
      max_ttl: forever
`;

const input = (tool: string): PolicyInput => ({
  org_id: 'org_1',
  agent_id: 'agt_1',
  principal: { kind: 'user', id: 'usr_1' },
  audience: 'https://writ.example/executor',
  tools: [tool],
});

/** A logger that records records and lets a test wait for a message. */
function recordingLogger() {
  const records: Array<Record<string, unknown>> = [];
  const waiters: Array<{ msg: string; resolve: (r: Record<string, unknown>) => void }> = [];
  const logger = createLogger({
    level: 'debug',
    sink: (line) => {
      const record = JSON.parse(line) as Record<string, unknown>;
      records.push(record);
      for (const w of waiters.splice(0)) {
        if (w.msg === record.msg) w.resolve(record);
        else waiters.push(w);
      }
    },
  });
  const next = (msg: string) => new Promise<Record<string, unknown>>((resolve) => waiters.push({ msg, resolve }));
  return { logger, records, next };
}

function changes() {
  const seen: PolicySet[] = [];
  let wake: ((s: PolicySet) => void) | undefined;
  return {
    seen,
    onChange: (s: PolicySet) => {
      seen.push(s);
      wake?.(s);
    },
    next: () => new Promise<PolicySet>((resolve) => (wake = resolve)),
  };
}

test('the shipped directory loads default.yaml only: examples and cases are not policy', async () => {
  const set = await loadPolicies(SHIPPED);
  assert.deepEqual(set.files.map((f) => f.file), ['default.yaml']);
  assert.deepEqual(set.rules.map((r) => r.id), ['default-allow-granted']);
});

test('top-level *.yaml files load in name order; other files and sub-directories are ignored', async () => {
  const dir = await policyDir({ 'b.yaml': allowSlack, 'a.yaml': allowGmail, 'README.md': '# notes', 'schema.json': '{}' });
  await mkdir(join(dir, 'examples'));
  await writeFile(join(dir, 'examples', 'broken.yaml'), brokenSlack);
  const set = await loadPolicies(dir);
  assert.deepEqual(set.files.map((f) => f.file), ['a.yaml', 'b.yaml']);
  assert.equal(decide(set, input('slack.chat.post')).effect, 'allow');
});

test('start-up errors name the directory or the file, the line and the path', async () => {
  const rejects = async (dir: string, code: string, check?: (e: PolicyFileError) => void) => {
    await assert.rejects(loadPolicies(dir), (e: unknown) => {
      assert.ok(e instanceof PolicyFileError);
      assert.equal(e.reason, code);
      check?.(e);
      return true;
    });
  };
  await rejects(join(tmpdir(), 'writ-no-such-policy-dir'), 'POLICY_DIR_UNREADABLE');
  await rejects(await policyDir({ 'notes.txt': 'x' }), 'POLICY_DIR_EMPTY');
  await rejects(await policyDir({ 'a.yaml': allowGmail, 'deny.yml': allowSlack }), 'POLICY_FILE_EXTENSION', (e) => {
    assert.match(e.file, /deny\.yml$/);
  });
  const broken = await policyDir({ 'a.yaml': allowGmail, 'slack.yaml': brokenSlack });
  await rejects(broken, 'POLICY_SCHEMA', (e) => {
    assert.equal(e.file, join(broken, 'slack.yaml'));
    assert.equal(e.line, 8);
    assert.equal(e.path, 'rules[0].constraints.max_ttl');
    assert.ok(e.message.startsWith(`${join(broken, 'slack.yaml')}:8:`));
  });
  await rejects(await policyDir({ 'a.yaml': allowGmail, 'b.yaml': allowGmail }), 'POLICY_DUPLICATE_RULE_ID');
});

test('watchPolicies throws at start-up on a broken file', async () => {
  const dir = await policyDir({ 'slack.yaml': brokenSlack });
  const { logger } = recordingLogger();
  await assert.rejects(watchPolicies(dir, { logger }), (e: unknown) => e instanceof PolicyFileError && e.file.endsWith('slack.yaml'));
});

test('a file change reloads the policies and calls onChange', async () => {
  const dir = await policyDir({ 'gmail.yaml': allowGmail });
  const { logger } = recordingLogger();
  const watched = changes();
  const watcher = await watchPolicies(dir, { logger, onChange: watched.onChange, debounceMs: 20 });
  try {
    const before = watcher.current();
    assert.equal(decide(before, input('slack.chat.post')).effect, 'deny');

    const changed = watched.next();
    await writeFile(join(dir, 'slack.yaml'), allowSlack);
    const after = await changed;
    assert.notEqual(after.version, before.version);
    assert.equal(watcher.current(), after);
    assert.equal(decide(watcher.current(), input('slack.chat.post')).effect, 'allow');
  } finally {
    watcher.close();
  }
});

test('a broken file on reload is logged with file, line and path, and the previous set stays', async () => {
  const dir = await policyDir({ 'gmail.yaml': allowGmail });
  const log = recordingLogger();
  const watched = changes();
  const watcher = await watchPolicies(dir, { logger: log.logger, onChange: watched.onChange, debounceMs: 20 });
  try {
    const before = watcher.current();
    const failure = log.next('policy reload failed; the previous policies stay in force');
    await writeFile(join(dir, 'slack.yaml'), brokenSlack);
    const record = await failure;
    assert.equal(record.level, 'error');
    assert.equal(record.file, join(dir, 'slack.yaml'));
    assert.equal(record.line, 8);
    assert.equal(record.path, 'rules[0].constraints.max_ttl');
    assert.equal(record.error_code, 'POLICY_SCHEMA');
    assert.equal(record.policy_version, before.version);
    assert.equal(watcher.current(), before);
    assert.equal(watched.seen.length, 0);

    // Fixing the file brings the new rules in.
    const changed = watched.next();
    await writeFile(join(dir, 'slack.yaml'), allowSlack);
    await changed;
    assert.equal(decide(watcher.current(), input('slack.chat.post')).effect, 'allow');
  } finally {
    watcher.close();
  }
});

test('reload() picks up changes on demand and reports failures without throwing', async () => {
  const dir = await policyDir({ 'gmail.yaml': allowGmail });
  const { logger, records } = recordingLogger();
  const watched = changes();
  // A long debounce keeps the file watcher out of this test's way.
  const watcher = await watchPolicies(dir, { logger, onChange: watched.onChange, debounceMs: 60_000 });
  try {
    const first = watcher.current();
    const unchanged = await watcher.reload();
    assert.deepEqual([unchanged.ok, unchanged.ok && unchanged.changed], [true, false]);
    assert.equal(watched.seen.length, 0);

    await writeFile(join(dir, 'gmail.yaml'), allowGmail.replace('version: 1', 'version: 2'));
    const bumped = await watcher.reload();
    assert.ok(bumped.ok && bumped.changed);
    assert.notEqual(watcher.current().version, first.version);
    assert.equal(watched.seen.length, 1);

    await writeFile(join(dir, 'gmail.yaml'), 'version: 3\nrules:\n  - id: [\n');
    const failed = await watcher.reload();
    assert.equal(failed.ok, false);
    assert.ok(!failed.ok && failed.error.reason === 'POLICY_YAML_SYNTAX');
    assert.equal(failed.policies, watcher.current());
    assert.ok(records.some((r) => r.msg === 'policy reload failed; the previous policies stay in force' && typeof r.line === 'number'));
  } finally {
    watcher.close();
  }
});
