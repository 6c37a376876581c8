// Story 3 — A dozen orgs, one triage agent (docs/guides/dozen-orgs.md).
// Twelve orgs each connect their own GitHub; every org has a user named john. Under concurrent
// load across all of them, whatever owner, repo or ids the agent passes, no call ever lands in
// another org's repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutorError } from '../../src/client/index.ts';
import { delegate, type Seeded } from '../support/delegation.ts';
import { seedOrg } from '../support/writ.ts';
import { connectAccount, startWritWithProviders } from '../support/providers/index.ts';
import { executeRaw, sdk } from './helpers.ts';

const ORGS = 12;
const CALLS_PER_ORG = 20;
const TOOL = 'github.issues.get';

test('twelve orgs, one triage agent: no call ever lands in another org\'s repository', async (t) => {
  const { writ, github, close } = await startWritWithProviders({ github: true });
  t.after(close);

  const tenants: Array<{ seeded: Seeded; repo: string; login: string; cap: string }> = [];
  for (let i = 0; i < ORGS; i++) {
    const seeded = await seedOrg(writ, { name: `Customer ${i}`, username: 'john', tools: [TOOL] });
    const repo = `customer-${i}/triage`;
    const login = `customer-${i}-john`;
    github!.addRepo(repo, [login], [{ number: 1, title: `Customer ${i}'s first issue` }]);
    const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL], resources: [`github:repo:${repo}`] }] });
    await connectAccount(writ, run.browser, { org_id: seeded.org.id, connector: 'github', user_id: seeded.user.id, providerUser: login });
    const cap = await sdk(writ, seeded.agent).exchange({ subjectToken: run.tokens!.access_token, tool: TOOL, resource: `github:repo:${repo}` });
    tenants.push({ seeded, repo, login, cap: cap.token });
  }
  assert.equal(new Set(tenants.map((x) => x.seeded.user.username)).size, 1, 'every org has a john');
  assert.equal(new Set(tenants.map((x) => x.seeded.user.id)).size, ORGS, 'and each john is a different user');

  // Each org's agent makes 20 calls at once with all the others: every other one names another
  // org's repository, and some carry another org's user and org ids where a model might put them.
  const attempts = tenants.flatMap((mine, i) => Array.from({ length: CALLS_PER_ORG }, (_, k) => {
    const other = tenants[(i + 1 + (k % (ORGS - 1))) % ORGS]!;
    const target = k % 2 === 0 ? mine.repo : other.repo;
    const [owner, repo] = target.split('/') as [string, string];
    return { i, own: target === mine.repo, other, owner, repo, mode: k % 4 };
  }));
  const results = await Promise.all(attempts.map(async (a) => {
    const mine = tenants[a.i]!;
    const input = { owner: a.owner, repo: a.repo, issue_number: 1 };
    if (a.mode === 3) {
      // The request names the other org's john everywhere a client could put an identity.
      const res = await executeRaw(writ, TOOL, mine.cap, { input }, {
        headers: { 'x-user-id': a.other.seeded.user.id, 'x-org-id': a.other.seeded.org.id },
        query: `?user_id=${a.other.seeded.user.id}&org_id=${a.other.seeded.org.id}`,
      });
      return { a, status: res.status, code: res.json.error?.code as string | undefined, data: res.json.data };
    }
    try {
      return { a, status: 200, code: undefined, data: await sdk(writ, mine.seeded.agent).execute<any>(TOOL, input, mine.cap) };
    } catch (err) {
      if (!(err instanceof ExecutorError)) throw err;
      return { a, status: err.status, code: err.code as string, data: undefined };
    }
  }));

  await t.test('calls to the org\'s own repository succeed, with the org\'s own GitHub token', () => {
    const own = results.filter((r) => r.a.own);
    assert.equal(own.length, ORGS * CALLS_PER_ORG / 2);
    for (const r of own) {
      assert.equal(r.status, 200, `${r.code}`);
      assert.equal(r.data.title, `Customer ${r.a.i}'s first issue`);
    }
  });

  await t.test('calls naming another org\'s repository are refused before GitHub is asked', () => {
    const foreign = results.filter((r) => !r.a.own);
    assert.equal(foreign.length, ORGS * CALLS_PER_ORG / 2);
    for (const r of foreign) assert.equal(r.code, 'insufficient_scope');
  });

  await t.test('at GitHub: every call carried the token of the org whose repository it read, and nothing else arrived', () => {
    assert.equal(github!.calls.length, ORGS * CALLS_PER_ORG / 2);
    for (const call of github!.calls) {
      const tenant = tenants.find((x) => x.login === call.user);
      assert.ok(tenant, 'a token GitHub knows');
      assert.equal(call.path, `/api/v3/repos/${tenant.repo}/issues/1`);
      assert.equal(call.status, 200);
    }
    const perOrg = new Map<string, number>();
    for (const call of github!.calls) perOrg.set(call.user!, (perOrg.get(call.user!) ?? 0) + 1);
    assert.deepEqual([...perOrg.values()], Array(ORGS).fill(CALLS_PER_ORG / 2));
  });

  await t.test('each org\'s audit trail holds its own calls and refusals, and nobody else\'s', async () => {
    for (const [i, mine] of tenants.entries()) {
      const events = (await writ.admin('GET', `/orgs/${mine.seeded.org.id}/audit?limit=1000`)).json.events as any[];
      const executed = events.filter((e) => e.type === 'tool.executed');
      const denied = events.filter((e) => e.type === 'tool.denied');
      assert.equal(executed.length, CALLS_PER_ORG / 2, `org ${i}`);
      assert.equal(denied.length, CALLS_PER_ORG / 2, `org ${i}`);
      for (const e of [...executed, ...denied]) assert.equal(e.subject.user_id, mine.seeded.user.id);
      assert.equal((await writ.admin('POST', `/orgs/${mine.seeded.org.id}/audit/verify`)).json.ok, true);
    }
  });

  await t.test('a capability for another org\'s repository cannot even be issued', async () => {
    const [a, b] = tenants as [typeof tenants[0], typeof tenants[0]];
    const run = await delegate(writ, a.seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL], resources: [`github:repo:${a.repo}`] }] });
    await assert.rejects(sdk(writ, a.seeded.agent).exchange({ subjectToken: run.tokens!.access_token, tool: TOOL, resource: `github:repo:${b.repo}` }));
  });
});
