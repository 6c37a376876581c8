// Story 6 — The sub-agent (docs/guides/sub-agent.md).
// An orchestrator holds a Biscuit capability to read issues of one repository. Offline, with no
// call to Writ, it appends a block limiting the token to one issue and hands that to a
// sub-agent. The sub-agent reads that issue through the executor and nothing else; revoking the
// orchestrator's grant stops the sub-agent as well.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExecutorError } from '../../src/client/index.ts';
import { createVerifier } from '../../src/verifier/index.ts';
import { delegate } from '../support/delegation.ts';
import { seedOrg } from '../support/writ.ts';
import { connectAccount, startWritWithProviders } from '../support/providers/index.ts';
import { sdk } from './helpers.ts';

const READ = 'github.issues.get';

test('a sub-agent\'s attenuated Biscuit reads one issue and nothing else, and dies with the orchestrator\'s grant', async (t) => {
  const { writ, github, close } = await startWritWithProviders({ github: true });
  t.after(close);
  const xcorp = await seedOrg(writ, { name: 'XCorp', username: 'john', tools: [READ, 'github.issues.update'] });
  github!.addRepo('xcorp/api', ['john-gh'], [{ number: 42, title: 'Triage me' }, { number: 43, title: 'Not for the sub-agent' }]);
  github!.addRepo('xcorp/web', ['john-gh'], [{ number: 1, title: 'Another repository' }]);
  const john = await delegate(writ, xcorp, { authorization_details: [{ type: 'tool_access', tools: [READ, 'github.issues.update'], resources: ['github:repo:xcorp/*'] }] });
  await connectAccount(writ, john.browser, { org_id: xcorp.org.id, connector: 'github', user_id: xcorp.user.id, providerUser: 'john-gh' });

  const orchestrator = sdk(writ, xcorp.agent);
  const held = await orchestrator.exchange({ subjectToken: john.tokens!.access_token, tool: READ, resource: 'github:repo:xcorp/api', format: 'biscuit' });
  // The orchestrator's own library: keys from Writ's metadata, no call to the token endpoint.
  const library = createVerifier({ issuer: writ.issuer, audience: writ.executorResource });
  t.after(() => library.close());
  const forSubAgent = await library.attenuate(held.token, { tools: [READ], constraints: { issue_number: { eq: 42 } }, expires_in: 120 });
  assert.notEqual(forSubAgent, held.token);

  // The sub-agent has no Writ client of its own: it only presents what it was handed.
  const subAgent = sdk(writ, { client_id: 'unused', client_secret: 'unused' });
  const callsBefore = github!.calls.length;
  const issue = await subAgent.execute<{ number: number; title: string }>(READ, { owner: 'xcorp', repo: 'api', issue_number: 42 }, forSubAgent);
  assert.equal(issue.title, 'Triage me');
  assert.equal(github!.calls.at(-1)!.user, 'john-gh', 'the read spent John\'s credential, for the delegation it came from');

  await t.test('nothing else: another issue, another repository, another tool', async () => {
    const refused = async (tool: string, input: Record<string, unknown>) => {
      const err = await subAgent.execute(tool, input, forSubAgent).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof ExecutorError, `${tool} ${JSON.stringify(input)} was allowed`);
      return err.code;
    };
    assert.equal(await refused(READ, { owner: 'xcorp', repo: 'api', issue_number: 43 }), 'constraint_failed');
    assert.equal(await refused(READ, { owner: 'xcorp', repo: 'web', issue_number: 42 }), 'insufficient_scope');
    assert.equal(await refused('github.issues.update', { owner: 'xcorp', repo: 'api', issue_number: 42, state: 'closed' }), 'insufficient_scope');
    assert.equal(github!.calls.length, callsBefore + 1, 'only the one allowed read reached GitHub');
  });

  await t.test('the orchestrator\'s own token still reads the whole repository', async () => {
    const other = await orchestrator.execute<{ title: string }>(READ, { owner: 'xcorp', repo: 'api', issue_number: 43 }, held);
    assert.equal(other.title, 'Not for the sub-agent');
  });

  await t.test('revoking the orchestrator\'s grant stops the sub-agent too', async () => {
    const [event] = (await writ.admin('GET', `/orgs/${xcorp.org.id}/audit?type=tool.executed&limit=1`)).json.events;
    assert.equal((await writ.admin('DELETE', `/orgs/${xcorp.org.id}/grants/${event.subject.grant_id}`)).status, 204);
    const err = await subAgent.execute(READ, { owner: 'xcorp', repo: 'api', issue_number: 42 }, forSubAgent).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ExecutorError);
    assert.equal(err.code, 'invalid_token');
  });

  await t.test('the record shows the sub-agent\'s reads under the same grant and capability as the orchestrator\'s', async () => {
    const events = (await writ.admin('GET', `/orgs/${xcorp.org.id}/audit?tool=${READ}`)).json.events.reverse();
    const outcomes = events.filter((e: any) => e.type.startsWith('tool.')).map((e: any) => e.details.outcome);
    assert.deepEqual(outcomes, ['ok', 'constraint_failed', 'insufficient_scope', 'ok', 'invalid_token']);
    assert.equal(new Set(events.map((e: any) => e.subject.grant_id)).size, 1);
  });
});
