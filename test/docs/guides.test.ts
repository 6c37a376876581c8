// The guides, run from their markdown: each marked block is run as written by bash (curl and jq as
// the admin and the agent) against a real Writ and local stand-ins for the providers, its policy
// block is the policy Writ runs, and the answers the guide says to expect (`# {...}` after a
// command) are the answers the block printed. docs/guides/approved-payment.md has its own runner
// (test/approvals/guide.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAccount, startBilling, startWritWithProviders } from '../support/providers/index.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { openConnectLink } from '../support/connect.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { ExecutorError, WritClient } from '../../src/client/index.ts';
import { httpClient } from '../support/http.ts';
import { createVerifier } from '../../src/verifier/index.ts';
import { delegate, type Seeded } from '../support/delegation.ts';

const ROOT = join(import.meta.dirname, '../..');
const hasTools = [['jq', '--version'], ['curl', '--version']].every(([tool, flag]) => spawnSync(tool!, [flag!]).status === 0);

function block(guide: string, name: string, lang = 'sh'): string {
  const found = new RegExp(`<!-- ${name}:start -->\\s*\`\`\`${lang}\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`).exec(guide);
  assert.ok(found, `the guide has its ${name} block`);
  return found[1]!;
}

/**
 * Runs blocks in one bash, in a scratch directory; fails with the output when bash does. Not
 * spawnSync: the Writ answering the script runs in this process.
 */
