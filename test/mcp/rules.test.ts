// The rules external MCP clients live by, as properties: what an org's ceiling lets through, which
// clients an org accepts, the account reference that names the org, and the one agent per client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { acceptsClient, ensureOrgAgent, externalAccountId, orgAgentId, parseExternalAccountId, withinOrgCeiling } from '../../src/as/mcp-clients.ts';
import { openSqliteStore } from '../../src/storage/sqlite/index.ts';
import type { ToolAccessDetail } from '../../src/rights/rights.ts';
import { protectedResourceMetadata, protectedResourceMetadataUrl } from '../../src/verifier/mcp.ts';

const RUNS = Number(process.env.WRIT_PROPERTY_RUNS ?? 200);
const segment = fc.stringMatching(/^[a-z]{1,6}$/);
const tool = fc.tuple(segment, segment).map(([c, t]) => `${c}.${t}`);
const pattern = fc.oneof(tool, segment.map((c) => `${c}.*`), fc.constant('*'));

test('the org\'s ceiling only narrows: nothing outside it or the request, never a wildcard, nothing lost', () => {
  fc.assert(fc.property(
    fc.array(fc.array(fc.oneof(tool, pattern), { minLength: 1, maxLength: 4 }), { maxLength: 4 }), fc.array(pattern, { maxLength: 5 }),
    (requests, ceiling) => {
      const requested: ToolAccessDetail[] = requests.map((tools) => ({ type: 'tool_access', tools }));
      const { granted, withheld } = withinOrgCeiling(requested, ceiling);
      const asked = requests.flat();
      for (const d of granted) {
        for (const t of d.tools) {
          assert.ok(!t.includes('*'), 'no wildcard is granted');
          assert.ok(asked.includes(t), 'only what was asked');
          assert.ok(ceiling.some((p) => p === t || p === '*' || (p.endsWith('.*') && t.startsWith(p.slice(0, -1)))), 'only within the ceiling');
        }
      }
      assert.equal(granted.flatMap((d) => d.tools).length + withheld.length, asked.length, 'each asked tool is granted or withheld');
    },
  ), { numRuns: RUNS });
});

test('an org accepts a client only as its settings say', () => {
  const clientId = fc.tuple(segment, segment).map(([h, p]) => `https://${h}.example/${p}.json`);
  fc.assert(fc.property(clientId, fc.array(fc.oneof(clientId, segment.map((h) => `${h}.example`)), { maxLength: 4 }), fc.constantFrom('none', 'any', 'listed'), (id, clients, accept) => {
    const answer = acceptsClient({ accept: accept as 'none' | 'any' | 'listed', clients, tools: [], updated_at: '' }, id);
    const listed = clients.includes(id) || clients.includes(new URL(id).host);
    assert.equal(answer.ok, accept === 'any' || (accept === 'listed' && listed));
    assert.equal(acceptsClient(undefined, id).ok, false, 'no settings: refused');
  }), { numRuns: RUNS });
});

test('the session account names the org and the user, and nothing else parses as one', () => {
  const id = fc.stringMatching(/^[a-z]{3}_[0-9A-Z]{4,26}$/);
  fc.assert(fc.property(id, id, fc.string(), (org, user, junk) => {
    assert.deepEqual(parseExternalAccountId(externalAccountId(org, user)), { org_id: org, user_id: user });
    const parsed = parseExternalAccountId(junk);
    if (parsed) assert.equal(externalAccountId(parsed.org_id, parsed.user_id), junk);
    assert.equal(parseExternalAccountId(`${org}:${user}:extra`), undefined);
    assert.equal(parseExternalAccountId(user), undefined, 'an agent\'s plain user id is not an external account');
  }), { numRuns: RUNS });
});

test('first consents racing for one client in one org make one agent, with the org\'s ceiling', async () => {
  const store = openSqliteStore(':memory:');
  await store.directory.createOrg({ id: 'org_a', name: 'A', created_at: new Date().toISOString() });
  await store.directory.createOrg({ id: 'org_b', name: 'B', created_at: new Date().toISOString() });
  const client = { clientId: 'https://app.example/client.json', clientName: 'App' };
  const agents = await Promise.all(Array.from({ length: 16 }, (_, i) => ensureOrgAgent(store.directory, i % 2 ? 'org_a' : 'org_b', client, ['demo.notes.list'], new Date().toISOString())));
  assert.deepEqual(new Set(agents.map((a) => a.client_id)), new Set([orgAgentId('org_a', client.clientId), orgAgentId('org_b', client.clientId)]));
  assert.notEqual(orgAgentId('org_a', client.clientId), orgAgentId('org_b', client.clientId), 'one agent per org');
  assert.equal((await store.directory.listAgents('org_a')).length, 1);
  const widened = await ensureOrgAgent(store.directory, 'org_a', client, ['demo.notes.list', 'demo.notes.create'], new Date().toISOString());
  assert.deepEqual(widened.tools, ['demo.notes.list', 'demo.notes.create'], 'a later consent brings the org\'s current ceiling');
  await store.close();
});

test('a resource\'s metadata URL follows its identifier (RFC 9728 §3.1)', () => {
  assert.equal(protectedResourceMetadataUrl('https://docs.example/mcp'), 'https://docs.example/.well-known/oauth-protected-resource/mcp');
  assert.equal(protectedResourceMetadataUrl('https://docs.example/'), 'https://docs.example/.well-known/oauth-protected-resource');
  assert.equal(protectedResourceMetadataUrl('https://docs.example:8443/tenant/mcp'), 'https://docs.example:8443/.well-known/oauth-protected-resource/tenant/mcp');
  assert.deepEqual(protectedResourceMetadata({ resource: 'https://docs.example/mcp', issuer: 'https://writ.example', tools: ['docs.search'] }), {
    resource: 'https://docs.example/mcp', authorization_servers: ['https://writ.example'], bearer_methods_supported: ['header'], scopes_supported: ['tool:docs.search'],
  });
});
