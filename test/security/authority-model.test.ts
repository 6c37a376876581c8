// Model-based test of authority across two Writ processes over one store. fast-check generates
// sequences of delegations, token exchanges, sub-agent exchanges, offline Biscuit attenuation,
// refreshes and every way authority ends that has an entry point (grant revocation, refresh-token
// revocation at RFC 7009, refresh-token reuse, sub-agent deletion), with worker restarts in
// between. After every step each capability ever issued in the run is presented to the executor,
// to introspection (at either process) and to a verifier library following the revocation feed;
// each must accept exactly what an independent model says is alive.
//
//   WRIT_MODEL_RUNS=N (default 3) sets the number of generated sequences; the long suite raises it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { startDemoProvider, type DemoProvider } from '../../src/demo/provider/index.ts';
import { createVerifier, type Verifier } from '../../src/verifier/index.ts';
import { remoteWrit, seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate, type Seeded } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, BISCUIT, JWT, type Client } from '../support/exchange.ts';
import { DEMO_CLIENT, freePort, openConnectLink } from '../support/connect.ts';
import { untilHealthy } from '../support/process.ts';

const ROOT = join(import.meta.dirname, '../..');
const RUNS = Number(process.env.WRIT_MODEL_RUNS ?? 3);
const TOOL = 'demo.notes.list';
const RESOURCE = 'demo:notes';
const SUB_AGENTS = 3;
/** How long a feed-following verifier may take to learn a revocation (DESIGN invariant 5: seconds). */
const FEED_BOUND_MS = 5000;

// ---------------------------------------------------------------------------------------------
// Two `writ serve` processes on one data dir, one issuer.

interface Worker { port: number; child?: ChildProcess; output: string }

class Cluster {
  readonly dataDir = mkdtempSync(join(tmpdir(), 'writ-model-'));
  readonly policies = mkdtempSync(join(tmpdir(), 'writ-model-policies-'));
  readonly adminToken = `model-admin-${randomBytes(24).toString('hex')}`;
  readonly masterKey = `v1:${randomBytes(32).toString('base64url')}`;
  readonly workers: Worker[] = [];
  issuer = '';
  demo!: DemoProvider;

  async start(): Promise<void> {
    copyFileSync(join(ROOT, 'policies/default.yaml'), join(this.policies, 'default.yaml'));
    const ports = [await freePort(), await freePort()];
    this.issuer = `http://localhost:${ports[0]}`;
    this.demo = await startDemoProvider({ clients: [{ ...DEMO_CLIENT, redirect_uris: [`${this.issuer}/connect/callback`] }] });
    for (const port of ports) this.workers.push({ port, output: '' });
    // The first process migrates the store and makes the first keys; the second finds them.
    await this.spawn(0);
    await this.spawn(1);
  }

  url(worker: number): string { return `http://localhost:${this.workers[worker]!.port}`; }

  async spawn(i: number): Promise<void> {
    const w = this.workers[i]!;
    w.output = '';
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', 'src/cli/main.ts', 'serve'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH, PORT: String(w.port), WRIT_ISSUER: this.issuer, WRIT_DATA_DIR: this.dataDir,
        WRIT_POLICIES: this.policies, WRIT_ADMIN_TOKEN: this.adminToken, WRIT_MASTER_KEY: this.masterKey,
        WRIT_LOG_LEVEL: 'warn', WRIT_DEMO_PROVIDER_URL: this.demo.url, WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1',
        WRIT_CONNECTOR_CLIENTS: JSON.stringify({ demo: DEMO_CLIENT }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => { w.output += d; });
    child.stderr!.on('data', (d) => { w.output += d; });
    w.child = child;
    await untilHealthy(this.url(i), child, () => `worker ${i}: ${w.output}`);
  }

  /** SIGKILL: nothing is in flight between steps, and a hard stop is the harsher restart. */
  async restart(i: number): Promise<void> {
    await this.kill(i);
    await this.spawn(i);
  }

