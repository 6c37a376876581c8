import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GENESIS_HASH, hashEvent } from '../../../src/audit/chain.ts';
import { newId } from '../../../src/core/ids.ts';
import type { AuditRecord, WritStore } from '../../../src/storage/index.ts';
import { assertIntactChain } from './audit.ts';
import { freshStore, grantRecord, isoAt, T0, userRecord, type ContractSuite, type StoreFactory } from '../support/harness.ts';

// Two handles on the same data behave as two processes: each sees the other's writes, and the
// atomic steps (audit append, lease, credential swap, spend) hold across them.

async function peers(t: Parameters<typeof freshStore>[0], factory: StoreFactory): Promise<[WritStore, WritStore]> {
  const opened = await freshStore(t, factory);
  if (!opened.openPeer) throw new Error('this adapter cannot open a second handle');
  return [opened.store, await opened.openPeer()];
}

const nextEvent = (org_id: string, i: number) => (head: { seq: number; hash: string } | undefined): AuditRecord => {
  const base = {
    id: newId('evt'), org_id, seq: (head?.seq ?? 0) + 1, at: isoAt(0), type: 'tool.executed',
    actor: { kind: 'agent', client_id: 'agt_1' }, subject: {}, details: { i }, prev_hash: head?.hash ?? GENESIS_HASH,
  };
  return { ...base, hash: hashEvent(base) };
};

export const peersContract: ContractSuite = (adapter, factory) => {
  describe(`two handles on one store (${adapter})`, () => {
    test('each handle reads what the other wrote', async (t) => {
      const [one, two] = await peers(t, factory);
      const org = { id: newId('org'), name: 'Shared', created_at: T0 };
      await one.directory.createOrg(org);
      const user = userRecord(org.id, 'dana');
      await two.directory.createUser(org.id, user);
      assert.equal((await one.directory.findUserByUsername(org.id, 'dana'))?.id, user.id);
      const g = grantRecord(org.id);
      await one.grants.createGrant(org.id, g);
      assert.equal((await two.grants.revokeGrants(org.id, { id: g.id }, isoAt(1))).length, 1);
      assert.equal((await one.grants.getGrant(org.id, g.id))?.revoked_at, isoAt(1), 'a revocation is seen at once by the other handle');
      await one.oidc.upsert('AuthorizationCode', 'c1', { grantId: g.id }, Date.now() + 600_000);
      await two.oidc.consume('AuthorizationCode', 'c1', 42);
      assert.equal((await one.oidc.find('AuthorizationCode', 'c1'))?.consumed, 42);
      await two.oidc.revokeByGrantId(g.id);
      assert.equal(await one.oidc.find('AuthorizationCode', 'c1'), undefined);
    });

    test('audit appends racing from both handles keep one chain: seq 1..N, links intact', async (t) => {
      const [one, two] = await peers(t, factory);
      const N = 40;
      await Promise.all(Array.from({ length: N }, (_, i) => (i % 2 === 0 ? one : two).audit.appendAudit('org_A', nextEvent('org_A', i))));
      assertIntactChain(await one.audit.scanAudit('org_A', 0, N + 1), N);
      assert.equal((await two.audit.queryAudit('org_A', { limit: 1 }))[0]?.seq, N);
    });

    test('revocation feed appends racing from both handles: nothing lost, no position shared', async (t) => {
      const [one, two] = await peers(t, factory);
      const entry = (id: string) => ({ id, type: 'jti' as const, at: T0, expires: 2_000_000_000 });
      await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? one : two).revocationFeed.appendRevocations([entry(`r${i}`)])));
      const { entries, cursor } = await two.revocationFeed.listRevocations(0, 100);
      assert.deepEqual(entries.map((e) => e.id).sort(), Array.from({ length: 30 }, (_, i) => `r${i}`).sort());
      assert.deepEqual(await one.revocationFeed.listRevocations(cursor, 100), { entries: [], cursor });
      const spent = await Promise.all([one, two, one, two].map(async (s, i) => {
        if (i === 0) await s.capabilities.recordCapability('org_A', {
          jti: 'cap_1', org_id: 'org_A', auth_event_id: 'grt_1', client_id: 'agt_1', format: 'jwt', revocation_ids: [],
          single_use: true, exp: 2_000_000_000, created_at: T0,
        });
        return s.capabilities.spendCapability('org_A', 'cap_1', T0);
      }));
      assert.equal(spent.filter(Boolean).length, 1, 'a single-use capability is spent once across handles');
      assert.equal(await two.capabilities.spendCapability('org_A', 'cap_1', T0), false);
      assert.ok((await two.capabilities.getCapability('org_A', 'cap_1'))?.spent_at);
    });

    test('leases and credential swaps are exclusive across handles', async (t) => {
      const [one, two] = await peers(t, factory);
      const now = Date.now();
      const leases = await Promise.all([one, two, one, two].map((s, i) => s.vault.acquireLease('org_A', 'acct_1', `p${i}`, 60_000, now)));
      assert.equal(leases.filter(Boolean).length, 1);
      await one.vault.createAccount('org_A', {
        id: 'acct_1', org_id: 'org_A', owner: { kind: 'org' }, connector: 'slack', status: 'active', scopes: [],
        created_at: T0, updated_at: T0, credential_version: 0,
      });
      const write = (s: string) => ({ sealed_credential: s, credential_type: 'oauth2' as const, status: 'active' as const, scopes: [], updated_at: T0 });
      const swaps = await Promise.all([one, two, one, two].map((s, i) => s.vault.swapCredential('org_A', 'acct_1', 0, write(`c${i}`))));
      const winners = swaps.filter(Boolean);
      assert.equal(winners.length, 1);
      assert.equal((await two.vault.getAccount('org_A', 'acct_1'))?.sealed_credential, winners[0]?.sealed_credential);
    });
  });
};
