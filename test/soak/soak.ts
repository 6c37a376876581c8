// Soak: minutes of mixed load against a Writ child process — delegations, exchanges, executions
// through the executor (with provider tokens short enough to refresh all the time), grant
// revocations — while sampling the process's RSS and open file descriptors. Reports unexpected
// errors, memory growth and descriptor growth.
//
//   node test/soak/soak.ts [--seconds 300]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startDemoProvider } from '../../src/demo/provider/index.ts';
import { remoteWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { DEMO_CLIENT, freePort, openConnectLink } from '../support/connect.ts';
import { START_NODE_ARGS } from '../bench/servers/writ.ts';
import { untilHealthy } from '../support/process.ts';

export interface SoakSummary {
  seconds: number;
  operations: Record<string, number>;
  unexpected_errors: number;
  errors: string[];
  rss_mb: { first: number; last: number; max: number; growth_pct: number };
  /** V8 heap in use, from the process's own /metrics. */
  heap_used_mb: { first: number; last: number; max: number };
  fds: { first: number; last: number; max: number };
  refreshes: number;
}

const ROOT = join(import.meta.dirname, '../..');

function sample(pid: number): { rss_mb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  return { rss_mb: Math.round(rss * 10) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

export async function runSoak(options: { seconds?: number; log?: (line: string) => void } = {}): Promise<SoakSummary> {
  const seconds = options.seconds ?? 300;
  const log = options.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const dataDir = mkdtempSync(join(tmpdir(), 'writ-soak-'));
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  // Provider access tokens of 62 s: the refresher (60 s skew) refreshes them all the time.
  const demo = await startDemoProvider({ clients: [{ ...DEMO_CLIENT, redirect_uris: [`${issuer}/connect/callback`] }], accessTokenTtlSeconds: 62 });
  const adminToken = `soak-${randomBytes(24).toString('hex')}`;
  // Started as `npm start` starts it (same Node flags); WRIT_SOAK_NODE_ARGS adds more (profiling).
  const child = spawn(process.execPath, [...START_NODE_ARGS, ...(process.env.WRIT_SOAK_NODE_ARGS?.split(' ').filter(Boolean) ?? []), 'src/cli/main.ts', 'serve'], {
    cwd: ROOT, stdio: 'ignore',
    env: {
      PATH: process.env.PATH, PORT: String(port), WRIT_DATA_DIR: dataDir, WRIT_ADMIN_TOKEN: adminToken,
      WRIT_MASTER_KEY: `v1:${randomBytes(32).toString('base64url')}`, WRIT_LOG_LEVEL: 'error', NODE_ENV: 'test',
      WRIT_DEMO_PROVIDER_URL: demo.url, WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1', WRIT_CONNECTOR_CLIENTS: JSON.stringify({ demo: DEMO_CLIENT }),
    },
  });
  const operations: Record<string, number> = { delegations: 0, exchanges: 0, executions: 0, revocations: 0 };
  const errors: string[] = [];
  const samples: Array<{ rss_mb: number; fds: number }> = [];
  try {
    await untilHealthy(issuer, child, () => 'soak child (stdio ignored)');
    const writ = remoteWrit(issuer, adminToken);
    const seeded = await seedOrg(writ, { tools: ['demo.notes.create', 'demo.notes.list'] });
    const first = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create', 'demo.notes.list'] }] });
    const account = await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
    await openConnectLink(first.browser, account.json.authorization_url);
    const refreshesAtStart = demo.stats.refreshRequests;

    const deadline = Date.now() + seconds * 1000;
    const warm = Date.now() + Math.min(20, seconds / 5) * 1000; // memory is compared after warm-up
    const heap: number[] = [];
    const sampler = setInterval(() => {
      if (Date.now() <= warm) return;
      samples.push(sample(child.pid!));
      void fetch(`${issuer}/metrics`).then((r) => r.text()).then((text) => {
        const used = /^writ_process_heap_used_bytes (\d+)/m.exec(text)?.[1];
        if (used) heap.push(Math.round(Number(used) / 1e5) / 10);
      }).catch(() => {});
    }, 1000);
    const unexpected = (what: string, detail: unknown) => { if (errors.length < 20) errors.push(`${what}: ${String(detail).slice(0, 200)}`); };

    // Four workers, each a loop of one kind of operation.
    const worker = async (kind: 'exec' | 'cycle') => {
      let delegation = first;
      while (Date.now() < deadline) {
        try {
          if (kind === 'cycle') {
            // A fresh delegation, a few exchanges, then its grant revoked.
            delegation = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create', 'demo.notes.list'] }] });
            operations.delegations!++;
            for (let i = 0; i < 3; i++) {
              const r = await exchange(writ, seeded.agent, { subject_token: delegation.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['demo.notes.list']) });
              if (r.status !== 200) unexpected('exchange', JSON.stringify(r.json)); else operations.exchanges!++;
            }
            const grants = (await writ.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants.filter((g: any) => !g.revoked_at);
            const victim = grants.find((g: any) => g.id !== (grants.at(-1)?.id));
            if (victim) { const r = await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants/${victim.id}`); if (r.status !== 204) unexpected('revoke', r.text); else operations.revocations!++; }
          } else {
            const r = await exchange(writ, seeded.agent, { subject_token: first.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details(['demo.notes.list']) });
            if (r.status !== 200) {
              // The delegated token of `first` lives 10 minutes; beyond that, refresh it.
              if (r.json.error === 'invalid_grant') break;
              unexpected('exchange', JSON.stringify(r.json)); continue;
            }
            operations.exchanges!++;
            const res = await fetch(`${issuer}/v1/tools/demo.notes.list/execute`, {
              method: 'POST', headers: { authorization: `Bearer ${r.json.access_token}`, 'content-type': 'application/json' }, body: '{"input":{}}',
            });
            if (res.status !== 200) unexpected('execute', await res.text()); else { await res.arrayBuffer(); operations.executions!++; }
          }
        } catch (err) {
          unexpected(kind, err);
        }
      }
    };
    const progress = setInterval(() => log(`soak: ${JSON.stringify(operations)} ${JSON.stringify(samples.at(-1) ?? {})}`), 30_000);
    await Promise.all([worker('exec'), worker('exec'), worker('exec'), worker('cycle')]);
    clearInterval(sampler);
    clearInterval(progress);
    if (samples.length === 0) samples.push(sample(child.pid!));
    const rss = samples.map((s) => s.rss_mb);
    const fds = samples.map((s) => s.fds);
    const head = rss.slice(0, Math.max(1, Math.floor(rss.length / 5)));
    const tail = rss.slice(-Math.max(1, Math.floor(rss.length / 5)));
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return {
      seconds, operations, unexpected_errors: errors.length, errors,
      rss_mb: { first: rss[0]!, last: rss.at(-1)!, max: Math.max(...rss), growth_pct: Math.round(((avg(tail) - avg(head)) / avg(head)) * 1000) / 10 },
      fds: { first: fds[0]!, last: fds.at(-1)!, max: Math.max(...fds) },
      heap_used_mb: { first: heap[0] ?? 0, last: heap.at(-1) ?? 0, max: heap.length ? Math.max(...heap) : 0 },
      refreshes: demo.stats.refreshRequests - refreshesAtStart,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    await demo.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const at = process.argv.indexOf('--seconds');
  const summary = await runSoak({ seconds: at > 0 ? Number(process.argv[at + 1]) : 300 });
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  process.exitCode = summary.unexpected_errors === 0 ? 0 : 1;
}