  async kill(i: number): Promise<void> {
    const child = this.workers[i]!.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    for (let i = 0; i < this.workers.length; i++) await this.kill(i);
    await this.demo?.close();
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(this.policies, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The model: plain data and a few rules, written from DESIGN.md, sharing no code with Writ.

interface GrantModel { alive: boolean; refreshRotated: boolean }
interface CapabilityModel {
  format: 'jwt' | 'biscuit';
  grant: number;
  /** Every agent whose authority the capability rests on: holder first, then each actor. */
  chain: string[];
  parent?: number;
  attenuated: boolean;
}
interface Model {
  grants: GrantModel[];
  capabilities: CapabilityModel[];
  deletedAgents: Set<string>;
  /** Disabled now: they cannot authenticate; re-enabling them brings back nothing that ended. */
  disabledAgents: Set<string>;
  /** Capabilities ended by a lifecycle step (an agent in their chain disabled), by index. */
  ended: Set<number>;
  /** John disabled: every grant of his ended, and he cannot delegate. */
  userDisabled: boolean;
  subAgents: string[];
}

function isAlive(m: Readonly<Model>, c: CapabilityModel): boolean {
  if (!m.grants[c.grant]!.alive) return false;
  if (m.ended.has(m.capabilities.indexOf(c))) return false;
  if (c.chain.some((agent) => m.deletedAgents.has(agent))) return false;
  return c.parent === undefined || isAlive(m, m.capabilities[c.parent]!);
}

// ---------------------------------------------------------------------------------------------
// The real system, as seen from outside.

interface GrantReal { id: string; access_token: string; refresh_token: string; previous_refresh?: string }
interface Real {
  cluster: Cluster;
  writ: TestWrit;
  seeded: Seeded;
  agents: Map<string, Client>;
  grants: GrantReal[];
  tokens: string[];
  verifier: Verifier;
  log: string[];
}

const basic = (c: Client) => `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString('base64')}`;

async function tokenEndpoint(url: string, client: Client, path: string, form: Record<string, string>) {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : {} };
}

/** Checks every capability of the run against the model, at the executor, introspection and the feed follower. */
async function checkAll(m: Readonly<Model>, r: Real, step: string): Promise<void> {
  for (let i = 0; i < m.capabilities.length; i++) {
    const cap = m.capabilities[i]!;
    const token = r.tokens[i]!;
    const alive = isAlive(m, cap);
    const label = `${step}: capability #${i} (${cap.format}${cap.attenuated ? ', attenuated' : ''}, chain ${cap.chain.length}) should be ${alive ? 'alive' : 'dead'}`;
    const worker = i % 2;

    const executed = await fetch(`${r.cluster.url(worker)}/v1/tools/${TOOL}/execute`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: {} }),
    });
    const body = await executed.text();
    if (alive) assert.equal(executed.status, 200, `${label} at the executor of worker ${worker}: ${body}`);
    else assert.ok(executed.status === 401 || executed.status === 403, `${label} at the executor of worker ${worker}: ${executed.status} ${body}`);

    const introspected = await tokenEndpoint(r.cluster.url(1 - worker), r.agents.get(r.seeded.agent.client_id)!, '/introspect', { token });
    assert.equal(introspected.status, 200);
    assert.equal(introspected.json.active, alive, `${label} at introspection of worker ${1 - worker}`);

    // The feed follower: alive must verify now; dead must be refused within the feed's bound.
    const started = performance.now();
    for (;;) {
      let accepted: boolean;
      try { await r.verifier.verify(token, { tool: TOOL, resource: RESOURCE }); accepted = true; } catch { accepted = false; }
      if (accepted === alive) break;
      if (alive || performance.now() - started > FEED_BOUND_MS) assert.equal(accepted, alive, `${label} at the feed-following verifier`);
      await new Promise((res) => setTimeout(res, 25));
    }
  }
}

type Cmd = fc.AsyncCommand<Model, Real>;

