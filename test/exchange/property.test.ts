// Property, over HTTP against a running Writ: token exchange issues exactly what an independent
// model of rights says — request ∩ grant ∩ every ceiling ∩ policy, within the lifetimes — or
// nothing at all. The model below does not use src/rights/rights.ts: it enumerates a small universe
// of concrete actions (tool × resource × input) and compares sets of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeJwt } from 'jose';
import * as oauth from 'openid-client';
import { apiKeyConnector, startTestWrit, seedOrg } from '../support/writ.ts';
import { agentClient } from '../support/delegation.ts';
import { exchange, ACCESS_TOKEN, JWT } from '../support/exchange.ts';

const RUNS = Number(process.env.WRIT_PROPERTY_RUNS ?? 60);

// ---- The model ------------------------------------------------------------------------------

interface Constraint { eq?: number; max?: number; min?: number }
interface Detail { type: 'tool_access'; tools: string[]; resources?: string[]; constraints?: Record<string, Constraint>; expires_at?: string }

const TOOLS = ['aa.read', 'aa.write', 'bb.read', 'bb.send'];
const PATTERNS = ['r:1', 'r:2', 'r:x1', 'r:x*', 'r:*', '*'];
/** Concrete resources: at least one inside and one outside every difference of the patterns. */
const RESOURCES = ['r:1', 'r:2', 'r:x', 'r:x1', 'r:x2', 'r:3', 'q:1'];
/** A request that names no resource is decided as the resource `*` (capability/access.ts). */
const NO_RESOURCE = '*';
const ABSENT = Symbol('absent');
type Absent = typeof ABSENT;
const FIELDS: Record<'amount' | 'n', Array<number | Absent>> = {
  amount: [ABSENT, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  n: [ABSENT, -1, 0, 1, 2, 3],
};
const INPUTS: Array<Record<string, number | Absent>> = FIELDS.amount.flatMap((amount) => FIELDS.n.map((n): Record<string, number | Absent> => ({ amount, n })));
/** The policy the Writ under test runs: everything allowed, aa.write for a minute, bb.send denied. */
const POLICY = `version: 1
rules:
  - { id: allow-all, description: everything, effect: allow, match: {}, constraints: { max_ttl: 5m } }
  - { id: writes-short, description: writes live a minute, effect: allow, match: { tools: ['aa.write'] }, constraints: { max_ttl: 1m } }
  - { id: no-send, description: nobody sends, effect: deny, match: { tools: ['bb.send'] } }
`;
const maxTtl = (tools: string[]) => (tools.includes('aa.write') ? 60 : 300);
const denied = (tools: string[]) => tools.includes('bb.send');
const TOOL = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9][a-z0-9_-]*)+$/;

const globToRegExp = (p: string) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
const holds = (c: Constraint, v: number | typeof ABSENT) =>
  v !== ABSENT && (c.eq === undefined || v === c.eq) && (c.max === undefined || v <= c.max) && (c.min === undefined || v >= c.min);
const live = (ds: Detail[], now: number) => ds.filter((d) => d.expires_at === undefined || Date.parse(d.expires_at) > now);

/** Is this action allowed by these details, read as a capability is: covered by one, constrained by all naming the tool. */
function allows(ds: Detail[], tool: string, resource: string, input: Record<string, number | typeof ABSENT>): boolean {
  const naming = ds.filter((d) => d.tools.includes(tool));
  const covered = naming.some((d) => d.resources === undefined || d.resources.some((p) => globToRegExp(p).test(resource)));
  return covered && naming.every((d) => Object.entries(d.constraints ?? {}).every(([f, c]) => holds(c, input[f] ?? ABSENT)));
}

/** The set of concrete actions, as a string of bits over tools × resources × inputs. */
function actions(ds: Detail[]): string {
  let bits = '';
  for (const tool of TOOLS) for (const r of [...RESOURCES, NO_RESOURCE]) for (const input of INPUTS) bits += allows(ds, tool, r, input) ? '1' : '0';
  return bits;
}
const subset = (a: string, b: string) => [...a].every((bit, i) => bit === '0' || b[i] === '1');

type Verdict = { issue: true; rights: string; tools: string[] } | { issue: false; why: string };

