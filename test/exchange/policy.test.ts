import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oauth from 'openid-client';
import { decodeJwt } from 'jose';
import { createVerifier } from '../../src/verifier/index.ts';
import { apiKeyConnector, startTestWrit, seedOrg } from '../support/writ.ts';
import { delegate } from '../support/delegation.ts';
import { exchange, details, ACCESS_TOKEN, JWT, BISCUIT } from '../support/exchange.ts';
import { waitFor } from '../support/wait.ts';

const POLICIES = join(import.meta.dirname, '../../policies');

function policyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'writ-policies-'));
  copyFileSync(join(POLICIES, 'default.yaml'), join(dir, 'default.yaml'));
  copyFileSync(join(POLICIES, 'examples/email-customer-domain.yaml'), join(dir, 'email.yaml'));
  copyFileSync(join(POLICIES, 'examples/invoices.yaml'), join(dir, 'invoices.yaml'));
  return dir;
}

test('policy files decide: argument constraints travel in the capability and every verifier enforces them', async (t) => {
  const dir = policyDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const writ = await startTestWrit({ env: { WRIT_POLICIES: dir } });
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ, { tools: ['gmail.messages.send', 'stripe.invoices.pay', 'stripe.invoices.delete'], connectors: { stripe: apiKeyConnector(['invoices.pay', 'invoices.delete']) } });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['gmail.messages.send', 'stripe.invoices.pay', 'stripe.invoices.delete'] }] });
  const subject = { subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN };
  const verifier = createVerifier({ issuer: writ.issuer, audience: writ.executorResource });
  t.after(() => verifier.close());

  for (const format of [JWT, BISCUIT]) {
    await t.test(`email only to the customer's domain (${format})`, async () => {
      const res = await exchange(writ, seeded.agent, { ...subject, requested_token_type: format, authorization_details: details(['gmail.messages.send']) });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(res.json.authorization_details[0].constraints, { to: { ends_with: '@customer.com' } });
      assert.ok(res.json.expires_in <= 120, 'the email rule caps life at 2 minutes');
      const ok = await verifier.verify(res.json.access_token, { tool: 'gmail.messages.send', input: { to: 'ceo@customer.com', subject: 'hi' } });
      assert.equal(ok.sub, seeded.user.id);
      for (const to of ['attacker@evil.example', 'ceo@customer.com.evil.example', 42]) {
        await assert.rejects(verifier.verify(res.json.access_token, { tool: 'gmail.messages.send', input: { to } }), (e: any) => e.code === 'constraint_failed', `to=${to}`);
      }
      await assert.rejects(verifier.verify(res.json.access_token, { tool: 'gmail.messages.send', input: {} }), (e: any) => e.code === 'constraint_failed', 'a missing field does not satisfy the constraint');
    });
  }

  await t.test('invoices: single-use, a minute, amount at most 50', async () => {
    const res = await exchange(writ, seeded.agent, { ...subject, authorization_details: details(['stripe.invoices.pay'], { resources: ['stripe:invoice:in_42'] }) });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const claims = decodeJwt(res.json.access_token) as any;
    assert.equal(claims.single_use, true);
    assert.ok(claims.exp - claims.iat <= 60);
    await verifier.verify(res.json.access_token, { tool: 'stripe.invoices.pay', resource: 'stripe:invoice:in_42', input: { amount: 50 } });
    await assert.rejects(verifier.verify(res.json.access_token, { tool: 'stripe.invoices.pay', resource: 'stripe:invoice:in_42', input: { amount: 51 } }), (e: any) => e.code === 'constraint_failed');
    await assert.rejects(verifier.verify(res.json.access_token, { tool: 'stripe.invoices.pay', resource: 'stripe:invoice:in_43', input: { amount: 5 } }), (e: any) => e.code === 'insufficient_scope');
    // A request that tries to loosen the policy's cap is refused rather than silently tightened.
    const looser = await exchange(writ, seeded.agent, { ...subject, authorization_details: details(['stripe.invoices.pay'], { constraints: { amount: { max: 500 } } }) });
    assert.equal(looser.status, 200, 'a looser own constraint merges to the stricter policy cap');
    assert.equal(looser.json.authorization_details[0].constraints.amount.max, 50);
  });

  await t.test('deny wins, with the reasons on the record', async () => {
    const res = await exchange(writ, seeded.agent, { ...subject, authorization_details: details(['stripe.invoices.delete']) });
    assert.equal(res.json.error, 'access_denied');
    assert.match(res.json.error_description, /invoices-no-deletes/);
    const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=token.exchange_denied`)).json.events;
    assert.ok(events[0].details.reasons.some((r: string) => r.includes('invoices-no-deletes')));
    assert.match(events[0].details.policy_version, /^sha256:/);
  });

  await t.test('dry run: would the agent get the tool for this user, and why', async () => {
    const res = await writ.admin('POST', `/orgs/${seeded.org.id}/policy/dry-run`, { agent_id: seeded.agent.client_id, user_id: seeded.user.id, tools: ['stripe.invoices.delete'] });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.decision.effect, 'deny');
    assert.ok(res.json.rules.some((r: any) => r.id === 'invoices-no-deletes' && r.matched));
    const allowed = await writ.admin('POST', `/orgs/${seeded.org.id}/policy/dry-run`, { agent_id: seeded.agent.client_id, user_id: seeded.user.id, tools: ['gmail.messages.send'] });
    assert.equal(allowed.json.decision.effect, 'allow');
    assert.equal(allowed.json.ceiling.ok, true);
  });

  await t.test('a broken policy file keeps the previous policy in force', async () => {
    const failedReloads = () => writ.logs.map((l) => JSON.parse(l)).filter((r) => r.msg === 'policy reload failed; the previous policies stay in force');
    assert.deepEqual(failedReloads(), [], 'no reload has failed yet');
    writeFileSync(join(dir, 'invoices.yaml'), 'version: 1\nrules:\n  - id: broken\n    effect: allow\n    match: { tools: [1, 2\n');
    // The watcher's reload of the broken file is the event this test is about: wait for its record,
    // which must name the file and the line (a reload may also catch the file half-written first).
    await waitFor('a failed reload logged with the broken file and line',
      () => failedReloads().some((r) => /invoices\.yaml$/.test(r.file) && typeof r.line === 'number'));
    const res = await exchange(writ, seeded.agent, { ...subject, authorization_details: details(['stripe.invoices.delete']) });
    assert.equal(res.json.error, 'access_denied', 'the deny rule from the last good policy still holds');
  });
});

test('DPoP at the exchange binds the capability to the holder\'s key', async (t) => {
  const writ = await startTestWrit();
  t.after(() => writ.stop());
  const seeded = await seedOrg(writ);
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: ['demo.notes.create'] }] });
  const keyPair = await oauth.randomDPoPKeyPair('EdDSA');
  const config = run.config;
  const dpop = oauth.getDPoPHandle(config, keyPair);
  const res = await oauth.genericGrantRequest(config, 'urn:ietf:params:oauth:grant-type:token-exchange', {
    subject_token: run.tokens!.access_token, subject_token_type: ACCESS_TOKEN,
  }, { DPoP: dpop });
  assert.equal(res.token_type.toLowerCase(), 'dpop');
  const claims = decodeJwt(res.access_token) as any;
  assert.ok(claims.cnf?.jkt);

  const verifier = createVerifier({ issuer: writ.issuer, audience: writ.executorResource });
  t.after(() => verifier.close());
  await assert.rejects(verifier.verify(res.access_token, { tool: 'demo.notes.create' }), (e: any) => e.code === 'dpop_required');
  const events = (await writ.admin('GET', `/orgs/${seeded.org.id}/audit?type=token.exchanged`)).json.events;
  assert.equal(events[0].details.dpop_bound, true);
});
