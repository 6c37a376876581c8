// Story 1 — John at XCorp and Notion (docs/guides/john-notion.md).
// John lets a content agent create pages under one approved Notion page; the agent writes as
// John with John's own Notion token and nowhere else; John revokes in one click and only his
// agent stops; "what did the agent do for John?" is one audit query.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutorError, TokenExchangeError } from '../../src/client/index.ts';
import { delegate } from '../support/delegation.ts';
import { seedOrg } from '../support/writ.ts';
import { connectAccount, startWritWithProviders } from '../support/providers/index.ts';
import { disconnectOnConnectPage, revokeOnAccountPage, sdk } from './helpers.ts';

const APPROVED = '8a1f0c2e-5b7d-4e1a-9c3f-2d6b8e4a7f10'; // "Content calendar", shared with the integration
const FINANCE = '3c9e7a51-0f2b-4d8c-a6e4-1b5f9d2c8e73';  // "Finance", in the same workspace
const TOOL = 'notion.pages.create';
const page = (parent: string, title: string) => ({ parent: { page_id: parent }, properties: { title: [{ text: { content: title } }] } });

test('John at XCorp: a content agent writes one Notion page as John, only there, until John says stop', async (t) => {
  const { writ, notion, close } = await startWritWithProviders({
    notion: { workspaces: [{ id: 'ws-xcorp', name: 'XCorp', members: ['john', 'mary'], pages: [{ id: APPROVED, title: 'Content calendar' }, { id: FINANCE, title: 'Finance' }] }] },
  });
  t.after(close);
  const started = new Date(Date.now() - 1000).toISOString();
  const xcorp = await seedOrg(writ, { name: 'XCorp', tools: [TOOL] });
  const mary = (await writ.admin('POST', `/orgs/${xcorp.org.id}/users`, { username: 'mary', password: 'mary password 12' })).json;
  const approved = [{ type: 'tool_access', tools: [TOOL], resources: [`notion:page:${APPROVED}`] }];

  // John consents on Writ's page, then connects his own Notion through Writ's link.
  const john = await delegate(writ, xcorp, { authorization_details: approved });
  assert.ok(john.tokens, 'John approved');
  const johnsAccount = await connectAccount(writ, john.browser, { org_id: xcorp.org.id, connector: 'notion', user_id: xcorp.user.id, providerUser: 'john' });
  // Mary does the same for the same agent.
  const maryRun = await delegate(writ, xcorp, { authorization_details: approved, username: 'mary', password: 'mary password 12' });
  await connectAccount(writ, maryRun.browser, { org_id: xcorp.org.id, connector: 'notion', user_id: mary.id, providerUser: 'mary' });

  const agent = sdk(writ, xcorp.agent);
  const capFor = (subjectToken: string, parent = APPROVED) => agent.exchange({ subjectToken, tool: TOOL, resource: `notion:page:${parent}` });

  const johnCap = await capFor(john.tokens.access_token);
  const created = await agent.execute<{ object: string; id: string; parent: { page_id: string } }>(TOOL, page(APPROVED, 'Launch notes'), johnCap);
  assert.equal(created.object, 'page');
  assert.equal(created.parent.page_id, APPROVED);

  await t.test('Notion saw John\'s own token, with the Notion-Version the connector sends', () => {
    const call = notion!.calls.at(-1)!;
    assert.equal(call.path, '/v1/pages');
    assert.equal(call.status, 200);
    assert.equal(call.user, 'john', 'the token belongs to John at Notion');
    assert.equal(call.headers['notion-version'], '2022-06-28');
    assert.equal(notion!.pages.get(created.id)!.created_for, 'john');
  });

  await t.test('the agent cannot write outside the approved parent', async () => {
    const before = notion!.calls.length;
    // With the capability it has: the executor compares the page's parent with the capability.
    await assert.rejects(agent.execute(TOOL, page(FINANCE, 'Salaries'), await capFor(john.tokens!.access_token)), (err: unknown) => {
      assert.ok(err instanceof ExecutorError);
      assert.equal(err.code, 'insufficient_scope');
      return true;
    });
    // Nor can it get a capability for another parent: John's grant names one page.
    await assert.rejects(capFor(john.tokens!.access_token, FINANCE), (err: unknown) => err instanceof TokenExchangeError);
    assert.equal(notion!.calls.length, before, 'Notion was never asked');
    const denied = (await writ.admin('GET', `/orgs/${xcorp.org.id}/audit?user_id=${xcorp.user.id}&type=tool.denied`)).json.events;
    assert.equal(denied.length, 1);
    assert.equal(denied[0].details.outcome, 'insufficient_scope');
  });

  await t.test('"What did the agent do for John?" is one query that names John, XCorp, the agent, the tool, the capability and the grant', async () => {
    const until = new Date(Date.now() + 1000).toISOString();
    const q = new URLSearchParams({ user_id: xcorp.user.id, since: started, until, type: 'tool.executed' });
    const answer = await writ.admin('GET', `/orgs/${xcorp.org.id}/audit?${q}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.json.events.length, 1);
    const [event] = answer.json.events;
    assert.equal(event.org_id, xcorp.org.id);
    assert.equal(event.subject.user_id, xcorp.user.id);
    assert.equal(event.actor.agent_id, xcorp.agent.client_id);
    assert.equal(event.subject.tool, TOOL);
    assert.match(event.subject.capability_id, /^cap_/);
    assert.match(event.subject.grant_id, /^grt_/);
    assert.equal(event.subject.account_id, johnsAccount);
    const grants = (await writ.admin('GET', `/orgs/${xcorp.org.id}/grants`)).json.grants;
    assert.equal(grants.find((g: any) => g.id === event.subject.grant_id)?.user_id, xcorp.user.id);
  });

  await t.test('John disconnects Notion in one click: his next call is auth_revoked, Notion revoked the token, Mary keeps working', async () => {
    const cap = await capFor(john.tokens!.access_token);
    const johnsToken = notion!.calls.find((c) => c.user === 'john')!.token!;
    await disconnectOnConnectPage(john.browser, writ, johnsAccount);
    assert.ok(notion!.revoked.includes(johnsToken), 'Writ revoked John\'s token at Notion');
    await assert.rejects(agent.execute(TOOL, page(APPROVED, 'After disconnect'), cap), (err: unknown) => {
      assert.ok(err instanceof ExecutorError, String(err));
      assert.ok(err.code === 'auth_revoked' || err.code === 'not_connected', err.code);
      return true;
    });
    const forMary = await agent.execute<{ id: string }>(TOOL, page(APPROVED, 'Mary\'s draft'), await capFor(maryRun.tokens!.access_token));
    assert.equal(notion!.pages.get(forMary.id)!.created_for, 'mary');
    // John connects again for the last check.
    await connectAccount(writ, john.browser, { org_id: xcorp.org.id, connector: 'notion', user_id: xcorp.user.id, providerUser: 'john' });
    await agent.execute(TOOL, page(APPROVED, 'Back again'), await capFor(john.tokens!.access_token));
  });

  await t.test('John revokes the agent in one click on /account: its capability and its delegation die, Mary\'s do not', async () => {
    const cap = await capFor(john.tokens!.access_token);
    const grantId = (await writ.admin('GET', `/orgs/${xcorp.org.id}/audit?user_id=${xcorp.user.id}&type=tool.executed&limit=1`)).json.events[0].subject.grant_id;
    await revokeOnAccountPage(john.browser, writ, grantId);
    const callsBefore = notion!.calls.length;
    await assert.rejects(agent.execute(TOOL, page(APPROVED, 'After revoke'), cap), (err: unknown) => {
      assert.ok(err instanceof ExecutorError);
      assert.equal(err.code, 'invalid_token');
      return true;
    });
    await assert.rejects(capFor(john.tokens!.access_token), (err: unknown) => err instanceof TokenExchangeError, 'no new capability from a revoked grant');
    assert.equal(notion!.calls.length, callsBefore, 'nothing reached Notion for John');
    const forMary = await agent.execute<{ id: string }>(TOOL, page(APPROVED, 'Mary, undisturbed'), await capFor(maryRun.tokens!.access_token));
    assert.equal(notion!.pages.get(forMary.id)!.created_for, 'mary');
    const revoked = (await writ.admin('GET', `/orgs/${xcorp.org.id}/audit?type=grant.revoked`)).json.events;
    assert.equal(revoked.length, 1);
    assert.equal(revoked[0].actor.user_id, xcorp.user.id, 'John revoked it himself');
  });
});
