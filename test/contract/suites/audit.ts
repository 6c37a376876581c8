import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GENESIS_HASH, hashEvent } from '../../../src/audit/chain.ts';
import { AuditLog } from '../../../src/audit/log.ts';
import { systemClock } from '../../../src/core/clock.ts';
import { newId } from '../../../src/core/ids.ts';
import type { AuditRecord, AuditStore } from '../../../src/storage/index.ts';
import { freshStore, isoAt, plain, type ContractSuite } from '../support/harness.ts';

type Head = { seq: number; hash: string } | undefined;
interface EventInput { type?: string; at?: string; actor?: Record<string, unknown>; subject?: Record<string, unknown>; details?: Record<string, unknown> }

/** Builds the next event from the head the store hands over, as the audit log does. */
const builder = (org_id: string, input: EventInput = {}, seen?: Head[]) => (head: Head): AuditRecord => {
  seen?.push(head);
  const base = {
    id: newId('evt'), org_id, seq: (head?.seq ?? 0) + 1, at: input.at ?? isoAt(0), type: input.type ?? 'tool.executed',
    actor: input.actor ?? { kind: 'agent', client_id: 'agt_1' }, subject: input.subject ?? {}, details: input.details ?? {},
    prev_hash: head?.hash ?? GENESIS_HASH,
  };
  return { ...base, hash: hashEvent(base) };
};

async function wholeChain(audit: AuditStore, org_id: string): Promise<AuditRecord[]> {
  const all: AuditRecord[] = [];
  for (let after = 0; ;) {
    const page = await audit.scanAudit(org_id, after, 7);
    all.push(...page);
    if (page.length < 7) return all;
    after = page.at(-1)!.seq;
  }
}

/** seq 1..n without a gap or a duplicate, each prev_hash the hash before it, each hash recomputable. */
export function assertIntactChain(chain: AuditRecord[], n: number): void {
  assert.deepEqual(chain.map((e) => e.seq), Array.from({ length: n }, (_, i) => i + 1));
  let prev = GENESIS_HASH;
  for (const e of chain) {
    assert.equal(e.prev_hash, prev, `event ${e.seq} links to the event before it`);
    const { hash, ...rest } = e;
    assert.equal(hashEvent(rest), hash, `event ${e.seq} is stored as it was hashed`);
    prev = hash;
  }
}

