import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshStore, type ContractSuite } from '../support/harness.ts';
import type { McpOrgSettings } from '../../../src/storage/ports/mcp.ts';

// Orgs' answers to external MCP clients: one record per org, replaced whole, never another org's.

const settings = (over: Partial<McpOrgSettings> = {}): McpOrgSettings => ({
  accept: 'listed', clients: ['https://app.example/client.json', 'desk.example'], tools: ['demo.notes.list'], updated_at: '2026-01-01T00:00:00.000Z', ...over,
});

export const mcpContract: ContractSuite = (adapter, factory) => {
  describe(`mcp port (${adapter})`, () => {
    test('settings are per org, read back as written and replaced whole', async (t) => {
      const { store } = await freshStore(t, factory);
      assert.equal(await store.mcp.getSettings('org_a'), undefined);
      await store.mcp.putSettings('org_a', settings());
      assert.deepEqual(await store.mcp.getSettings('org_a'), settings());
      assert.equal(await store.mcp.getSettings('org_b'), undefined, 'another org sees nothing');
      await store.mcp.putSettings('org_a', settings({ accept: 'any', clients: [], tools: [] }));
      assert.deepEqual(await store.mcp.getSettings('org_a'), settings({ accept: 'any', clients: [], tools: [] }));
    });
  });
};
