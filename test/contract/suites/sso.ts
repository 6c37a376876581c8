import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IdentityProviderRecord } from '../../../src/storage/index.ts';
import { freshStore, isoAt, plain, T0, type ContractSuite } from '../support/harness.ts';

const idp = (org_id: string, extra: Partial<IdentityProviderRecord> = {}): IdentityProviderRecord => ({
  org_id, issuer: 'https://idp.example', client_id: 'writ', token_endpoint_auth_method: 'client_secret_basic', sealed_client_secret: 'sealed',
  scopes: ['openid'], claims: { username: 'preferred_username', email: 'email', display_name: 'name', roles: 'groups' }, admin_values: [],
  domains: [], local_passwords: true, sensitive_max_age: 300, accept_id_jag: false, created_at: T0, updated_at: T0, ...extra,
});

export const ssoContract: ContractSuite = (adapter, factory) => {
  describe(`sso port (${adapter})`, () => {
    test('an org\'s provider is its own, a re-put keeps created_at, and its domains find it', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.sso.putIdentityProvider('org_A', idp('org_A', { domains: ['a.example', 'a2.example'] }));
      await store.sso.putIdentityProvider('org_A', idp('org_A', { domains: ['a.example'], issuer: 'https://idp2.example', created_at: isoAt(5), updated_at: isoAt(5) }));
      const got = (await store.sso.getIdentityProvider('org_A'))!;
      assert.equal(got.issuer, 'https://idp2.example');
      assert.equal(got.created_at, T0);
      assert.equal(got.updated_at, isoAt(5));
      assert.equal(await store.sso.getIdentityProvider('org_B'), undefined);
      assert.equal(await store.sso.orgForDomain('a.example'), 'org_A');
      assert.equal(await store.sso.orgForDomain('a2.example'), undefined, 'a domain dropped from the provider no longer finds the org');
      await assert.rejects(store.sso.putIdentityProvider('org_A', idp('org_B')), TypeError);
    });

    test('a domain is one org\'s: claiming another org\'s changes nothing', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.sso.putIdentityProvider('org_A', idp('org_A', { domains: ['a.example'] }));
      await store.sso.putIdentityProvider('org_B', idp('org_B', { domains: ['b.example'] }));
      await assert.rejects(store.sso.putIdentityProvider('org_B', idp('org_B', { domains: ['b2.example', 'a.example'], issuer: 'https://other.example' })), (e: any) => e.code === 'conflict');
      assert.equal(await store.sso.orgForDomain('a.example'), 'org_A');
      assert.equal(await store.sso.orgForDomain('b.example'), 'org_B');
      assert.equal(await store.sso.orgForDomain('b2.example'), undefined);
      assert.equal((await store.sso.getIdentityProvider('org_B'))!.issuer, 'https://idp.example');
    });

    test('two orgs claiming one domain at once: exactly one holds it', async (t) => {
      const { store } = await freshStore(t, factory);
      const results = await Promise.allSettled(['org_A', 'org_B', 'org_C'].map((org) => store.sso.putIdentityProvider(org, idp(org, { domains: ['shared.example', `${org}.example`] }))));
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [['org_A', 'org_B', 'org_C'][i]!] : []));
      assert.equal(winners.length, 1, JSON.stringify(results.map((r) => r.status)));
      assert.equal(await store.sso.orgForDomain('shared.example'), winners[0]);
      for (const org of ['org_A', 'org_B', 'org_C'].filter((o) => o !== winners[0])) {
        assert.equal(await store.sso.getIdentityProvider(org), undefined, 'a refused put wrote nothing');
        assert.equal(await store.sso.orgForDomain(`${org}.example`), undefined);
      }
    });

    test('links are per org and provider, created once, and go with the provider', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.sso.putIdentityProvider('org_A', idp('org_A', { domains: ['a.example'] }));
      const link = { org_id: 'org_A', issuer: 'https://idp.example', subject: 'sub-1', user_id: 'usr_1', display_name: 'One', created_at: T0 };
      await store.sso.createLink('org_A', link);
      await assert.rejects(store.sso.createLink('org_A', { ...link, user_id: 'usr_2' }), (e: any) => e.code === 'conflict');
      assert.deepEqual(plain(await store.sso.getLink('org_A', 'https://idp.example', 'sub-1')), link);
      assert.equal(await store.sso.getLink('org_B', 'https://idp.example', 'sub-1'), undefined);
      assert.equal(await store.sso.getLink('org_A', 'https://other.example', 'sub-1'), undefined);
      // A deleted user's links go with them, and only theirs, only in their org.
      const other = { ...link, subject: 'sub-2', user_id: 'usr_2' };
      const second = { ...link, issuer: 'https://other.example' };
      await store.sso.createLink('org_A', other);
      await store.sso.createLink('org_A', second);
      await store.sso.putIdentityProvider('org_B', idp('org_B', { domains: ['b.example'] }));
      await store.sso.createLink('org_B', { ...link, org_id: 'org_B' });
      assert.equal(await store.sso.deleteLinksOf('org_A', 'usr_1'), 2);
      assert.equal(await store.sso.deleteLinksOf('org_A', 'usr_1'), 0);
      assert.equal(await store.sso.getLink('org_A', 'https://idp.example', 'sub-1'), undefined);
      assert.equal(await store.sso.getLink('org_A', 'https://other.example', 'sub-1'), undefined);
      assert.deepEqual(plain(await store.sso.getLink('org_A', 'https://idp.example', 'sub-2')), other);
      assert.equal((await store.sso.getLink('org_B', 'https://idp.example', 'sub-1'))?.user_id, 'usr_1');
      await store.sso.createLink('org_A', link);
      assert.equal(await store.sso.deleteIdentityProvider('org_A'), true);
      assert.equal(await store.sso.deleteIdentityProvider('org_A'), false);
      assert.equal(await store.sso.getLink('org_A', 'https://idp.example', 'sub-1'), undefined);
      assert.equal(await store.sso.orgForDomain('a.example'), undefined);
    });

    test('cross-app policies are per org and replaced whole', async (t) => {
      const { store } = await freshStore(t, factory);
      const target = { audience: 'https://as.example', clients: { agt_1: 'c1' }, scopes: ['read'], resources: [], ttl: 300 };
      await store.sso.putCrossAppPolicy('org_A', { org_id: 'org_A', targets: [target, { ...target, audience: 'https://as2.example' }], updated_at: T0 });
      await store.sso.putCrossAppPolicy('org_A', { org_id: 'org_A', targets: [target], updated_at: isoAt(1) });
      assert.deepEqual(plain(await store.sso.getCrossAppPolicy('org_A')), { org_id: 'org_A', targets: [target], updated_at: isoAt(1) });
      assert.equal(await store.sso.getCrossAppPolicy('org_B'), undefined);
    });
  });
};
