// The cross-app access commands of docs/enterprise.md, run as written between two real Writs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delegate } from '../support/delegation.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { docBlocks, runDocBlocks, shellToolsMissing } from '../sso/support/doc-blocks.ts';

test('the enterprise page\'s cross-app access commands run as written', { skip: shellToolsMissing }, async (t) => {
  const blocks = docBlocks('id-jag');
  assert.equal(blocks.length, 1);
  const xcorp = await startTestWrit();
  t.after(() => xcorp.stop());
  const acme = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: 'localhost' } });
  t.after(() => acme.stop());
  const x = await seedOrg(xcorp, { tools: ['demo.notes.get'] });
  const a = await seedOrg(acme, { tools: ['demo.notes.get'] });
  // John signed in to Acme once through single sign-on with XCorp's Writ, which linked him.
  await acme.store.sso.createLink(a.org.id, { org_id: a.org.id, issuer: xcorp.issuer, subject: x.user.id, user_id: a.user.id, created_at: new Date().toISOString() });
  const john = await delegate(xcorp, x, { scope: 'tool:demo.notes.get' });
  const { code, output } = await runDocBlocks(t, blocks, {
    WRIT_URL: xcorp.issuer, WRIT_ADMIN_TOKEN: xcorp.adminToken, ORG: x.org.id, AGENT: x.agent.client_id, AGENT_SECRET: x.agent.client_secret,
    ACCESS_TOKEN: john.tokens!.access_token,
    ACME_URL: acme.issuer, ACME_ADMIN_TOKEN: acme.adminToken, ACME_ORG: a.org.id, ACME_AGENT: a.agent.client_id, ACME_AGENT_SECRET: a.agent.client_secret,
  });
  assert.equal(code, 0, output);
  const grants = (await acme.admin('GET', `/orgs/${a.org.id}/audit?type=grant.created`)).json.events;
  assert.equal(grants.length, 1);
  assert.equal(grants[0].actor.kind, 'idp');
  assert.equal(grants[0].subject.user_id, a.user.id);
});
