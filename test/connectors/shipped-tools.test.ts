// Every tool of the shipped Notion, GitHub, Slack and Linear connectors runs once, through the
// shipped definitions (only the base URLs change), against a local stand-in speaking the
// provider's dialect; Gmail, Google Calendar and HubSpot are run by google-hubspot.test.ts, and
// the demo connector by the quickstart story. Together they are every shipped tool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadShippedDefinitions } from '../../src/connectors/catalog.ts';
import { seedOrg, type TestWrit } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN } from '../support/exchange.ts';
import { connectAccount, startWritWithProviders } from '../support/providers/index.ts';

const HERE = ['notion', 'github', 'slack', 'linear'];
const ELSEWHERE = ['gmail', 'google_calendar', 'hubspot'];
const SHIPPED = loadShippedDefinitions();
const TOOLS = SHIPPED.filter((d) => HERE.includes(d.name)).flatMap((d) => Object.keys(d.tools).map((t) => `${d.name}.${t}`));
const PAGE = '8a1f0c2e-5b7d-4e1a-9c3f-2d6b8e4a7f10';

async function execute(writ: TestWrit, tool: string, capability: string, input: unknown) {
  const res = await fetch(`${writ.issuer}/v1/tools/${tool}/execute`, {
    method: 'POST', headers: { authorization: `Bearer ${capability}`, 'content-type': 'application/json' }, body: JSON.stringify({ input }),
  });
  return { status: res.status, json: (await res.json()) as any };
}

test('the shipped connectors are all run against stand-ins: these four here, the Google ones and HubSpot beside', () => {
  assert.deepEqual(SHIPPED.map((d) => d.name).sort(), [...HERE, ...ELSEWHERE].sort());
});

test('every Notion, GitHub, Slack and Linear tool runs once against its stand-in, as the user who connected', async (t) => {
  const { writ, notion, github, slack, linear, close } = await startWritWithProviders({
    notion: { workspaces: [{ id: 'ws-xcorp', name: 'XCorp', members: ['john'], pages: [{ id: PAGE, title: 'Content calendar' }] }] },
    github: true,
    slack: { team: { id: 'T0XCORP', name: 'XCorp' }, channels: ['C0GENERAL', 'C0INCIDENTS'] },
    linear: { teams: [{ id: 'team-ops', key: 'OPS' }] },
  });
  t.after(close);
  github!.addRepo('xcorp/api', ['john-gh'], [{ number: 1, title: 'First issue' }]);
  const seeded = await seedOrg(writ, { tools: TOOLS });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: TOOLS }] });
  for (const [connector, providerUser] of [['notion', 'john'], ['github', 'john-gh'], ['slack', 'john-slack'], ['linear', 'john-linear']] as const) {
    await connectAccount(writ, run.browser, { org_id: seeded.org.id, connector, user_id: seeded.user.id, providerUser });
  }
  const ran = new Set<string>();
  const call = async (tool: string, input: unknown) => {
    const cap = await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([tool]) });
    assert.equal(cap.status, 200, JSON.stringify(cap.json));
    const res = await execute(writ, tool, cap.json.access_token, input);
    assert.equal(res.status, 200, `${tool}: ${JSON.stringify(res.json)}`);
    ran.add(tool);
    return res.json.data;
  };

  const page = await call('notion.pages.create', { parent: { page_id: PAGE }, properties: { title: [{ text: { content: 'Launch notes' } }] } });
  assert.equal(notion!.pages.get(page.id)!.created_for, 'john');
  assert.equal((await call('notion.pages.get', { page_id: page.id })).id, page.id);
  assert.deepEqual((await call('notion.search', { query: 'launch' })).results.map((p: { id: string }) => p.id), [page.id]);

  const issue = await call('github.issues.create', { owner: 'xcorp', repo: 'api', title: 'Second issue' });
  assert.equal((await call('github.issues.get', { owner: 'xcorp', repo: 'api', issue_number: issue.number })).title, 'Second issue');
  assert.equal((await call('github.issues.update', { owner: 'xcorp', repo: 'api', issue_number: issue.number, state: 'closed' })).state, 'closed');

  assert.equal((await call('slack.chat.post_message', { channel: 'C0GENERAL', text: 'Hello from the agent' })).ok, true);
  assert.deepEqual((await call('slack.conversations.list', { limit: 10 })).channels.map((c: { id: string }) => c.id), ['C0GENERAL', 'C0INCIDENTS']);

  const created = await call('linear.issues.create', { input: { teamId: 'team-ops', title: 'Follow-up' } });
  const id = created.data.issueCreate.issue.id as string;
  assert.equal((await call('linear.issues.get', { id })).data.issue.title, 'Follow-up');

  assert.deepEqual([...ran].sort(), [...TOOLS].sort(), 'every tool of the four connectors ran');
  for (const calls of [notion!.calls, github!.calls, linear!.calls]) for (const c of calls) assert.equal(c.user?.startsWith('john'), true, `${c.method} ${c.path} as ${c.user}`);
  assert.equal(slack!.messages[0]!.text, 'Hello from the agent');
});