async function run(script: string, env: Record<string, string>): Promise<string[]> {
  const work = mkdtempSync(join(tmpdir(), 'writ-guide-'));
  try {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: work, env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(status, 0, `${stdout}\n${stderr}`);
    return stdout.replace(/\n$/, '').split('\n');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The answers a block promises: for each command line with `# {...}` after it, the JSON fragment. */
function promised(script: string): string[] {
  return script.split('\n').filter((l) => /^\S.*#\s*\{/.test(l) || /^\s*#\s*\{/.test(l)).map((l) => l.slice(l.indexOf('#') + 1).trim());
}

/** Does an actual JSON answer match a promised one, where `…` stands for anything? */
function matches(actual: string, promise: string): boolean {
  const pattern = promise.replace(/\s+—.*$/, '').replace(/\s{2,}.*$/, '');
  const re = new RegExp(`^${pattern.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(actual);
}

test('the high-value invoice guide runs as written against a local billing service', { skip: hasTools ? false : 'jq or curl is not installed (.ci/run installs them)' }, async (t) => {
  const guide = readFileSync(join(ROOT, 'docs/guides/high-value-invoice.md'), 'utf8');
  const KEY = 'sk_test_local_billing_0123456789';
  // The guide's billing service, on this machine over plain http, allow-listed as the guide says.
  const billing = await startBilling({ apiKey: KEY, invoices: [{ id: 'inv_1042', amount_due: 4200 }, { id: 'inv_1043', amount_due: 100 }], http: true });
  t.after(() => billing.close());
  const policies = mkdtempSync(join(tmpdir(), 'writ-guide-policies-'));
  t.after(() => rmSync(policies, { recursive: true, force: true }));
  copyFileSync(join(ROOT, 'policies/default.yaml'), join(policies, 'default.yaml'));
  writeFileSync(join(policies, 'invoices.yaml'), block(guide, 'invoice-policy', 'yaml'));
  const writ = await startTestWrit({ env: { WRIT_POLICIES: policies, WRIT_ALLOW_PRIVATE_EGRESS: new URL(billing.url).host } });
  t.after(() => writ.stop());

  // The common set-up and the README's first steps: an org and its user John.
  const org = (await writ.admin('POST', '/orgs', { name: 'XCorp' })).json;
  const john = { ...(await writ.admin('POST', `/orgs/${org.id}/users`, { username: 'john', password: 'correct horse battery' })).json, password: 'correct horse battery' };
  const env: Record<string, string> = {
    WRIT: writ.issuer, W: `${writ.issuer}/admin/v1`, ADMIN: `Authorization: Bearer ${writ.adminToken}`, JSON: 'content-type: application/json',
    ORG: org.id, JOHN: john.id, BILLING_URL: billing.url, BILLING_KEY: KEY,
  };
  const setup = block(guide, 'invoice-setup');

  // 2. The org registers its billing service and John's key.
  const connector = block(guide, 'invoice-connector');
  const registered = await run(`${setup}\n${connector}`, env);
  const [connectorPromise, accountPromise] = promised(connector);
  assert.ok(matches(registered[0]!, connectorPromise!), `${registered[0]} is what the guide shows: ${connectorPromise}`);
  assert.ok(matches(registered[1]!.replace(/"api_key_hint":"\w{4}"/, '"api_key_hint":"6789"'), accountPromise!), `${registered[1]} is what the guide shows: ${accountPromise}`);
  assert.equal(JSON.parse(registered[1]!).api_key_hint, KEY.slice(-4), 'the hint is the key\'s last four characters');

  // "John delegates it to the agent as usual."
  const agent = (await writ.admin('POST', `/orgs/${org.id}/agents`, { name: 'Billing agent', tools: ['billing.invoices.pay'], redirect_uris: ['http://127.0.0.1:9/callback'] })).json;
  const seeded: Seeded = { org, user: john, agent, redirect_uri: 'http://127.0.0.1:9/callback' } as Seeded;
  const delegation = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['billing.invoices.pay'] }] });
  Object.assign(env, { CLIENT_ID: agent.client_id, CLIENT_SECRET: agent.client_secret, JOHN_TOKEN: delegation.tokens!.access_token });

  // 3–5. Approve one payment, try everything, read the record.
  const approve = block(guide, 'invoice-approve');
  const tries = block(guide, 'invoice-try');
  const record = block(guide, 'invoice-record');
  const out = await run([setup, approve, tries, record].join('\n'), env);
  assert.equal(out[0], '60', 'the capability lives a minute');
  assert.ok(out.length >= 5, out.join('\n'));
  const answers = out.slice(1, 5);
  // The promise after the minute needs a minute; the four before it are each checked.
  const promises = promised(tries).slice(0, 4);
  assert.equal(promises.length, 4);
  answers.forEach((answer, i) => assert.ok(matches(answer, promises[i]!), `pay #${i + 1} answered ${answer}; the guide shows ${promises[i]}`));
  const recorded = out.slice(5).map((l) => l.split('\t')[0]);
  const recordPromise = record.split('\n').filter((l) => /^# \w+\s+cap_/.test(l)).map((l) => l.slice(2).split(/\s+/)[0]);
  assert.deepEqual(recorded, recordPromise.slice(0, 3), 'the denials on the record, oldest first, as the guide lists them');
  for (const line of out.slice(5)) assert.match(line, /\tcap_\w+$/);
  assert.deepEqual(billing.calls.map((c) => [c.path, c.token]), [['/v1/invoices/inv_1042/pay', KEY]], 'the billing service saw exactly one call, carrying John\'s key');
});

test('the injected instruction guide runs as written against a local GitHub', { skip: hasTools ? false : 'jq or curl is not installed (.ci/run installs them)' }, async (t) => {
  const guide = readFileSync(join(ROOT, 'docs/guides/injected-instruction.md'), 'utf8');
  const READ = 'github.issues.get';
  const UPDATE = 'github.issues.update';
  // The set-up the guide describes: John at XCorp and Alice at TechCorp, each delegated and connected.
  const { writ, github, close } = await startWritWithProviders({ github: true });
  t.after(close);
  const xcorp = await seedOrg(writ, { name: 'XCorp', username: 'john', tools: [READ, UPDATE] });
  const techcorp = await seedOrg(writ, { name: 'TechCorp', username: 'alice', tools: [READ, UPDATE] });
  github!.addRepo('xcorp/api', ['john-gh'], [{ number: 7, title: 'Flaky deploy' }]);
  github!.addRepo('techcorp/payroll', ['alice-gh'], [{ number: 1, title: 'Salaries 2026' }]);
  const john = await delegate(writ, xcorp, { authorization_details: [{ type: 'tool_access', tools: [READ, UPDATE], resources: ['github:repo:xcorp/api'] }] });
  await connectAccount(writ, john.browser, { org_id: xcorp.org.id, connector: 'github', user_id: xcorp.user.id, providerUser: 'john-gh' });
  const alice = await delegate(writ, techcorp, { authorization_details: [{ type: 'tool_access', tools: [READ, UPDATE], resources: ['github:repo:techcorp/payroll'] }] });
  await connectAccount(writ, alice.browser, { org_id: techcorp.org.id, connector: 'github', user_id: techcorp.user.id, providerUser: 'alice-gh' });
  const cap = await exchange(writ, xcorp.agent, { subject_token: john.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([UPDATE], { resources: ['github:repo:xcorp/api'] }) });
  assert.equal(cap.status, 200, JSON.stringify(cap.json));
  const env = {
    WRIT: writ.issuer, W: `${writ.issuer}/admin/v1`, ADMIN: `Authorization: Bearer ${writ.adminToken}`, JSON: 'content-type: application/json',
    CAP: cap.json.access_token as string, ALICE: techcorp.user.id, TECHCORP: techcorp.org.id, XCORP: xcorp.org.id,
  };
  const callsBefore = github!.calls.length;

  const attempts = block(guide, 'injected-attempts');
  const allowed = block(guide, 'injected-allowed');
  const record = block(guide, 'injected-record');
  const out = await run([attempts, allowed, record].join('\n'), env);
  const promises = [...promised(attempts), ...promised(allowed)];
  assert.equal(promises.length, 4);
  assert.ok(out.length >= 4, out.join('\n'));
  out.slice(0, 4).forEach((answer, i) => assert.ok(matches(answer, promises[i]!), `answer ${i + 1} was ${answer}; the guide shows ${promises[i]}`));
  assert.equal(github!.calls.length, callsBefore + 1, 'only the allowed call reached GitHub');
  assert.equal(github!.calls.at(-1)!.user, 'john-gh', 'as John');
  assert.equal(github!.repos.get('techcorp/payroll')!.issues.get(1)!.state, 'open');
  const rows = out.slice(4).map((l) => l.split('\t'));
  const recordPromise = record.split('\n').filter((l) => /^# \w+\s+usr_/.test(l)).map((l) => l.slice(2).split(/\s+/));
  assert.deepEqual(rows.map((r) => [r[0], r[3]]), recordPromise.map((p) => [p[0], p[3]]), 'the denials on XCorp\'s record, as the guide lists them');
  for (const r of rows) assert.equal(r[1], xcorp.user.id, 'each on John');
  for (const type of ['tool.denied', 'tool.executed']) {
    assert.deepEqual((await writ.admin('GET', `/orgs/${techcorp.org.id}/audit?type=${type}`)).json.events, [], `TechCorp's log has no ${type}`);
  }
});

test('the sub-agent guide runs as written against a local GitHub', { skip: hasTools ? false : 'jq or curl is not installed (.ci/run installs them)' }, async (t) => {
  const guide = readFileSync(join(ROOT, 'docs/guides/sub-agent.md'), 'utf8');
  const READ = 'github.issues.get';
  const { writ, github, close } = await startWritWithProviders({ github: true });
  t.after(close);
  const xcorp = await seedOrg(writ, { name: 'XCorp', username: 'john', tools: [READ, 'github.issues.update'] });
  github!.addRepo('xcorp/api', ['john-gh'], [{ number: 42, title: 'Triage me' }, { number: 43, title: 'Not for the sub-agent' }]);
  github!.addRepo('xcorp/web', ['john-gh'], [{ number: 1, title: 'Another repository' }]);
  const john = await delegate(writ, xcorp, { authorization_details: [{ type: 'tool_access', tools: [READ, 'github.issues.update'], resources: ['github:repo:xcorp/*'] }] });
  await connectAccount(writ, john.browser, { org_id: xcorp.org.id, connector: 'github', user_id: xcorp.user.id, providerUser: 'john-gh' });

  // Steps 1 and 2, the calls the guide's TypeScript makes.
  const orchestrator = new WritClient({ issuer: writ.issuer, clientId: xcorp.agent.client_id, clientSecret: xcorp.agent.client_secret });
  const held = await orchestrator.exchange({ subjectToken: john.tokens!.access_token, tool: READ, resource: 'github:repo:xcorp/api', format: 'biscuit' });
  const library = createVerifier({ issuer: writ.issuer, audience: writ.executorResource });
  t.after(() => library.close());
  const forSubAgent = await library.attenuate(held.token, { tools: [READ], constraints: { issue_number: { eq: 42 } }, expires_in: 120 });
  for (const call of ['writ.exchange({ subjectToken: johnsToken, tool: \'github.issues.get\', resource: \'github:repo:xcorp/api\', format: \'biscuit\' })', 'library.attenuate(held.token, {']) {
    assert.ok(guide.includes(call), `the guide makes the call the test makes: ${call}`);
  }
  const grant = (await writ.admin('GET', `/orgs/${xcorp.org.id}/grants`)).json.grants[0].id as string;
  const env = {
    WRIT: writ.issuer, W: `${writ.issuer}/admin/v1`, ADMIN: `Authorization: Bearer ${writ.adminToken}`, JSON: 'content-type: application/json',
    SUB: forSubAgent, ORG: xcorp.org.id, GRANT: grant,
  };
  const callsBefore = github!.calls.length;
  const use = block(guide, 'sub-agent-use');
  const revoke = block(guide, 'sub-agent-revoke');
  const out = await run([use, revoke].join('\n'), env);
  const promises = [...promised(use), ...promised(revoke)];
  assert.equal(promises.length, 5);
  // The DELETE answers 204 with no body, so the answers are the five calls', in order.
  const answers = out.filter((l) => l !== '');
  assert.equal(answers.length, promises.length, out.join('\n'));
  answers.forEach((answer, i) => assert.ok(matches(answer, promises[i]!), `answer ${i + 1} was ${answer}; the guide shows ${promises[i]}`));
  assert.equal(github!.calls.length, callsBefore + 1, 'only the one allowed read reached GitHub');
  assert.equal(github!.calls.at(-1)!.user, 'john-gh', 'as John');
});

test('the John at XCorp and Notion guide runs as written against a local Notion', { skip: hasTools ? false : 'jq or curl is not installed (.ci/run installs them)' }, async (t) => {
  const guide = readFileSync(join(ROOT, 'docs/guides/john-notion.md'), 'utf8');
  const APPROVED = '8a1f0c2e-5b7d-4e1a-9c3f-2d6b8e4a7f10';
  const ELSEWHERE = '3c9e7a51-0f2b-4d8c-a6e4-1b5f9d2c8e73';
  const { writ, notion, close } = await startWritWithProviders({
    notion: { workspaces: [{ id: 'ws-xcorp', name: 'XCorp', members: ['john'], pages: [{ id: APPROVED, title: 'Content calendar' }, { id: ELSEWHERE, title: 'Finance' }] }] },
  });
  t.after(close);
  const env: Record<string, string> = { WRIT: writ.issuer, W: `${writ.issuer}/admin/v1`, ADMIN: `Authorization: Bearer ${writ.adminToken}`, JSON: 'content-type: application/json' };

  // 1. The org, John and the agent, by the guide's own commands.
  const created = await run(`${block(guide, 'notion-setup')}\necho "$ORG $JOHN"`, env);
  const agent = JSON.parse(created[0]!) as { client_id: string; client_secret: string; tools: string[] };
  assert.deepEqual(agent.tools, ['notion.pages.create']);
  const [org, johnId] = created[1]!.split(' ') as [string, string];
  Object.assign(env, { ORG: org, JOHN: johnId, CLIENT_ID: agent.client_id, CLIENT_SECRET: agent.client_secret });

  // 2. John consents to one parent page (his browser; here the delegation helper signs in for him).
  const seeded = { org: { id: org }, user: { id: johnId, username: 'john', password: 'correct horse battery' }, agent, redirect_uri: 'http://127.0.0.1:9/callback' } as unknown as Seeded;
  const john = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['notion.pages.create'], resources: [`notion:page:${APPROVED}`] }] });
  env.JOHN_TOKEN = john.tokens!.access_token;

  // 3. John connects his own Notion through the link the guide's command prints.
  const connect = block(guide, 'notion-connect');
  const [pending] = await run(connect, env);
  assert.ok(matches(pending!.replace(writ.issuer, 'http://localhost:8080'), promised(connect)[0]!), `${pending} is what the guide shows`);
  assert.match((await openConnectLink(john.browser, JSON.parse(pending!).authorization_url, { providerUser: 'john' })).text, /is connected/);

  // 4, 5 and 7: the page as John, the refusal elsewhere, the one query.
  const create = block(guide, 'notion-create');
  const elsewhere = block(guide, 'notion-elsewhere');
  const record = block(guide, 'notion-record');
  const since = new Date(Date.now() - 3_600_000).toISOString();
  const until = new Date(Date.now() + 3_600_000).toISOString();
  const out = await run([create, elsewhere, record].join('\n'), { ...env, SINCE: since, UNTIL: until });
  const promises = [...promised(create), ...promised(elsewhere), ...promised(record)];
  assert.equal(out.length, promises.length, out.join('\n'));
  out.forEach((answer, i) => assert.ok(matches(answer, promises[i]!), `answer ${i + 1} was ${answer}; the guide shows ${promises[i]}`));
  const page = JSON.parse(out[0]!).data;
  assert.equal(notion!.pages.get(page.id)!.created_for, 'john', 'Notion saw John\'s own token');
  const query = JSON.parse(out[2]!);
  assert.deepEqual([query.org_id, query.agent, query.user, query.tool], [org, agent.client_id, johnId, 'notion.pages.create']);
});

test('the DevOps assistant guide runs as written against local GitHub, Slack and Linear', { skip: hasTools ? false : 'jq or curl is not installed (.ci/run installs them)' }, async (t) => {
  const guide = readFileSync(join(ROOT, 'docs/guides/devops-assistant.md'), 'utf8');
  const TEAM = 'team-ops';
  const { writ, github, slack, linear, close } = await startWritWithProviders({
    github: true, slack: { team: { id: 'T0XCORP', name: 'XCorp' }, channels: ['C0INCIDENTS'] }, linear: { teams: [{ id: TEAM, key: 'OPS' }] },
  });
  t.after(close);
  github!.addRepo('xcorp/api', ['john-gh'], [{ number: 42, title: 'API latency alert' }, { number: 43, title: 'Disk full' }]);
  const env: Record<string, string> = { WRIT: writ.issuer, W: `${writ.issuer}/admin/v1`, ADMIN: `Authorization: Bearer ${writ.adminToken}`, JSON: 'content-type: application/json' };

  // 1. By the guide's commands; the agent's credentials are what agent.json held.
  const setup = await run(`${block(guide, 'devops-setup')}\nprintf '\\n%s %s %s\\n' "$ORG" "$JOHN" "$AGENT"; cat agent.json; echo`, env);
  const [org, johnId, agentId] = setup.at(-2)!.split(' ') as [string, string, string];
  const agent = JSON.parse(setup.at(-1)!) as { client_id: string; client_secret: string };
  assert.equal(agent.client_id, agentId);
  Object.assign(env, { ORG: org, JOHN: johnId, AGENT: agentId });

  // 2. John approves and connects GitHub and Linear.
  const seeded = { org: { id: org }, user: { id: johnId, username: 'john', password: 'correct horse battery' }, agent, redirect_uri: 'http://127.0.0.1:9/callback' } as unknown as Seeded;
  const john = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['github.issues.update'], resources: ['github:repo:xcorp/api'] }, { type: 'tool_access', tools: ['linear.issues.create'] }] });
  await connectAccount(writ, john.browser, { org_id: org, connector: 'github', user_id: johnId, providerUser: 'john-gh' });
  await connectAccount(writ, john.browser, { org_id: org, connector: 'linear', user_id: johnId, providerUser: 'john-linear' });

  // 3. The org grant and the org's accounts; the admin opens both links signed in as ops-admin.
  const orgBlock = block(guide, 'devops-org');
  const [grantLine, slackLink, linearLink] = await run(orgBlock, env);
  assert.ok(matches(grantLine!, promised(orgBlock)[0]!), `${grantLine} is what the guide shows`);
  const adminBrowser = httpClient();
  const opsAdmin = { username: 'ops-admin', password: 'ops admin password 1' };
  assert.match((await openConnectLink(adminBrowser, slackLink!, { providerUser: 'xcorp-slack-admin', writUser: opsAdmin })).text, /is connected/);
  assert.match((await openConnectLink(adminBrowser, linearLink!, { providerUser: 'xcorp-devops-bot', writUser: opsAdmin })).text, /is connected/);

  // 4. The workflow, the calls the guide's TypeScript makes.
  const writClient = new WritClient({ issuer: writ.issuer, clientId: agent.client_id, clientSecret: agent.client_secret });
  const johnsToken = john.tokens!.access_token;
  await writClient.execute('github.issues.update', { owner: 'xcorp', repo: 'api', issue_number: 42, labels: ['incident'] },
    await writClient.exchange({ subjectToken: johnsToken, tool: 'github.issues.update', resource: 'github:repo:xcorp/api' }));
  const orgToken = (await writClient.clientCredentials()).accessToken;
  await writClient.execute('slack.chat.post_message', { channel: 'C0INCIDENTS', text: 'Incident on xcorp/api#42' }, await writClient.exchange({ subjectToken: orgToken, tool: 'slack.chat.post_message' }));
  await writClient.execute('linear.issues.create', { input: { teamId: TEAM, title: 'Post-mortem for xcorp/api#42' } }, await writClient.exchange({ subjectToken: johnsToken, tool: 'linear.issues.create' }));
  await writClient.execute('linear.issues.create', { input: { teamId: TEAM, title: 'Nightly: rotate disks' } }, await writClient.exchange({ subjectToken: orgToken, tool: 'linear.issues.create' }));

  // 5. Who acted: the rows the guide lists, John or the org, from his grant or the org grant.
  const record = block(guide, 'devops-record');
  const rows = (await run(record, env)).map((l) => l.split('\t'));
  const listed = record.split('\n').filter((l) => /^# [a-z_.]+\s+(usr_|org)/.test(l)).map((l) => l.slice(2).split(/\s+/));
  assert.deepEqual(rows.map((r) => [r[0], r[1] === johnId ? 'usr_…(John)' : r[1]]), listed.map((l) => [l[0], l[1]]));
  const orgGrant = JSON.parse(grantLine!).id;
  assert.deepEqual(rows.map((r) => r[2] === orgGrant ? 'org' : 'john'), ['john', 'org', 'john', 'org'], 'John\'s grant, then the org grant, as the guide says');

  // 6. John leaves: his capabilities die, the org's bot carries on.
  const johnsCap = await writClient.exchange({ subjectToken: johnsToken, tool: 'github.issues.update', resource: 'github:repo:xcorp/api' });
  await run(block(guide, 'devops-leave'), env);
  await assert.rejects(writClient.execute('github.issues.update', { owner: 'xcorp', repo: 'api', issue_number: 43, state: 'closed' }, johnsCap), (e: unknown) => e instanceof ExecutorError && e.code === 'invalid_token');
  const still = await writClient.execute<{ ok: boolean }>('slack.chat.post_message', { channel: 'C0INCIDENTS', text: 'still here' }, await writClient.exchange({ subjectToken: (await writClient.clientCredentials()).accessToken, tool: 'slack.chat.post_message' }));
  assert.equal(still.ok, true);
  assert.deepEqual(linear!.issues.map((i) => i.creator), ['john-linear', 'xcorp-devops-bot']);
  assert.match(slack!.calls.at(-1)!.token!, /^xoxb-/);
  assert.deepEqual(github!.repos.get('xcorp/api')!.issues.get(42)!.updated_by, ['john-gh']);
});

