// Crash test: runs grant creations, token exchanges and revocations against Writ as a child
// process (`node src/cli/main.ts serve`), kills it with SIGKILL at random moments, restarts it
// over the same data dir each time, and then checks that nothing acknowledged was lost:
// acknowledged grants exist, acknowledged revocations are still in force, every acknowledged
// capability is on the audit record, the audit chains verify and the sqlite file passes
// PRAGMA integrity_check.
//
//   node test/crash/crash.ts [--kills N] [--seed S]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import { seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, ACCESS_TOKEN, BISCUIT, JWT } from '../support/exchange.ts';

const ROOT = join(import.meta.dirname, '../..');
const NODE = process.execPath;

export interface CrashSummary {
  kills: number;
  crashesSurvived: number;
  acknowledged: { grants: number; revocations: number; exchanges: number };
  lost: number;
  problems: string[];
  integrity: string;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A small seeded generator so a failing run can be repeated with --seed. */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) / 0x100000000; };
}

interface Child { process: ChildProcess; issuer: string }

async function startChild(env: Record<string, string>): Promise<Child> {
  const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  const issuer = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`writ did not start: ${err.slice(-2000)}`)), 30_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /Writ is listening at (\S+)/.exec(err);
      if (m) { clearTimeout(timer); resolve(m[1]!); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`writ exited with ${code}: ${err.slice(-2000)}`)); });
  });
  child.stderr!.resume();
  return { process: child, issuer };
}

function kill(child: Child): Promise<void> {
  return new Promise((resolve) => {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return resolve();
    child.process.once('exit', () => resolve());
    child.process.kill('SIGKILL');
  });
}

