import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { exchange, ACCESS_TOKEN, JWT, BISCUIT } from '../support/exchange.ts';

test('introspection answers for capabilities too: active with act, then inactive at once after revocation, and never across orgs', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const other = await seedOrg(writ, { name: 'TechCorp', username: 'alice' });
  const sub = (await writ.admin('POST', `/orgs/${seeded.org.id}/agents`, { name: 'Sub-agent', tools: ['demo.notes.create'] })).json;
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const jwt = (await exchange(writ, seeded.agent, { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN })).json.access_token;
  const chained = (await exchange(writ, sub, { subject_token: jwt, subject_token_type: JWT, requested_token_type: BISCUIT })).json.access_token;

  const mine = await agentClient(writ, seeded.agent);
  const a = await oauth.tokenIntrospection(mine, jwt);
  assert.equal(a.active, true);
  assert.deepEqual(a.act, { sub: seeded.agent.client_id });
  assert.equal(a.org_id, seeded.org.id);
  const b = await oauth.tokenIntrospection(mine, chained);
  assert.equal(b.active, true);
  assert.deepEqual(b.act, { sub: sub.client_id, act: { sub: seeded.agent.client_id } });

  const foreign = await agentClient(writ, other.agent);
  assert.equal((await oauth.tokenIntrospection(foreign, jwt)).active, false, 'another org learns nothing');

  // Revoking every grant of the user (bulk) kills both at once.
  const res = await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants?user_id=${seeded.user.id}`);
  assert.equal(res.status, 200);
  assert.equal(res.json.revoked.length, 1);
  assert.equal((await oauth.tokenIntrospection(mine, jwt)).active, false);
  assert.equal((await oauth.tokenIntrospection(mine, chained)).active, false);
  assert.equal((await oauth.tokenIntrospection(mine, run.tokens!.access_token)).active, false);
  assert.equal((await writ.admin('DELETE', `/orgs/${seeded.org.id}/grants`)).status, 400, 'a bulk revoke must say what');
});
