// Story 2 — The DevOps assistant (docs/guides/devops-assistant.md).
// One agent, three principals: GitHub issues are updated under each engineer's own delegation,
// Slack messages go out as the org's bot (an org-level grant and an org-owned account), Linear
// issues are filed as the engineer who triggered the workflow, or as the org when nobody did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutorError } from '../../src/client/index.ts';
import { delegate, type Seeded } from '../support/delegation.ts';
import { httpClient } from '../support/http.ts';
import { seedOrg, type TestWrit } from '../support/writ.ts';
import { connectAccount, startWritWithProviders } from '../support/providers/index.ts';
import { sdk } from './helpers.ts';

const REPO = 'xcorp/api';
const TEAM = '5d2c7b1e-ops';
const USER_TOOLS = ['github.issues.update', 'linear.issues.create'];
const ORG_TOOLS = ['slack.chat.post_message', 'linear.issues.create'];

test('the DevOps assistant acts as the engineer on GitHub, as the org on Slack, and as whoever triggered it on Linear', async (t) => {
  const { writ, github, slack, linear, close } = await startWritWithProviders({
    github: true, slack: { team: { id: 'T0XCORP', name: 'XCorp' }, channels: ['C0INCIDENTS'] }, linear: { teams: [{ id: TEAM, key: 'OPS' }] },
  });
  t.after(close);
  github!.addRepo(REPO, ['john-gh', 'mary-gh'], [{ number: 42, title: 'API latency alert' }, { number: 43, title: 'Disk full on build runner' }]);

  const xcorp = await seedOrg(writ, { name: 'XCorp', tools: [...new Set([...USER_TOOLS, ...ORG_TOOLS])] });
  const org_id = xcorp.org.id;
  const admin = { username: 'ops-admin', password: 'ops admin password 1' };
  await writ.admin('POST', `/orgs/${org_id}/users`, { ...admin, roles: ['admin'] });
  const mary = (await writ.admin('POST', `/orgs/${org_id}/users`, { username: 'mary', password: 'mary password 12' })).json;
  const asMary: Seeded = { ...xcorp, user: { id: mary.id, username: 'mary', password: 'mary password 12' } };

  // Each engineer delegates GitHub (one repository) and Linear to the assistant, and connects their own accounts.
  const engineerDetails = [{ type: 'tool_access', tools: ['github.issues.update'], resources: [`github:repo:${REPO}`] }, { type: 'tool_access', tools: ['linear.issues.create'] }];
  const john = await delegate(writ, xcorp, { authorization_details: engineerDetails });
  const maryRun = await delegate(writ, asMary, { authorization_details: engineerDetails });
  await connectAccount(writ, john.browser, { org_id, connector: 'github', user_id: xcorp.user.id, providerUser: 'john-gh' });
  await connectAccount(writ, john.browser, { org_id, connector: 'linear', user_id: xcorp.user.id, providerUser: 'john-linear' });
  await connectAccount(writ, maryRun.browser, { org_id, connector: 'github', user_id: mary.id, providerUser: 'mary-gh' });

  // The org admin grants the assistant org-level Slack and Linear, and connects the org's own accounts.
  const orgGrant = await writ.admin('POST', `/orgs/${org_id}/agents/${xcorp.agent.client_id}/org-grants`, { authorization_details: ORG_TOOLS.map((tool) => ({ type: 'tool_access', tools: [tool] })) });
  assert.equal(orgGrant.status, 201, orgGrant.text);
  const adminBrowser = httpClient();
  await connectAccount(writ, adminBrowser, { org_id, connector: 'slack', providerUser: 'xcorp-slack-admin', writUser: admin });
  await connectAccount(writ, adminBrowser, { org_id, connector: 'linear', providerUser: 'xcorp-devops-bot', writUser: admin });

  const assistant = sdk(writ, xcorp.agent);
  const asOrg = async () => (await assistant.clientCredentials()).accessToken;
  const run = async (subjectToken: string, tool: string, input: Record<string, unknown>, resource?: string) =>
    assistant.execute<any>(tool, input, await assistant.exchange({ subjectToken, tool, ...(resource ? { resource } : {}) }));

  // John triggers the incident workflow: triage the issue as John, announce as the org, file a follow-up as John.
  const updated = await run(john.tokens!.access_token, 'github.issues.update', { owner: 'xcorp', repo: 'api', issue_number: 42, labels: ['incident'] }, `github:repo:${REPO}`);
  assert.deepEqual(updated.labels, [{ name: 'incident' }]);
  const posted = await run(await asOrg(), 'slack.chat.post_message', { channel: 'C0INCIDENTS', text: 'Incident on xcorp/api#42, John is on it' });
  assert.equal(posted.ok, true);
  const filed = await run(john.tokens!.access_token, 'linear.issues.create', { input: { teamId: TEAM, title: 'Post-mortem for xcorp/api#42' } });
  assert.equal(filed.data.issueCreate.success, true);
  // The nightly job runs with nobody behind it: Linear as the org.
  const nightly = await run(await asOrg(), 'linear.issues.create', { input: { teamId: TEAM, title: 'Nightly: rotate build runner disks' } });
  assert.equal(nightly.data.issueCreate.success, true);

  await t.test('each provider saw the principal it should', () => {
    assert.deepEqual(github!.repos.get(REPO)!.issues.get(42)!.updated_by, ['john-gh']);
    const slackCall = slack!.calls.at(-1)!;
    assert.match(slackCall.token!, /^xoxb-/, 'a bot token');
    assert.equal(slack!.messages[0]!.bot_user_id, slackCall.user);
    assert.deepEqual(linear!.issues.map((i) => [i.title, i.creator]), [
      ['Post-mortem for xcorp/api#42', 'john-linear'],
      ['Nightly: rotate build runner disks', 'xcorp-devops-bot'],
    ]);
  });

  await t.test('the audit log says which principal acted at each step', async () => {
    const events = (await writ.admin('GET', `/orgs/${org_id}/audit?type=tool.executed`)).json.events.reverse();
    assert.deepEqual(events.map((e: any) => [e.subject.tool, e.subject.user_id ?? e.subject.principal]), [
      ['github.issues.update', xcorp.user.id],
      ['slack.chat.post_message', 'org'],
      ['linear.issues.create', xcorp.user.id],
      ['linear.issues.create', 'org'],
    ]);
    for (const e of events) assert.equal(e.actor.agent_id, xcorp.agent.client_id);
    assert.equal(events[1].subject.grant_id, orgGrant.json.id, 'the Slack message came from the org grant');
  });

  await t.test('revoking John\'s grant stops only John\'s GitHub actions', async () => {
    const johnsCap = await assistant.exchange({ subjectToken: john.tokens!.access_token, tool: 'github.issues.update', resource: `github:repo:${REPO}` });
    const grant = await userGrant(writ, org_id, xcorp.user.id);
    assert.equal((await writ.admin('DELETE', `/orgs/${org_id}/grants/${grant}`)).status, 204);
    await assert.rejects(assistant.execute('github.issues.update', { owner: 'xcorp', repo: 'api', issue_number: 43, state: 'closed' }, johnsCap), (err: unknown) => err instanceof ExecutorError && err.code === 'invalid_token');
    const byMary = await run(maryRun.tokens!.access_token, 'github.issues.update', { owner: 'xcorp', repo: 'api', issue_number: 43, state: 'closed' }, `github:repo:${REPO}`);
    assert.equal(byMary.state, 'closed');
    assert.deepEqual(github!.repos.get(REPO)!.issues.get(43)!.updated_by, ['mary-gh']);
    const stillPosting = await run(await asOrg(), 'slack.chat.post_message', { channel: 'C0INCIDENTS', text: 'xcorp/api#43 closed by Mary' });
    assert.equal(stillPosting.ok, true, 'the org\'s bot is untouched');
  });
});

async function userGrant(writ: TestWrit, org_id: string, user_id: string): Promise<string> {
  const grants = (await writ.admin('GET', `/orgs/${org_id}/grants`)).json.grants as Array<{ id: string; user_id?: string; revoked_at?: string }>;
  const live = grants.filter((g) => g.user_id === user_id && !g.revoked_at);
  assert.equal(live.length, 1);
  return live[0]!.id;
}
