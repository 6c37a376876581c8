// Exchanges racing a revocation: a capability minted while its grant is being revoked must be
// refused everywhere afterwards, whichever of the two writes committed first. The exchange
// reads the grant, then signs and records; the revocation marks the grant, then sweeps the
// capabilities recorded so far. A capability recorded after the sweep would escape a check that
// looks only at capabilities, so the executor, introspection and feed followers must also refuse
// by the grant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createVerifier } from '../../src/verifier/index.ts';
import { startWritWithDemo, openConnectLink } from '../support/connect.ts';
import { waitFor } from '../support/wait.ts';
import { seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, BISCUIT } from '../support/exchange.ts';

const TOOL = 'demo.notes.list';
const ROUNDS = 3;
const RACERS = 24;

test('capabilities minted while their grant is revoked are refused at the executor, introspection and the feed', async (t) => {
  const { writ, demo } = await startWritWithDemo();
  t.after(async () => { await writ.stop(); await demo.close(); });
  const seeded = await seedOrg(writ, { tools: [TOOL] });
  const verifier = createVerifier({ issuer: writ.issuer, audience: writ.executorResource, feed: { wait: 1 } });
  t.after(() => verifier.close());

  let issuedDuringRace = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: [TOOL] }] });
    assert.ok(run.tokens);
    if (round === 0) {
      const created = await writ.admin('POST', `/orgs/${seeded.org.id}/connected-accounts`, { connector: 'demo', user_id: seeded.user.id });
      assert.match((await openConnectLink(run.browser, created.json.authorization_url)).text, /is connected/);
    }
    const grants = (await writ.admin('GET', `/orgs/${seeded.org.id}/grants`)).json.grants as Array<{ id: string; revoked_at?: string }>;
    const grant = grants.find((g) => !g.revoked_at)!;

    // Exchanges before, around and after the revocation, in one burst.
    const racers = Array.from({ length: RACERS }, (_, i) => exchange(writ, seeded.agent, {
      subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([TOOL]),
      ...(i % 2 ? { requested_token_type: BISCUIT } : {}),
    }));
    const revoke = new Promise((r) => setTimeout(r, round)).then(() => writ.admin('DELETE', `/orgs/${seeded.org.id}/grants/${grant.id}`));
    const [results, revoked] = await Promise.all([Promise.all(racers), revoke]);
    assert.equal(revoked.status, 204);
    for (const r of results) assert.ok(r.status === 200 || r.json.error === 'invalid_grant', JSON.stringify(r.json));
    const tokens = results.filter((r) => r.status === 200).map((r) => r.json.access_token as string);
    issuedDuringRace += tokens.length;

    for (const token of tokens) {
      const executed = await fetch(`${writ.issuer}/v1/tools/${TOOL}/execute`, {
        method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: {} }),
      });
      assert.equal(executed.status, 401, `the executor refuses a capability of the revoked grant: ${await executed.text()}`);
      const introspected = await fetch(`${writ.issuer}/introspect`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${seeded.agent.client_id}:${seeded.agent.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
      });
      assert.equal((await introspected.json()).active, false, 'introspection answers inactive');
      // A remote verifier learns the revocation from the feed; until then it may still allow.
      await waitFor('the feed follower to learn of the revocation', async () => {
        try { await verifier.verify(token, { tool: TOOL, resource: 'demo:notes' }); return false; } catch (err: any) { assert.equal(err.code, 'revoked'); return true; }
      }, { everyMs: 25 });
    }
  }
  t.diagnostic(`${issuedDuringRace} capabilities were minted during ${ROUNDS} races; every one was refused afterwards`);
});
