import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { OrgConnectorRecord } from '../../../src/storage/index.ts';
import { freshStore, isoAt, T0, type ContractSuite } from '../support/harness.ts';

const connector = (org_id: string, name: string, extra: Partial<OrgConnectorRecord> = {}): OrgConnectorRecord =>
  ({ org_id, name, definition: {}, created_at: T0, updated_at: T0, ...extra });

export const orgConnectorsContract: ContractSuite = (adapter, factory) => {
  describe(`org connectors port (${adapter})`, () => {
    test('org connectors are per org and an upsert keeps created_at', async (t) => {
      const { store } = await freshStore(t, factory);
      const c = connector('org_A', 'acme', { definition: { display_name: 'Acme' }, sealed_client_secret: 'sealed' });
      await store.orgConnectors.putOrgConnector('org_A', c);
      await store.orgConnectors.putOrgConnector('org_A', { ...c, definition: { display_name: 'Acme 2' }, created_at: '2030-01-01T00:00:00.000Z', updated_at: isoAt(1) });
      const got = (await store.orgConnectors.getOrgConnector('org_A', 'acme'))!;
      assert.deepEqual(got.definition, { display_name: 'Acme 2' });
      assert.equal(got.created_at, T0);
      assert.equal(got.updated_at, isoAt(1));
      assert.equal(await store.orgConnectors.getOrgConnector('org_B', 'acme'), undefined);
      assert.deepEqual(await store.orgConnectors.listOrgConnectors('org_B'), []);
      assert.equal(await store.orgConnectors.deleteOrgConnector('org_B', 'acme'), false);
      assert.equal(await store.orgConnectors.deleteOrgConnector('org_A', 'acme'), true);
      assert.equal(await store.orgConnectors.getOrgConnector('org_A', 'acme'), undefined);
    });

    test('re-putting an org connector without a client secret removes the old one', async (t) => {
      const { store } = await freshStore(t, factory);
      const def = { display_name: 'Acme', tools: { 'acme.items.list': { method: 'GET', path: '/items' } }, $schema: 'v1' };
      await store.orgConnectors.putOrgConnector('org_A', connector('org_A', 'acme', { definition: def, sealed_client_secret: 'sealed' }));
      assert.deepEqual((await store.orgConnectors.getOrgConnector('org_A', 'acme'))?.definition, def);
      await store.orgConnectors.putOrgConnector('org_A', connector('org_A', 'acme', { definition: def, updated_at: isoAt(1) }));
      const got = await store.orgConnectors.getOrgConnector('org_A', 'acme');
      assert.equal(got?.sealed_client_secret, undefined);
      assert.equal(got?.updated_at, isoAt(1));
      await store.orgConnectors.putOrgConnector('org_A', connector('org_A', 'zeta'));
      assert.deepEqual((await store.orgConnectors.listOrgConnectors('org_A')).map((c) => c.name), ['acme', 'zeta']);
      await assert.rejects(store.orgConnectors.putOrgConnector('org_A', connector('org_B', 'x')), TypeError);
    });

    test('deleteOrg removes that org\'s connectors and nothing else', async (t) => {
      const { store } = await freshStore(t, factory);
      for (const org of ['org_A', 'org_B']) await store.orgConnectors.putOrgConnector(org, connector(org, 'acme'));
      await store.orgConnectors.deleteOrg('org_A');
      assert.deepEqual(await store.orgConnectors.listOrgConnectors('org_A'), []);
      assert.deepEqual((await store.orgConnectors.listOrgConnectors('org_B')).map((c) => c.name), ['acme']);
    });
  });
};