/** What must happen to a request, by the model alone. */
function expected(requested: Detail[] | undefined, held: Detail[], ceilings: string[][], now: number): Verdict {
  const standing = live(held, now);
  const inCeilings = (t: string) => ceilings.every((c) => c.includes(t));
  if (requested === undefined) {
    const trimmed = standing.map((d) => ({ ...d, tools: d.tools.filter(inCeilings) })).filter((d) => d.tools.length);
    const tools = [...new Set(trimmed.flatMap((d) => d.tools))];
    if (!tools.length) return { issue: false, why: 'nothing held within the ceilings' };
    if (denied(tools)) return { issue: false, why: 'policy' };
    return { issue: true, rights: actions(trimmed), tools };
  }
  const tools = [...new Set(requested.flatMap((d) => d.tools))];
  if (tools.some((t) => !TOOL.test(t))) return { issue: false, why: 'not a tool name' };
  if (!tools.every(inCeilings)) return { issue: false, why: 'ceiling' };
  if (!tools.every((t) => standing.some((d) => d.tools.includes(t)))) return { issue: false, why: 'tool not held' };
  const rights = actions(requested);
  if (!subset(rights, actions(standing))) return { issue: false, why: 'wider than held' };
  if (denied(tools)) return { issue: false, why: 'policy' };
  return { issue: true, rights, tools };
}

// ---- Generators -----------------------------------------------------------------------------

/** Integer intervals that all contain 5 (amount) or 1 (n), so any conjunction of them is satisfiable. */
const constraintsArb = fc.record({
  amount: fc.option(fc.record({ min: fc.integer({ min: 0, max: 5 }), max: fc.integer({ min: 5, max: 10 }) }), { nil: undefined }),
  n: fc.option(fc.record({ max: fc.integer({ min: 1, max: 2 }) }), { nil: undefined }),
}).map((c) => Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) as Record<string, Constraint>);

/** bb.send, which the policy denies, comes up less often, so most cases reach an issuance. */
const heldTool = fc.oneof({ arbitrary: fc.constantFrom('aa.read', 'aa.write', 'bb.read'), weight: 20 }, { arbitrary: fc.constant('bb.send'), weight: 1 });
const heldDetail = fc.record({
  tools: fc.uniqueArray(heldTool, { minLength: 1, maxLength: 3 }),
  resources: fc.option(fc.uniqueArray(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 2 }),
  constraints: fc.option(constraintsArb, { nil: undefined, freq: 2 }),
  expired: fc.integer({ min: 0, max: 9 }).map((n) => n < 1),
}).map(({ tools, resources, constraints, expired }): Detail => ({
  type: 'tool_access', tools, ...(resources ? { resources } : {}),
  ...(constraints && Object.keys(constraints).length ? { constraints } : {}),
  ...(expired ? { expires_at: new Date(Date.now() - 3_600_000).toISOString() } : {}),
}));

/** Patterns within a held one: itself, or a narrower one from the list. */
const NARROWER: Record<string, string[]> = {
  '*': ['*', 'r:*', 'r:x*', 'r:1', 'q:1'], 'r:*': ['r:*', 'r:x*', 'r:2', 'r:x1'], 'r:x*': ['r:x*', 'r:x1', 'r:x9'],
  'r:1': ['r:1'], 'r:2': ['r:2'], 'r:x1': ['r:x1'],
};

/** A request built from what is held and allowed: a random subset, narrowed, keeping every constraint. */
function narrowedRequest(held: Detail[], ceilings: string[][], tape: number[], now: number): Detail[] | undefined {
  let i = 0;
  const pick = (n: number) => (tape[i++ % tape.length]! % n);
  const standing = live(held, now);
  const allowed = [...new Set(standing.flatMap((d) => d.tools))].filter((t) => ceilings.every((c) => c.includes(t)));
  const tools = allowed.filter(() => pick(3) > 0);
  if (!tools.length) return undefined;
  return tools.map((tool) => {
    const naming = standing.filter((d) => d.tools.includes(tool));
    const unrestricted = naming.some((d) => d.resources === undefined);
    const patterns = [...new Set(naming.flatMap((d) => d.resources ?? []))];
    let resources: string[] | undefined;
    if (!unrestricted || pick(2) === 0) {
      const base = unrestricted ? ['*'] : patterns;
      resources = [...new Set(base.filter(() => pick(4) > 0).map((p) => { const n = NARROWER[p]!; return n[pick(n.length)]!; }))];
      if (!resources.length) resources = [base[0]!];
    }
    const constraints: Record<string, Constraint> = {};
    for (const d of naming) {
      for (const [f, c] of Object.entries(d.constraints ?? {})) {
        const cur = constraints[f] ?? {};
        constraints[f] = {
          ...(c.max !== undefined || cur.max !== undefined ? { max: Math.min(c.max ?? Infinity, cur.max ?? Infinity) } : {}),
          ...(c.min !== undefined || cur.min !== undefined ? { min: Math.max(c.min ?? -Infinity, cur.min ?? -Infinity) } : {}),
        };
      }
    }
    // Sometimes stricter still: a lower maximum that stays above the minimum.
    if (constraints.amount?.max !== undefined && pick(3) === 0) constraints.amount.max = Math.max(constraints.amount.min ?? 0, constraints.amount.max - 1);
    const amount = constraints.amount;
    if (pick(5) === 0 && (amount?.max ?? 10) >= 5 && (amount?.min ?? 0) <= 5) constraints.amount = { ...amount, eq: 5 };
    return { type: 'tool_access' as const, tools: [tool], ...(resources ? { resources } : {}), ...(Object.keys(constraints).length ? { constraints } : {}) };
  });
}

