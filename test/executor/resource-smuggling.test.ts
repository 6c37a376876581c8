// Resource smuggling through nested input: a capability for one resource, an input that names
// that resource where the executor reads it and another beside it, for the provider to read
// (Notion's `parent: { page_id: <allowed>, database_id: <other> }`). For every shipped tool whose
// resource comes from its input, a sibling at every level of the path is refused before any
// call; the same input without it reaches the provider, so the refusal is the executor's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadShippedDefinitions } from '../../src/connectors/catalog.ts';
import { resourcePaths } from '../../src/connectors/resource-path.ts';
import { LocalKeyProvider, parseMasterKeyRing } from '../../src/vault/crypto.ts';
import { Vault } from '../../src/vault/service.ts';
import { delegate } from '../support/delegation.ts';
import { ACCESS_TOKEN, details, exchange } from '../support/exchange.ts';
import { listen, readRequestBody, sendJson } from '../support/providers/base.ts';
import { sampleInput, smuggledInputs } from '../support/tool-inputs.ts';
import { seedOrg, startTestWrit } from '../support/writ.ts';

test('a sibling smuggled beside any key a resource is read through is refused, and the provider receives nothing', async (t) => {
  // One stand-in for every provider: it records each API call and answers as a success would
  // (`ok: true` for Slack's success field), so an input let through would be seen here.
  const calls: Array<{ path: string; body: string }> = [];
  const provider = await listen(async (req, res, url) => {
    calls.push({ path: url.pathname, body: (await readRequestBody(req)).text });
    sendJson(res, 200, { ok: true, id: 'answer' });
  });
  t.after(() => provider.close());

  const shipped = loadShippedDefinitions({ demoProviderUrl: provider.url });
  const endpoints = Object.fromEntries(shipped.filter((d) => d.name !== 'demo').map((d) => [d.name, { api_base_url: `${provider.url}/${d.name}` }]));
  const writ = await startTestWrit({
    env: {
      WRIT_DEMO_PROVIDER_URL: `${provider.url}/demo`, WRIT_ALLOW_PRIVATE_EGRESS: new URL(provider.url).host,
      WRIT_CONNECTOR_ENDPOINTS: JSON.stringify(endpoints),
    },
  });
  t.after(() => writ.stop());

  const tools = shipped.flatMap((d) => Object.entries(d.tools)
    .filter(([, tool]) => resourcePaths(tool.resource).length > 0)
    .map(([key, tool]) => ({ name: `${d.name}.${key}`, connector: d, tool })));
  const seeded = await seedOrg(writ, { tools: tools.map((x) => x.name) });
  const run = await delegate(writ, seeded, { authorization_details: [{ type: 'tool_access', tools: tools.map((x) => x.name) }] });
  assert.ok(run.tokens, 'delegated');

  // The user's account at every connector, as a completed connect would leave it.
  const vault = new Vault({ store: writ.store.vault, keys: new LocalKeyProvider(parseMasterKeyRing(writ.masterKey)) });
  for (const d of shipped) {
    const account = await vault.createPendingAccount(seeded.org.id, { owner: { kind: 'user', user_id: seeded.user.id }, connector: d.name, scopes: d.auth.type === 'oauth2' ? d.auth.scopes : [] });
    await vault.storeCredential(seeded.org.id, account.id, { type: 'oauth2', access_token: `access-${d.name}-0123456789`, token_type: 'Bearer' });
  }

  const execute = async (tool: string, capability: string, input: unknown) => {
    const res = await fetch(`${writ.issuer}/v1/tools/${tool}/execute`, {
      method: 'POST', headers: { authorization: `Bearer ${capability}`, 'content-type': 'application/json' }, body: JSON.stringify({ input }),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  let refused = 0;
  for (const { name, tool } of tools) {
    const granted = await exchange(writ, seeded.agent, { subject_token: run.tokens.access_token, subject_token_type: ACCESS_TOKEN, authorization_details: details([name]) });
    assert.equal(granted.status, 200, JSON.stringify(granted.json));
    const capability = granted.json.access_token as string;
    for (const { at, key, input } of smuggledInputs(tool.input_schema, tool.resource!)) {
      const before = calls.length;
      const res = await execute(name, capability, input);
      const where = `${name}: "${key}" beside ${at.length ? at.join('.') : 'the input'}`;
      assert.equal(res.status, 400, `${where} answered ${res.status} ${JSON.stringify(res.json)}`);
      assert.equal(res.json.error.code, 'invalid_input', where);
      assert.equal(calls.length, before, `${where} reached the provider`);
      refused++;
    }
    const before = calls.length;
    const clean = await execute(name, capability, sampleInput(tool.input_schema));
    assert.equal(clean.status, 200, `${name} without a smuggled key: ${JSON.stringify(clean.json)}`);
    assert.equal(calls.length, before + 1, `${name} reached the provider once`);
    assert.ok(!calls.at(-1)!.body.includes('smuggled-resource'));
  }
  assert.ok(refused >= tools.length * 2, `${refused} smuggled inputs refused`);
  assert.ok(!calls.some((c) => c.body.includes('smuggled-resource')), 'no smuggled key ever reached a provider');
});