class Delegate implements Cmd {
  check() { return true; }
  async run(m: Model, r: Real) {
    const run = await delegate(r.writ, r.seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
    if (m.userDisabled) {
      assert.equal(run.tokens, undefined, 'a disabled user cannot delegate');
      r.log.push('DelegateRefused');
      return;
    }
    assert.ok(run.tokens?.access_token && run.tokens.refresh_token, `delegation: ${run.last.status} ${run.last.text.slice(0, 300)}`);
    const listed = await r.writ.admin('GET', `/orgs/${r.seeded.org.id}/grants`);
    const known = new Set(r.grants.map((g) => g.id));
    const fresh = (listed.json.grants as Array<{ id: string }>).filter((g) => !known.has(g.id));
    assert.equal(fresh.length, 1, 'one new grant per consent');
    r.grants.push({ id: fresh[0]!.id, access_token: run.tokens.access_token, refresh_token: run.tokens.refresh_token! });
    m.grants.push({ alive: true, refreshRotated: false });
    r.log.push('delegate');
    await checkAll(m, r, 'after delegate');
  }
  toString() { return 'Delegate'; }
}

class Exchange implements Cmd {
  readonly grant: number;
  readonly worker: number;
  readonly format: 'jwt' | 'biscuit';
  constructor(grant: number, worker: number, format: 'jwt' | 'biscuit') { this.grant = grant; this.worker = worker; this.format = format; }
  check(m: Readonly<Model>) { return m.grants.length > 0; }
  async run(m: Model, r: Real) {
    const g = this.grant % m.grants.length;
    const res = await exchange({ issuer: r.cluster.url(this.worker) } as TestWrit, r.seeded.agent, {
      subject_token: r.grants[g]!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([TOOL]),
      ...(this.format === 'biscuit' ? { requested_token_type: BISCUIT } : {}),
    });
    r.log.push(this.toString());
    if (!m.grants[g]!.alive) {
      assert.equal(res.status, 400, `exchange from a dead grant: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error, 'invalid_grant');
      return;
    }
    assert.equal(res.status, 200, `exchange: ${JSON.stringify(res.json)}`);
    m.capabilities.push({ format: this.format, grant: g, chain: [r.seeded.agent.client_id], attenuated: false });
    r.tokens.push(res.json.access_token);
    await checkAll(m, r, this.toString());
  }
  toString() { return `Exchange(grant ${this.grant}, worker ${this.worker}, ${this.format})`; }
}

class SubAgentExchange implements Cmd {
  readonly parent: number;
  readonly sub: number;
  readonly worker: number;
  readonly format: 'jwt' | 'biscuit';
  constructor(parent: number, sub: number, worker: number, format: 'jwt' | 'biscuit') { this.parent = parent; this.sub = sub; this.worker = worker; this.format = format; }
  #pick(m: Readonly<Model>) {
    // Attenuated Biscuits are presented, never exchanged; a chain stays three agents deep at most.
    const candidates = m.capabilities.map((c, i) => ({ c, i })).filter(({ c }) => !c.attenuated && c.chain.length < 3);
    return candidates.length ? candidates[this.parent % candidates.length]! : undefined;
  }
  check(m: Readonly<Model>) {
    const picked = this.#pick(m);
    return !!picked && !picked.c.chain.includes(m.subAgents[this.sub]!);
  }
  async run(m: Model, r: Real) {
    const { c: parent, i } = this.#pick(m)!;
    const subId = m.subAgents[this.sub]!;
    const res = await exchange({ issuer: r.cluster.url(this.worker) } as TestWrit, r.agents.get(subId)!, {
      subject_token: r.tokens[i]!, subject_token_type: parent.format === 'biscuit' ? BISCUIT : JWT,
      ...(this.format === 'biscuit' ? { requested_token_type: BISCUIT } : {}),
    });
    r.log.push(this.toString());
    if (m.deletedAgents.has(subId) || m.disabledAgents.has(subId)) {
      assert.equal(res.status, 401, `a deleted agent authenticates: ${JSON.stringify(res.json)}`);
      return;
    }
    const child: CapabilityModel = { format: this.format, grant: parent.grant, chain: [subId, ...parent.chain], parent: i, attenuated: false };
    if (!isAlive(m, parent)) {
      assert.equal(res.status, 400, `exchange of a dead capability: ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error, 'invalid_grant');
      return;
    }
    assert.equal(res.status, 200, `sub-agent exchange: ${JSON.stringify(res.json)}`);
    m.capabilities.push(child);
    r.tokens.push(res.json.access_token);
    await checkAll(m, r, this.toString());
  }
  toString() { return `SubAgentExchange(capability ${this.parent}, sub ${this.sub}, worker ${this.worker}, ${this.format})`; }
}

class Attenuate implements Cmd {
  readonly parent: number;
  constructor(parent: number) { this.parent = parent; }
  #pick(m: Readonly<Model>) {
    const biscuits = m.capabilities.map((c, i) => ({ c, i })).filter(({ c }) => c.format === 'biscuit');
    return biscuits.length ? biscuits[this.parent % biscuits.length]! : undefined;
  }
  check(m: Readonly<Model>) { return !!this.#pick(m); }
  async run(m: Model, r: Real) {
    const { c: parent, i } = this.#pick(m)!;
    // Offline: no request reaches Writ. The new block only restricts.
    const narrowed = await r.verifier.attenuate(r.tokens[i]!, { tools: [TOOL], resources: [RESOURCE] });
    m.capabilities.push({ format: 'biscuit', grant: parent.grant, chain: parent.chain, parent: i, attenuated: true });
    r.tokens.push(narrowed);
    r.log.push(this.toString());
    await checkAll(m, r, this.toString());
  }
  toString() { return `Attenuate(capability ${this.parent})`; }
}

/** A step on one of the grants that `eligible` picks (the n-th of them, modulo their number), at one process. */
abstract class GrantStep implements Cmd {
  readonly grant: number;
  readonly worker: number;
  constructor(grant: number, worker: number) { this.grant = grant; this.worker = worker; }
  abstract readonly name: string;
  eligible(g: GrantModel): boolean { return g.alive; }
  abstract act(m: Model, r: Real, i: number): Promise<void>;
  check(m: Readonly<Model>) { return m.grants.some((g) => this.eligible(g)); }
  async run(m: Model, r: Real) {
    const picked = m.grants.map((g, i) => ({ g, i })).filter(({ g }) => this.eligible(g));
    await this.act(m, r, picked[this.grant % picked.length]!.i);
    r.log.push(this.toString());
    await checkAll(m, r, this.toString());
  }
  toString() { return `${this.name}(${this.grant}, worker ${this.worker})`; }
}

class RevokeGrant extends GrantStep {
  readonly name = 'RevokeGrant';
  async act(m: Model, r: Real, i: number) {
    const res = await remoteWrit(r.cluster.url(this.worker), r.cluster.adminToken).admin('DELETE', `/orgs/${r.seeded.org.id}/grants/${r.grants[i]!.id}`);
    assert.equal(res.status, 204, res.text);
    m.grants[i]!.alive = false;
  }
}

class Refresh extends GrantStep {
  readonly name = 'Refresh';
  async act(m: Model, r: Real, i: number) {
    const real = r.grants[i]!;
    const res = await tokenEndpoint(r.cluster.url(this.worker), r.seeded.agent, '/token', { grant_type: 'refresh_token', refresh_token: real.refresh_token });
    assert.equal(res.status, 200, `refresh: ${JSON.stringify(res.json)}`);
    real.previous_refresh = real.refresh_token;
    real.refresh_token = res.json.refresh_token;
    real.access_token = res.json.access_token;
    m.grants[i]!.refreshRotated = true;
  }
}

/** RFC 7009: revoking the refresh token ends the grant it belongs to, and so everything derived. */
class RevokeRefreshToken extends GrantStep {
  readonly name = 'RevokeRefreshToken';
  async act(m: Model, r: Real, i: number) {
    const res = await tokenEndpoint(r.cluster.url(this.worker), r.seeded.agent, '/revoke', { token: r.grants[i]!.refresh_token, token_type_hint: 'refresh_token' });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    m.grants[i]!.alive = false;
  }
}

/** A rotated-out refresh token presented again: the family is compromised, the grant ends. */
class ReuseRefreshToken extends GrantStep {
  readonly name = 'ReuseRefreshToken';
  override eligible(g: GrantModel) { return g.alive && g.refreshRotated; }
  async act(m: Model, r: Real, i: number) {
    const res = await tokenEndpoint(r.cluster.url(this.worker), r.seeded.agent, '/token', { grant_type: 'refresh_token', refresh_token: r.grants[i]!.previous_refresh! });
    assert.equal(res.status, 400, JSON.stringify(res.json));
    assert.equal(res.json.error, 'invalid_grant');
    m.grants[i]!.alive = false;
  }
}

class DeleteSubAgent implements Cmd {
  readonly sub: number;
  readonly worker: number;
  constructor(sub: number, worker: number) { this.sub = sub; this.worker = worker; }
  check(m: Readonly<Model>) { return !m.deletedAgents.has(m.subAgents[this.sub]!); }
  async run(m: Model, r: Real) {
    const id = m.subAgents[this.sub]!;
    const res = await remoteWrit(r.cluster.url(this.worker), r.cluster.adminToken).admin('DELETE', `/orgs/${r.seeded.org.id}/agents/${encodeURIComponent(id)}`);
    assert.equal(res.status, 204, res.text);
    m.deletedAgents.add(id);
    m.disabledAgents.delete(id);
    r.log.push(this.toString());
    await checkAll(m, r, this.toString());
  }
  toString() { return `DeleteSubAgent(${this.sub}, worker ${this.worker})`; }
}

/** The lifecycle: a sub-agent disabled ends every capability it holds or that was delegated through it. */
class DisableSubAgent implements Cmd {
  readonly sub: number;
  readonly worker: number;
  constructor(sub: number, worker: number) { this.sub = sub; this.worker = worker; }
  check(m: Readonly<Model>) { const id = m.subAgents[this.sub]!; return !m.deletedAgents.has(id) && !m.disabledAgents.has(id); }
  async run(m: Model, r: Real) {
    const id = m.subAgents[this.sub]!;
    const res = await remoteWrit(r.cluster.url(this.worker), r.cluster.adminToken).admin('POST', `/orgs/${r.seeded.org.id}/agents/${encodeURIComponent(id)}/disable`);
    assert.equal(res.status, 200, res.text);
    m.disabledAgents.add(id);
    m.capabilities.forEach((c, i) => { if (c.chain.includes(id)) m.ended.add(i); });
    r.log.push(this.toString());
    await checkAll(m, r, this.toString());
  }
  toString() { return `DisableSubAgent(${this.sub}, worker ${this.worker})`; }
}

class EnableSubAgent implements Cmd {
  readonly sub: number;
  readonly worker: number;
  constructor(sub: number, worker: number) { this.sub = sub; this.worker = worker; }
  check(m: Readonly<Model>) { return m.disabledAgents.has(m.subAgents[this.sub]!); }
  async run(m: Model, r: Real) {
    const id = m.subAgents[this.sub]!;
    const res = await remoteWrit(r.cluster.url(this.worker), r.cluster.adminToken).admin('POST', `/orgs/${r.seeded.org.id}/agents/${encodeURIComponent(id)}/enable`);
    assert.equal(res.status, 200, res.text);
    m.disabledAgents.delete(id);
    r.log.push(this.toString());
    await checkAll(m, r, this.toString());
  }
  toString() { return `EnableSubAgent(${this.sub}, worker ${this.worker})`; }
}

/** The lifecycle (as SCIM deprovisioning does it): John disabled ends every grant of his, and he cannot delegate again. */
class DisableUser implements Cmd {
  readonly worker: number;
  constructor(worker: number) { this.worker = worker; }
  check(m: Readonly<Model>) { return !m.userDisabled; }
  async run(m: Model, r: Real) {
    const res = await remoteWrit(r.cluster.url(this.worker), r.cluster.adminToken).admin('POST', `/orgs/${r.seeded.org.id}/users/${r.seeded.user.id}/disable`);
    assert.equal(res.status, 200, res.text);
    m.userDisabled = true;
    for (const g of m.grants) g.alive = false;
    r.log.push(this.toString());
    await checkAll(m, r, this.toString());
  }
  toString() { return `DisableUser(worker ${this.worker})`; }
}

class RestartWorker implements Cmd {
  readonly worker: number;
  constructor(worker: number) { this.worker = worker; }
  check() { return true; }
  async run(m: Model, r: Real) {
    await r.cluster.restart(this.worker);
    r.log.push(this.toString());
    await checkAll(m, r, this.toString());
  }
  toString() { return `RestartWorker(${this.worker})`; }
}

const worker = fc.integer({ min: 0, max: 1 });
const index = fc.nat({ max: 50 });
const format = fc.constantFrom<'jwt' | 'biscuit'>('jwt', 'biscuit');
// Weights keep sequences long and interesting: authority is created more often than it ends,
// and a restart (the slowest step) is rare.
const commands = [
  { weight: 3, arbitrary: fc.constant(new Delegate()) },
  { weight: 5, arbitrary: fc.tuple(index, worker, format).map(([g, w, f]) => new Exchange(g, w, f)) },
  { weight: 4, arbitrary: fc.tuple(index, fc.nat({ max: SUB_AGENTS - 1 }), worker, format).map(([p, s, w, f]) => new SubAgentExchange(p, s, w, f)) },
  { weight: 2, arbitrary: index.map((p) => new Attenuate(p)) },
  { weight: 2, arbitrary: fc.tuple(index, worker).map(([g, w]) => new Refresh(g, w)) },
  { weight: 1, arbitrary: fc.tuple(index, worker).map(([g, w]) => new RevokeGrant(g, w)) },
  { weight: 1, arbitrary: fc.tuple(index, worker).map(([g, w]) => new RevokeRefreshToken(g, w)) },
  { weight: 1, arbitrary: fc.tuple(index, worker).map(([g, w]) => new ReuseRefreshToken(g, w)) },
  { weight: 1, arbitrary: fc.tuple(fc.nat({ max: SUB_AGENTS - 1 }), worker).map(([s, w]) => new DeleteSubAgent(s, w)) },
  { weight: 1, arbitrary: fc.tuple(fc.nat({ max: SUB_AGENTS - 1 }), worker).map(([s, w]) => new DisableSubAgent(s, w)) },
  { weight: 1, arbitrary: fc.tuple(fc.nat({ max: SUB_AGENTS - 1 }), worker).map(([s, w]) => new EnableSubAgent(s, w)) },
  { weight: 1, arbitrary: worker.map((w) => new DisableUser(w)) },
  { weight: 1, arbitrary: worker.map((w) => new RestartWorker(w)) },
];

test('authority over two processes: executor, introspection and a feed follower accept exactly what the model says is alive', { timeout: 30 * 60_000 }, async (t) => {
  const cluster = new Cluster();
  t.after(() => cluster.stop());
  await cluster.start();
  const writ = remoteWrit(cluster.issuer, cluster.adminToken);
  let runs = 0;
  let steps = 0;
  let lastLog: string[] = [];
  const tally = new Map<string, number>();

  await fc.assert(
    fc.asyncProperty(fc.array(fc.oneof(...commands), { minLength: 8, maxLength: 16 }), async (cmds) => {
      const setup = async () => {
        // Each sequence runs in a fresh org, so the model starts empty while the processes live on.
        const seeded = await seedOrg(writ, { name: `Org ${runs}`, tools: [TOOL] }) as unknown as Seeded;
        const agents = new Map<string, Client>([[seeded.agent.client_id, seeded.agent]]);
        const subAgents: string[] = [];
        for (let i = 0; i < SUB_AGENTS; i++) {
          const sub = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name: `Sub-agent ${i}`, tools: [TOOL] })).json;
          agents.set(sub.client_id, sub);
          subAgents.push(sub.client_id);
        }
        // John's demo notes account, connected once through a consent of its own, so the executor can spend it.
        const first = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
        assert.ok(first.tokens, 'the first delegation');
        const created = await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
        assert.match((await openConnectLink(first.browser, created.json.authorization_url)).text, /is connected/);
        const verifier = createVerifier({ issuer: cluster.issuer, audience: `${cluster.issuer}/executor`, feed: { wait: 1 } });
        const listed = await writ.admin('GET', `/orgs/${seeded.org.id}/grants`);
        const real: Real = {
          cluster, writ, seeded, agents, grants: [], tokens: [], verifier, log: [],
        };
        // The connect consent's grant is part of the model too.
        real.grants.push({ id: listed.json.grants[0].id, access_token: first.tokens.access_token, refresh_token: first.tokens.refresh_token ?? '' });
        const model: Model = { grants: [{ alive: true, refreshRotated: false }], capabilities: [], deletedAgents: new Set(), disabledAgents: new Set(), ended: new Set(), userDisabled: false, subAgents };
        lastLog = real.log;
        return { model, real };
      };
      runs++;
      let verifier: Verifier | undefined;
      try {
        await fc.asyncModelRun(async () => {
          const s = await setup();
          verifier = s.real.verifier;
          return s;
        }, cmds);
      } finally {
        steps += lastLog.length;
        for (const entry of lastLog) { const name = entry.replace(/\(.*/, ''); tally.set(name, (tally.get(name) ?? 0) + 1); }
        verifier?.close();
      }
    }),
    { numRuns: RUNS, endOnFailure: true },
  );
  t.diagnostic(`${runs} sequences, ${steps} steps, over two processes: ${[...tally].map(([k, v]) => `${k} ${v}`).join(', ')}`);
});