test('the dozen-orgs guide runs as written against a local GitHub', { skip: hasTools ? false : 'jq or curl is not installed (.ci/run installs them)' }, async (t) => {
  const guide = readFileSync(join(ROOT, 'docs/guides/dozen-orgs.md'), 'utf8');
  const TOOL = 'github.issues.get';
  const { writ, github, close } = await startWritWithProviders({ github: true });
  t.after(close);
  const env: Record<string, string> = { WRIT: writ.issuer, W: `${writ.issuer}/admin/v1`, ADMIN: `Authorization: Bearer ${writ.adminToken}`, JSON: 'content-type: application/json' };

  // 1. Twelve orgs, each with its john and its triage agent, by the guide's loop.
  const made = await run(block(guide, 'dozen-orgs'), env);
  assert.equal(made.length, 24);
  const orgs = (await writ.admin('GET', '/orgs')).json.orgs as Array<{ id: string; name: string }>;
  assert.equal(orgs.length, 12);
  const customer = (i: number) => {
    const org = orgs.find((o) => o.name === `Customer ${i}`)!;
    return { org, user: { ...JSON.parse(made[2 * i]!), password: 'correct horse battery' }, agent: JSON.parse(made[2 * i + 1]!), redirect_uri: 'https://triage.example/callback' } as unknown as Seeded;
  };
  assert.equal(new Set(made.filter((_l, i) => i % 2 === 0).map((l) => JSON.parse(l).id)).size, 12, 'twelve johns, twelve users');

  // 2. Customers 3 and 4 delegate their own repository and connect GitHub.
  const [three, four] = [customer(3), customer(4)];
  const capabilities: string[] = [];
  for (const [c, i] of [[three, 3], [four, 4]] as const) {
    github!.addRepo(`customer-${i}/triage`, [`customer-${i}-john`], [{ number: 1, title: `Customer ${i}'s first issue` }]);
    const delegation = await delegate(writ, c, { authorization_details: [{ type: 'tool_access', tools: [TOOL], resources: [`github:repo:customer-${i}/triage`] }] });
    await connectAccount(writ, delegation.browser, { org_id: c.org.id, connector: 'github', user_id: c.user.id, providerUser: `customer-${i}-john` });
    const cap = await exchange(writ, c.agent, { subject_token: delegation.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([TOOL], { resources: [`github:repo:customer-${i}/triage`] }) });
    assert.equal(cap.status, 200, JSON.stringify(cap.json));
    capabilities.push(cap.json.access_token);
  }
  Object.assign(env, { CAP_CUSTOMER_3: capabilities[0]!, ORG_4: four.org.id, JOHN_4: four.user.id, ORG_3: three.org.id });

  // 3. What the agent cannot do, and what the headers do not change.
  const attempts = block(guide, 'dozen-attempts');
  const answers = await run(attempts, env);
  const promises = promised(attempts);
  assert.equal(answers.length, promises.length);
  answers.forEach((answer, i) => assert.ok(matches(answer, promises[i]!), `answer ${i + 1} was ${answer}; the guide shows ${promises[i]}`));
  assert.deepEqual(github!.calls.map((c) => [c.path.split('?')[0], c.user]), [['/api/v3/repos/customer-3/triage/issues/1', 'customer-3-john']], 'one read, of customer 3, as customer 3\'s john');

  // 4. Each org's record holds its own events only.
  const recordBlock = block(guide, 'dozen-record');
  const [counts3, verified3] = await run(recordBlock, { ...env, ORG: three.org.id });
  const [countPromise, verifyPromise] = promised(recordBlock);
  assert.ok(matches(counts3!, countPromise!), `${counts3} is what the guide shows: ${countPromise}`);
  assert.ok(matches(verified3!, verifyPromise!), `${verified3} is what the guide shows: ${verifyPromise}`);
  const [counts4] = await run(recordBlock, { ...env, ORG: four.org.id });
  assert.equal(counts4, 'null', 'customer 4\'s log has no tool events');
});
