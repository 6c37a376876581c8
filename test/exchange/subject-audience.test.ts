// A capability presented as a subject token (exchange) or for introspection must be for an audience
// this server issues to: its executor or a resource server registered for the token's org. The
// tokens below are signed with the server's own keys, so only the audience check can refuse them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import * as oauth from 'openid-client';
import { mintBiscuitCapability, mintJwtCapability, type CapabilityClaims } from '../../src/capability/index.ts';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { agentClient, delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, JWT, BISCUIT } from '../support/exchange.ts';

const GRANTED = [{ type: 'tool_access', tools: ['notion.pages.create'], resources: ['notion:page:*'] }];

test('a subject or introspected capability whose signed audience the server does not issue to is refused', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const other = await seedOrg(writ, { name: 'TechCorp', username: 'alice' });
  await writ.admin('POST', '/resource-servers', { identifier: 'https://billing.example/api', name: 'Billing' });
  await writ.admin('POST', '/resource-servers', { identifier: 'https://techcorp.example/api', name: 'TechCorp only', org_id: other.org.id });
  const run = await delegate(writ, seeded, { authorization_details: GRANTED });
  const subject = { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN };
  const issued = await exchange(writ, seeded.agent, { ...subject, authorization_details: details(['notion.pages.create'], { resources: ['notion:page:*'] }) });
  assert.equal(issued.status, 200, JSON.stringify(issued.json));
  const claims = decodeJwt(issued.json.access_token) as unknown as CapabilityClaims;
  const config = await agentClient(writ, seeded.agent);

  // The same capability (same jti, so its record stands), signed again by the server for `aud`.
  const asJwt = (aud: string) => mintJwtCapability({ ...claims, aud }, writ.keys.capabilitySigningKey);
  const asBiscuit = (aud: string) => mintBiscuitCapability({ ...claims, aud }, writ.keys.biscuitRootKey).token;

  const accepted: Array<[string, string]> = [['the executor', writ.executorResource], ['a resource server registered for every org', 'https://billing.example/api']];
  for (const [name, aud] of accepted) {
    await t.test(`accepted: ${name}`, async () => {
      for (const [token, type] of [[asJwt(aud), JWT], [asBiscuit(aud), BISCUIT]] as const) {
        const res = await exchange(writ, seeded.agent, { subject_token: token, subject_token_type: type });
        assert.equal(res.status, 200, JSON.stringify(res.json));
        assert.equal((await oauth.tokenIntrospection(config, token)).active, true);
      }
    });
  }

  const refused: Array<[string, string]> = [
    ['an audience nobody registered', 'https://evil.example/api'],
    ['a resource server registered for another org only', 'https://techcorp.example/api'],
    ['the issuer itself', writ.issuer],
    ['a URL under the executor', `${writ.executorResource}/x`],
  ];
  for (const [name, aud] of refused) {
    await t.test(`refused: ${name}`, async () => {
      for (const [token, type] of [[asJwt(aud), JWT], [asBiscuit(aud), BISCUIT]] as const) {
        const before = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=token.exchanged`)).json.events.length;
        const res = await exchange(writ, seeded.agent, { subject_token: token, subject_token_type: type });
        assert.equal(res.status, 400, `${type}: ${JSON.stringify(res.json)}`);
        assert.equal(res.json.error, 'invalid_grant');
        assert.match(res.json.error_description, /audience/);
        assert.equal((await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=token.exchanged`)).json.events.length, before, 'nothing issued');
        assert.deepEqual(await oauth.tokenIntrospection(config, token), { active: false }, `${type} is inactive at introspection`);
      }
    });
  }
});
