import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'openid-client';
import { startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';

test('a full run leaves no token, password, secret or cookie in the log', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  await delegate(writ, seeded, { password: 'a wrong password typed by John' });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const refreshed = await oauth.refreshTokenGrant(run.config, run.tokens!.refresh_token!);
  await oauth.tokenIntrospection(run.config, refreshed.access_token);
  await oauth.tokenRevocation(run.config, refreshed.access_token);
  // A request with a bogus bearer token at the admin API is logged as refused, without the token.
  await fetch(`${writ.issuer}/admin/v1/orgs`, { headers: { authorization: 'Bearer not-the-admin-token-but-secret-looking' } });

  const log = writ.logs.join('\n');
  assert.ok(writ.logs.length > 20, 'the run was logged');
  const cookies = run.browser.jar.headerFor(new URL(writ.issuer)) ?? '';
  const secrets: Record<string, string> = {
    'access token': run.tokens!.access_token,
    'refresh token': run.tokens!.refresh_token!,
    'rotated refresh token': refreshed.refresh_token!,
    'client secret': seeded.agent.client_secret,
    password: seeded.user.password,
    'wrong password': 'a wrong password typed by John',
    'admin token': writ.adminToken,
    'bogus bearer': 'not-the-admin-token-but-secret-looking',
    ...Object.fromEntries(cookies.split('; ').filter(Boolean).map((c) => [`cookie ${c.split('=')[0]}`, c.split('=').slice(1).join('=')])),
  };
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(value.length >= 8, `${name} is long enough to search for`);
    assert.ok(!log.includes(value), `the log contains the ${name}`);
  }
  assert.match(log, /"request_id"/);
});
