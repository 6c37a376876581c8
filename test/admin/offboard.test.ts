import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { Vault } from '../../src/vault/service.ts';
import { LocalKeyProvider, parseMasterKeyRing } from '../../src/vault/crypto.ts';
import { seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { openConnectLink, startWritWithDemo } from '../support/connect.ts';

test('offboarding an org revokes everything, removes its agents and crypto-shreds its vault; another org is untouched', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const leaving = await seedOrg(writ, { tools: ['demo.notes.create'] });
  const staying = await seedOrg(writ, { name: 'TechCorp', tools: ['demo.notes.create'] });
  const run = await delegate(writ, leaving, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const other = await delegate(writ, staying, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const link = (await writ.admin('POST', `/orgs/${leaving.org.id}/connected-accounts`, { connector: 'demo', user_id: leaving.user.id })).json;
  assert.match((await openConnectLink(run.browser, link.authorization_url)).text, /is connected/);
  // A copy of the sealed credential, as a backup would hold it.
  const backup = await writ.store.vault.getAccount(leaving.org.id, link.id);
  assert.ok(backup?.sealed_credential);
  for (const org of [leaving.org.id, staying.org.id]) {
    await writ.store.orgConnectors.putOrgConnector(org, { org_id: org, name: 'acme', definition: {}, created_at: '2025-03-01T12:00:00.000Z', updated_at: '2025-03-01T12:00:00.000Z' });
  }

  const res = await writ.admin('POST', `/orgs/${leaving.org.id}/offboard`);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { grants_revoked: 1, agents_removed: 1, accounts_shredded: 1 });
  // The agent is gone, so it cannot even authenticate to introspect; its tokens are gone too.
  assert.equal(await writ.store.oidc.find('AccessToken', run.tokens!.access_token), undefined);
  assert.equal(await writ.store.oidc.find('RefreshToken', run.tokens!.refresh_token!), undefined);
  await assert.rejects(oauth.tokenIntrospection(run.config, run.tokens!.access_token), (e: any) => e.error === 'invalid_client');
  assert.deepEqual((await writ.admin('GET', `/orgs/${leaving.org.id}/agents`)).json.agents, []);
  assert.deepEqual((await writ.admin('GET', `/orgs/${leaving.org.id}/connected-accounts`)).json.connected_accounts, []);
  assert.deepEqual(await writ.store.orgConnectors.listOrgConnectors(leaving.org.id), [], 'its org connectors go with it');
  assert.equal((await writ.store.orgConnectors.listOrgConnectors(staying.org.id)).length, 1);
  // The backup copy cannot be opened any more: the data key is gone.
  await writ.store.vault.createAccount(leaving.org.id, backup!);
  const vault = new Vault({ store: writ.store.vault, keys: new LocalKeyProvider(parseMasterKeyRing(writ.masterKey)) });
  await assert.rejects(vault.readCredential(leaving.org.id, link.id));
  // The record stays and verifies; the other org works on.
  assert.equal((await writ.admin('POST', `/orgs/${leaving.org.id}/audit/verify`)).json.ok, true);
  assert.equal((await writ.admin('GET', `/orgs/${leaving.org.id}/audit?type=org.offboarded`)).json.events.length, 1);
  assert.equal((await oauth.tokenIntrospection(other.config, other.tokens!.access_token)).active, true);
});