/** The parts of TestWrit the shared helpers use, over a child process. */
function remote(issuer: string, adminToken: string): TestWrit {
  return {
    issuer,
    adminToken,
    async admin(method: string, path: string, body?: unknown) {
      const res = await fetch(`${issuer}/admin/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? null : JSON.stringify(body),
      });
      const text = await res.text();
      let json: any;
      try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
      return { status: res.status, json, text };
    },
  } as unknown as TestWrit;
}

export async function runCrashTest(options: { kills?: number; seed?: number; log?: (line: string) => void } = {}): Promise<CrashSummary> {
  const kills = options.kills ?? 20;
  const rand = random(options.seed ?? Date.now());
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-crash-'));
  const adminToken = `crash-admin-${randomBytes(24).toString('hex')}`;
  const port = await freePort();
  const env = {
    PORT: String(port), WRIT_DATA_DIR: dataDir, WRIT_ADMIN_TOKEN: adminToken,
    WRIT_MASTER_KEY: `v1:${randomBytes(32).toString('base64url')}`, WRIT_LOG_LEVEL: 'error', NODE_ENV: 'test',
  };

  const acked = { grants: new Set<string>(), revocations: new Set<string>(), exchanges: new Set<string>() };
  let crashesSurvived = 0;
  let child = await startChild(env);
  try {
    let writ = remote(child.issuer, adminToken);
    const seeded = await seedOrg(writ, { tools: ['demo.notes.create', 'demo.notes.read'] });
    const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create', 'demo.notes.read'] }] });
    if (!run.tokens) throw new Error('the setup delegation did not complete');
    const subject = run.tokens.access_token;
    const org = seeded.org.id;
    const agent = seeded.agent.client_id;

    /** One random operation; records it only once the server has answered success. */
    async function operate(): Promise<void> {
      const pick = rand();
      if (pick < 0.35) {
        const res = await writ.admin('POST', `/orgs/${org}/agents/${agent}/org-grants`, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.read'] }] });
        if (res.status === 201 || res.status === 200) acked.grants.add(res.json.id ?? res.json.grant?.id);
      } else if (pick < 0.55 && acked.grants.size > acked.revocations.size) {
        const open = [...acked.grants].filter((g) => !acked.revocations.has(g));
        const id = open[Math.floor(rand() * open.length)]!;
        const res = await writ.admin('DELETE', `/orgs/${org}/grants/${id}`);
        if (res.status >= 200 && res.status < 300) acked.revocations.add(id);
      } else {
        const res = await exchange(writ, seeded.agent, { subject_token: subject, subject_token_type: ACCESS_TOKEN, requested_token_type: rand() < 0.5 ? JWT : BISCUIT });
        if (res.status === 200) acked.exchanges.add(res.json.access_token);
      }
    }

    for (let k = 0; k < kills; k++) {
      let stop = false;
      const workers = Array.from({ length: 3 }, async () => {
        while (!stop) {
          try { await operate(); } catch { return; } // the connection died with the process
        }
      });
      await new Promise((r) => setTimeout(r, 50 + Math.floor(rand() * 400)));
      await kill(child);
      stop = true;
      await Promise.all(workers);
      child = await startChild(env);
      writ = remote(child.issuer, adminToken);
      crashesSurvived++;
      log(`kill ${k + 1}/${kills}: acknowledged ${acked.grants.size} grants, ${acked.revocations.size} revocations, ${acked.exchanges.size} exchanges`);
    }

    // Checks, against the restarted server.
    const problems: string[] = [];
    const grants = new Map<string, any>(((await writ.admin('GET', `/orgs/${org}/grants?limit=1000`)).json.grants as any[]).map((g) => [g.id, g]));
    for (const id of acked.grants) if (!grants.has(id)) problems.push(`acknowledged grant ${id} is missing`);
    for (const id of acked.revocations) if (!grants.get(id)?.revoked_at) problems.push(`acknowledged revocation of ${id} is not in force`);
    const exchanged = ((await writ.admin('GET', `/orgs/${org}/audit?type=token.exchanged&limit=1000`)).json.events as any[]).map((e) => e.subject.capability_id);
    const recorded = new Set(exchanged);
    if (recorded.size !== exchanged.length) problems.push('a capability id was recorded twice');
    const jtiOf = (token: string) => {
      if (token.includes('.')) return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
      return undefined; // Biscuit: checked through the count below
    };
    let jwtAcked = 0;
    for (const token of acked.exchanges) {
      const jti = jtiOf(token);
      if (jti === undefined) continue;
      jwtAcked++;
      if (!recorded.has(jti)) problems.push(`acknowledged capability ${jti} has no token.exchanged event`);
    }
    if (recorded.size < acked.exchanges.size) problems.push(`${acked.exchanges.size} exchanges acknowledged, ${recorded.size} on the record`);
    for (const chain of [org, '_writ']) {
      if (chain === '_writ') continue; // the deployment chain has no admin route; the org chain carries every operation here
      const verified = (await writ.admin('POST', `/orgs/${chain}/audit/verify`)).json;
      if (!verified?.ok) problems.push(`audit chain of ${chain} does not verify: ${JSON.stringify(verified)}`);
    }
    await kill(child);
    const db = new DatabaseSync(join(dataDir, 'writ.sqlite'), { readOnly: true });
    const integrity = String((db.prepare('PRAGMA integrity_check').get() as Record<string, unknown>).integrity_check);
    db.close();
    if (integrity !== 'ok') problems.push(`integrity_check: ${integrity}`);
    const lost = problems.filter((p) => /missing|not in force|no token\.exchanged|on the record/.test(p)).length;
    log(`checked ${jwtAcked} JWT capabilities by id and ${acked.exchanges.size} exchanges by count`);
    return {
      kills, crashesSurvived,
      acknowledged: { grants: acked.grants.size, revocations: acked.revocations.size, exchanges: acked.exchanges.size },
      lost, problems, integrity,
    };
  } finally {
    await kill(child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const at = (name: string) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : undefined; };
  const seed = at('--seed') ?? Date.now() % 2 ** 31;
  const summary = await runCrashTest({ kills: at('--kills') ?? 20, seed });
  process.stdout.write(
    `seed ${seed}\n` +
    `operations acknowledged: ${summary.acknowledged.grants} grant creations, ${summary.acknowledged.revocations} revocations, ${summary.acknowledged.exchanges} exchanges\n` +
    `crashes survived: ${summary.crashesSurvived}/${summary.kills}\n` +
    `sqlite integrity_check: ${summary.integrity}\n` +
    `lost: ${summary.lost}\n` +
    (summary.problems.length ? `problems:\n  ${summary.problems.join('\n  ')}\n` : ''),
  );
  process.exitCode = summary.problems.length ? 1 : 0;
}
