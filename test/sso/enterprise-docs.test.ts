// The single sign-on commands of docs/enterprise.md, run as written against a real Writ and a
// real upstream OpenID provider on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seedOrg, startTestWrit } from '../support/writ.ts';
import { startIdp } from './support/idp.ts';
import { docBlocks, runDocBlocks, shellToolsMissing } from './support/doc-blocks.ts';

test('the enterprise page\'s single sign-on commands run as written', { skip: shellToolsMissing }, async (t) => {
  const blocks = docBlocks('sso');
  assert.equal(blocks.length, 1);
  const writ = await startTestWrit({ env: { WRIT_ALLOW_PRIVATE_EGRESS: '127.0.0.1' } });
  t.after(() => writ.stop());
  const idp = await startIdp({ accounts: [], clients: [{ client_id: 'writ-xcorp', client_secret: 'idp-secret', redirect_uris: [`${writ.issuer}/sso/callback`] }] });
  t.after(() => idp.close());
  const seeded = await seedOrg(writ);
  const { code, output } = await runDocBlocks(t, blocks, {
    WRIT_URL: writ.issuer, WRIT_ADMIN_TOKEN: writ.adminToken, ORG: seeded.org.id, IDP_ISSUER: idp.issuer, IDP_CLIENT_SECRET: 'idp-secret',
  });
  assert.equal(code, 0, output);
  assert.ok(!output.includes('idp-secret'), 'the secret is never printed');
  const configured = (await writ.admin('GET', `/orgs/${seeded.org.id}/identity-provider`)).json;
  assert.deepEqual(configured.domains, ['xcorp.example']);
  assert.deepEqual(configured.admin_values, ['writ-admins']);
  assert.equal(configured.sensitive_max_age, 300);
});