/** One change that may widen a request, or may happen to stay within. */
function mutate(req: Detail[], kind: number, tape: number[]): Detail[] {
  const out = req.map((d) => structuredClone(d));
  const d = out[tape[0]! % out.length]!;
  switch (kind) {
    case 0: d.tools = [...new Set([...d.tools, TOOLS[tape[1]! % TOOLS.length]!])]; break;
    case 1: d.resources = [...(d.resources ?? []), PATTERNS[tape[1]! % PATTERNS.length]!]; break;
    case 2: delete d.resources; break;
    case 3: if (d.constraints) delete d.constraints[Object.keys(d.constraints)[0]!]; else d.tools = ['*']; break;
    case 4: if (d.constraints?.amount) { delete d.constraints.amount.eq; d.constraints.amount.max = (d.constraints.amount.max ?? 5) + 3; } else d.resources = ['q:1']; break;
    default: d.tools = [...d.tools, '*'];
  }
  return out;
}

const caseArb = fc.record({
  held: fc.array(heldDetail, { minLength: 1, maxLength: 3 }),
  extraCeiling: fc.uniqueArray(fc.constantFrom(...TOOLS), { maxLength: 2 }),
  // The other agent's ceiling: often all tools (so the presenting client's is the one that binds), else any.
  otherCeiling: fc.oneof(fc.constant(TOOLS), fc.uniqueArray(fc.constantFrom(...TOOLS), { minLength: 1, maxLength: 4 })),
  route: fc.constantFrom('direct', 'direct', 'actor', 'chain'),
  shape: fc.constantFrom('narrowed', 'narrowed', 'narrowed', 'narrowed', 'narrowed', 'implicit', 'mutated', 'mutated', 'mutated'),
  // Widening resources and dropping constraints come up most: they are the subtle ones.
  mutation: fc.constantFrom(0, 1, 1, 2, 2, 3, 3, 4, 4, 5),
  asScope: fc.boolean(),
  tape: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }),
});

// ---- The property ---------------------------------------------------------------------------