export const auditContract: ContractSuite = (adapter, factory) => {
  describe(`audit port (${adapter})`, () => {
    test('append hands the builder the chain head and stores exactly what it built', async (t) => {
      const { store } = await freshStore(t, factory);
      const seen: Head[] = [];
      const details = { 'resource.url': 'https://x.test/a.b', $note: 'dollar key', nested: { list: [1, 2.5, 'ü', null], flag: false } };
      const first = await store.audit.appendAudit('org_A', builder('org_A', { details }, seen));
      const second = await store.audit.appendAudit('org_A', builder('org_A', {}, seen));
      assert.deepEqual(plain(seen), plain([undefined, { seq: 1, hash: first.hash }]));
      assert.equal(second.prev_hash, first.hash);
      const chain = await store.audit.scanAudit('org_A', 0, 10);
      assert.deepEqual(plain(chain), plain([first, second]));
      assertIntactChain(chain, 2);
      assert.equal((await new AuditLog(store.audit, systemClock).verify('org_A')).ok, true);
    });

    test('a builder that throws writes nothing and leaves the chain usable', async (t) => {
      const { store } = await freshStore(t, factory);
      await store.audit.appendAudit('org_A', builder('org_A'));
      await assert.rejects(store.audit.appendAudit('org_A', () => { throw new Error('refused'); }), /refused/);
      await store.audit.appendAudit('org_A', builder('org_A'));
      assertIntactChain(await wholeChain(store.audit, 'org_A'), 2);
    });

    test('many concurrent appends for one org: seq 1..N, no gap, no duplicate, links intact; orgs chain apart', async (t) => {
      const { store } = await freshStore(t, factory);
      const N = 60;
      const log = new AuditLog(store.audit, systemClock);
      await Promise.all(Array.from({ length: N }, (_, i) => [
        store.audit.appendAudit('org_A', builder('org_A', { details: { i } })),
        log.record('org_B', { type: 'tool.executed', actor: { kind: 'agent', client_id: 'agt_1' }, details: { i } }),
      ]).flat());
      assertIntactChain(await wholeChain(store.audit, 'org_A'), N);
      assertIntactChain(await wholeChain(store.audit, 'org_B'), N);
      assert.deepEqual(await log.verify('org_A'), { ok: true, events_checked: N });
      assert.deepEqual(await store.audit.scanAudit('org_C', 0, 10), []);
    });

    test('query filters by type, user, agent, tool, grant, capability and time; pages newest first', async (t) => {
      const { store } = await freshStore(t, factory);
      const add = (org: string, input: EventInput) => store.audit.appendAudit(org, builder(org, input));
      await add('org_A', { type: 'grant.created', at: isoAt(0), actor: { kind: 'user', user_id: 'usr_1' }, subject: { grant_id: 'grt_1', agent_id: 'agt_1' } }); // 1
      await add('org_A', { type: 'token.exchanged', at: isoAt(1), actor: { kind: 'agent', client_id: 'agt_1' }, details: { auth_event_id: 'grt_1', jti: 'cap_1', user_id: 'usr_1' } }); // 2
      await add('org_A', { type: 'tool.executed', at: isoAt(2), actor: { kind: 'agent', client_id: 'agt_1' }, details: { tool: 'notion.pages.create', capability_id: 'cap_1', grant_id: 'grt_1', user_id: 'usr_1' } }); // 3
      await add('org_A', { type: 'tool.executed', at: isoAt(3), actor: { kind: 'agent', agent_id: 'agt_2' }, details: { tool: 'gmail.messages.send', user_id: 'usr_2' } }); // 4
      await add('org_A', { type: 'grant.revoked', at: isoAt(4), actor: { kind: 'admin' }, subject: { grant_id: 'grt_1' } }); // 5
      await add('org_B', { type: 'tool.executed', at: isoAt(2), actor: { kind: 'agent', client_id: 'agt_1' }, details: { tool: 'notion.pages.create', user_id: 'usr_1', grant_id: 'grt_1' } });

      const seqs = async (q: Partial<Parameters<AuditStore['queryAudit']>[1]>, org = 'org_A') =>
        (await store.audit.queryAudit(org, { limit: 100, ...q })).map((e) => e.seq);
      assert.deepEqual(await seqs({}), [5, 4, 3, 2, 1]);
      assert.deepEqual(await seqs({ type: 'tool.executed' }), [4, 3]);
      assert.deepEqual(await seqs({ user_id: 'usr_1' }), [3, 2, 1]);
      assert.deepEqual(await seqs({ agent_id: 'agt_1' }), [3, 2, 1], 'client_id counts as the agent');
      assert.deepEqual(await seqs({ agent_id: 'agt_2' }), [4]);
      assert.deepEqual(await seqs({ tool: 'notion.pages.create' }), [3]);
      assert.deepEqual(await seqs({ grant_id: 'grt_1' }), [5, 3, 2, 1], 'auth_event_id counts as the grant');
      assert.deepEqual(await seqs({ capability_id: 'cap_1' }), [3, 2], 'jti counts as the capability');
      assert.deepEqual(await seqs({ since: isoAt(1), until: isoAt(3) }), [3, 2], 'since inclusive, until exclusive');
      assert.deepEqual(await seqs({ since: isoAt(4) }), [5]);
      assert.deepEqual(await seqs({ until: isoAt(1) }), [1]);
      assert.deepEqual(await seqs({ type: 'tool.executed', user_id: 'usr_1', tool: 'notion.pages.create' }), [3]);
      assert.deepEqual(await seqs({ type: 'tool.executed', user_id: 'usr_2', tool: 'notion.pages.create' }), []);
      // Paging: newest first, `before_seq` continues where the last page ended.
      assert.deepEqual(await seqs({ limit: 2 }), [5, 4]);
      assert.deepEqual(await seqs({ limit: 2, before_seq: 4 }), [3, 2]);
      assert.deepEqual(await seqs({ limit: 2, before_seq: 2 }), [1]);
      assert.deepEqual(await seqs({ limit: 2, before_seq: 1 }), []);
      assert.deepEqual(await seqs({ limit: 0 }), []);
      // Tenant isolation: the same user, agent and grant ids in org B see only org B's event.
      assert.deepEqual(await seqs({ user_id: 'usr_1' }, 'org_B'), [1]);
      assert.deepEqual(await seqs({ grant_id: 'grt_1', type: 'grant.revoked' }, 'org_B'), []);
      assert.deepEqual(await seqs({}, 'org_C'), []);
      const [newest] = await store.audit.queryAudit('org_A', { limit: 1 });
      assert.deepEqual(newest?.subject, { grant_id: 'grt_1' });
      assert.equal(newest?.org_id, 'org_A');
    });

    test('scan pages oldest first after a seq', async (t) => {
      const { store } = await freshStore(t, factory);
      for (let i = 0; i < 5; i++) await store.audit.appendAudit('org_A', builder('org_A'));
      const seqs = async (after: number, limit: number) => (await store.audit.scanAudit('org_A', after, limit)).map((e) => e.seq);
      assert.deepEqual(await seqs(0, 2), [1, 2]);
      assert.deepEqual(await seqs(2, 2), [3, 4]);
      assert.deepEqual(await seqs(4, 2), [5]);
      assert.deepEqual(await seqs(5, 2), []);
      assert.deepEqual(await seqs(0, 0), []);
      assert.deepEqual(await store.audit.scanAudit('org_B', 0, 10), []);
    });
  });
};