test('token exchange issues exactly what an independent model of rights allows, or nothing', async (t) => {
  const policies = mkdtempSync(join(tmpdir(), 'writ-policy-'));
  writeFileSync(join(policies, 'policy.yaml'), POLICY);
  const writ = await startTestWrit({ env: { WRIT_POLICIES: policies } });
  t.after(async () => { await writ.stop(); rmSync(policies, { recursive: true, force: true }); });
  // The org's own connectors aa and bb define the tools the generated ceilings name.
  const { org } = await seedOrg(writ, { connectors: { aa: apiKeyConnector(['read', 'write']), bb: apiKeyConnector(['read', 'send']) } });
  const agent = async (tools: string[], held: Detail[] | undefined) => {
    const a = (await writ.admin('POST', `/orgs/${org.id}/agents`, { name: 'Agent', tools })).json;
    if (held) {
      const g = await writ.admin('POST', `/orgs/${org.id}/agents/${a.client_id}/org-grants`, { authorization_details: held });
      assert.equal(g.status, 201, g.text);
    }
    return a as { client_id: string; client_secret: string };
  };
  const counts = { issued: 0, refused: 0, narrowed: 0, implicit: 0, mutated: 0 };
  const reasons = new Map<string, number>();

  await fc.assert(fc.asyncProperty(caseArb, async (c) => {
    const now = Date.now();
    const tools = [...new Set(c.held.flatMap((d) => d.tools))];
    const a = await agent([...new Set([...tools, ...c.extraCeiling])], c.held);
    const aConfig = await agentClient(writ, a);
    if (!live(c.held, now).length) {
      // Everything held has expired: client credentials has nothing to issue.
      await assert.rejects(oauth.clientCredentialsGrant(aConfig), (err: any) => err.error === 'invalid_authorization_details');
      counts.refused++;
      reasons.set('all held expired', (reasons.get('all held expired') ?? 0) + 1);
      return;
    }
    const aToken = await oauth.clientCredentialsGrant(aConfig);
    let subject = { token: aToken.access_token, type: ACCESS_TOKEN, exp: Math.floor(now / 1000) + aToken.expires_in! };
    let presenter = a;
    const extra: Record<string, string> = {};
    let held = c.held;
    let ceilings = [[...new Set([...tools, ...c.extraCeiling])]];

    if (c.route === 'actor') {
      // A presents its own token; B, whose token A holds, acts.
      const b = await agent(c.otherCeiling, [{ type: 'tool_access', tools: [c.otherCeiling[0]!] }]);
      extra.actor_token = (await oauth.clientCredentialsGrant(await agentClient(writ, b))).access_token;
      extra.actor_token_type = ACCESS_TOKEN;
      ceilings = [...ceilings, c.otherCeiling];
    } else if (c.route === 'chain') {
      // A takes all it holds as a capability; B presents that capability.
      const first = await exchange(writ, a, { subject_token: subject.token, subject_token_type: ACCESS_TOKEN });
      const firstVerdict = expected(undefined, held, ceilings, now);
      assert.equal(first.status === 200, firstVerdict.issue, `first link: ${JSON.stringify({ firstVerdict, res: first.json })}`);
      if (!firstVerdict.issue) { counts.refused++; reasons.set(`first link: ${firstVerdict.why}`, (reasons.get(`first link: ${firstVerdict.why}`) ?? 0) + 1); return; }
      assert.equal(actions(first.json.authorization_details), firstVerdict.rights, 'first link: the model\'s rights');
      held = first.json.authorization_details;
      subject = { token: first.json.access_token, type: JWT, exp: decodeJwt(first.json.access_token).exp! };
      presenter = await agent(c.otherCeiling, undefined);
      ceilings = [...ceilings, c.otherCeiling];
    }

    let requested: Detail[] | undefined;
    if (c.shape !== 'implicit') requested = narrowedRequest(held, ceilings, c.tape, now);
    if (requested && c.shape === 'mutated') requested = mutate(requested, c.mutation, c.tape);
    counts[requested === undefined ? 'implicit' : c.shape === 'mutated' ? 'mutated' : 'narrowed']++;
    const verdict = expected(requested, held, ceilings, now);

    const plain = requested?.every((d) => !d.resources && !d.constraints && d.tools.every((x) => TOOL.test(x)));
    const ask: Record<string, string> = requested === undefined ? {}
      : c.asScope && plain ? { scope: requested.flatMap((d) => d.tools).map((x) => `tool:${x}`).join(' ') }
        : { authorization_details: JSON.stringify(requested) };
    const res = await exchange(writ, presenter, { subject_token: subject.token, subject_token_type: subject.type, ...extra, ...ask });
    const context = JSON.stringify({ route: c.route, held, ceilings, requested, verdict: verdict.issue ? 'issue' : verdict, res: res.json });

    if (!verdict.issue) {
      assert.notEqual(res.status, 200, `the model refuses: ${context}`);
      assert.ok(['invalid_authorization_details', 'invalid_scope', 'access_denied'].includes(res.json.error), context);
      assert.equal(res.json.access_token, undefined);
      counts.refused++;
      reasons.set(verdict.why, (reasons.get(verdict.why) ?? 0) + 1);
      return;
    }
    assert.equal(res.status, 200, `the model issues: ${context}`);
    assert.equal(actions(res.json.authorization_details), verdict.rights, `issued rights are exactly the model's: ${context}`);
    const claims = decodeJwt(res.json.access_token);
    assert.equal(actions(claims.authorization_details as Detail[]), verdict.rights, 'the token carries the same rights');
    assert.ok(claims.exp! - claims.iat! <= maxTtl(verdict.tools), `policy lifetime: ${context}`);
    assert.ok(claims.exp! <= subject.exp, 'never outlives the subject');
    counts.issued++;
  }), { numRuns: RUNS });

  const total = counts.issued + counts.refused;
  t.diagnostic(`issued ${counts.issued}, refused ${counts.refused} (${Math.round((100 * counts.issued) / Math.max(total, 1))} % issued); requests: ${counts.narrowed} narrowed, ${counts.implicit} implicit, ${counts.mutated} mutated; refused for: ${[...reasons].map(([k, v]) => `${k} ${v}`).join(', ')}`);
  // Typically 60–70 % issue; the floor leaves room for a short run's variance.
  assert.ok(counts.issued >= total * 0.4, 'most generated cases are valid');
  assert.ok(counts.refused > 0, 'refusals are exercised too');
});
