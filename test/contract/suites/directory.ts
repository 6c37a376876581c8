import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isWritError } from '../../../src/errors/index.ts';
import { agentRecord, freshStore, plain, T0, twoOrgs, userRecord, type ContractSuite } from '../support/harness.ts';

const isConflict = (err: unknown) => isWritError(err) && err.code === 'conflict';

export const directoryContract: ContractSuite = (adapter, factory) => {
  describe(`directory port (${adapter})`, () => {
    test('the store says what it is and answers a ping', async (t) => {
      const { store } = await freshStore(t, factory);
      assert.equal(store.kind, adapter);
      await store.ping();
    });

    test('orgs: create, get, list in id order; an unknown id finds nothing; an id is taken once', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a, b] = await twoOrgs(store);
      assert.deepEqual(plain(await store.directory.getOrg(a.id)), a);
      assert.equal(await store.directory.getOrg('org_missing'), undefined);
      assert.deepEqual(plain(await store.directory.listOrgs()), [a, b].sort((x, y) => (x.id < y.id ? -1 : 1)));
      await assert.rejects(store.directory.createOrg({ ...a, name: 'Again' }));
      assert.equal((await store.directory.getOrg(a.id))?.name, 'Org A');
    });

    test('users round-trip, are unique by username within an org only, and are found only with their org', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a, b] = await twoOrgs(store);
      const alice = userRecord(a.id, 'alice', { roles: ['member', 'admin'] });
      const bob = userRecord(a.id, 'bob', { email: undefined });
      await store.directory.createUser(a.id, alice);
      await store.directory.createUser(a.id, bob);
      assert.deepEqual(plain(await store.directory.getUser(a.id, alice.id)), plain(alice));
      const gotBob = await store.directory.getUser(a.id, bob.id);
      assert.equal(gotBob?.email, undefined);
      assert.equal(await store.directory.findUserByUsername(a.id, 'alice').then((u) => u?.id), alice.id);

      // The same username in another org is another person.
      const otherAlice = userRecord(b.id, 'alice');
      await store.directory.createUser(b.id, otherAlice);
      assert.equal((await store.directory.findUserByUsername(b.id, 'alice'))?.id, otherAlice.id);

      await assert.rejects(store.directory.createUser(a.id, userRecord(a.id, 'alice')), isConflict);
      assert.equal((await store.directory.listUsers(a.id)).length, 2, 'the refused user was not written');

      // Tenant isolation: another org, or an id alone, finds nothing.
      assert.equal(await store.directory.getUser(b.id, alice.id), undefined);
      assert.equal(await store.directory.getUser(a.id, otherAlice.id), undefined);
      assert.equal(await store.directory.findUserByUsername('org_missing', 'alice'), undefined);
      assert.equal(await store.directory.getUser(a.id, 'alice'), undefined, 'a username is not an id');
      assert.deepEqual((await store.directory.listUsers(a.id)).map((u) => u.id), [alice.id, bob.id].sort());
      assert.deepEqual((await store.directory.listUsers(b.id)).map((u) => u.id), [otherAlice.id]);
      assert.deepEqual(await store.directory.listUsers('org_missing'), []);
    });

    test('concurrent sign-ups for one username: exactly one wins, the rest conflict', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a] = await twoOrgs(store);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () => store.directory.createUser(a.id, userRecord(a.id, 'carol'))));
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results) if (r.status === 'rejected') assert.ok(isConflict(r.reason), String(r.reason));
      assert.equal((await store.directory.listUsers(a.id)).length, 1);
    });

    test('sign-in throttle: per (org, username), replaced on put, removed with undefined', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a, b] = await twoOrgs(store);
      assert.equal(await store.directory.getThrottle(a.id, 'alice'), undefined);
      await store.directory.putThrottle(a.id, 'alice', { failures: 1, locked_until: 0, last_failure_at: 1000 });
      await store.directory.putThrottle(a.id, 'alice', { failures: 5, locked_until: 9000, last_failure_at: 2000 });
      assert.deepEqual(plain(await store.directory.getThrottle(a.id, 'alice')), { failures: 5, locked_until: 9000, last_failure_at: 2000 });
      assert.equal(await store.directory.getThrottle(b.id, 'alice'), undefined);
      assert.equal(await store.directory.getThrottle(a.id, 'bob'), undefined);
      await store.directory.putThrottle(b.id, 'alice', { failures: 1, locked_until: 0, last_failure_at: 1 });
      await store.directory.putThrottle(a.id, 'alice', undefined);
      assert.equal(await store.directory.getThrottle(a.id, 'alice'), undefined);
      assert.equal((await store.directory.getThrottle(b.id, 'alice'))?.failures, 1, 'clearing one org leaves the other');
      await store.directory.putThrottle(a.id, 'nobody', undefined);
    });

    test('resource servers: one per identifier, optionally bound to an org, listed by identifier', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a] = await twoOrgs(store);
      const billing = { identifier: 'https://billing.example/api', name: 'Billing', org_id: a.id, created_at: T0 };
      const shared = { identifier: 'https://a.example/v1.0', name: 'Shared', created_at: T0 };
      await store.directory.createResourceServer(billing);
      await store.directory.createResourceServer(shared);
      assert.deepEqual(plain(await store.directory.getResourceServer(billing.identifier)), billing);
      const gotShared = await store.directory.getResourceServer(shared.identifier);
      assert.equal(gotShared?.org_id, undefined);
      assert.equal(await store.directory.getResourceServer('https://billing.example/api/'), undefined, 'identifiers match exactly');
      await assert.rejects(store.directory.createResourceServer({ ...billing, name: 'Again' }), isConflict);
      assert.deepEqual((await store.directory.listResourceServers()).map((r) => r.identifier), [shared.identifier, billing.identifier]);
    });

    test('agents: round trip, listed per org, found by client_id alone only for client authentication', async (t) => {
      const { store } = await freshStore(t, factory);
      const [a, b] = await twoOrgs(store);
      const secretAgent = agentRecord(a.id);
      const jwtAgent = agentRecord(a.id, {
        token_endpoint_auth_method: 'private_key_jwt', client_secret_digest: undefined,
        jwks: { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1' }] },
      });
      const otherOrgAgent = agentRecord(b.id);
      for (const agent of [secretAgent, jwtAgent]) await store.directory.createAgent(a.id, agent);
      await store.directory.createAgent(b.id, otherOrgAgent);

      assert.deepEqual(plain(await store.directory.getAgent(a.id, secretAgent.client_id)), plain(secretAgent));
      assert.deepEqual(plain(await store.directory.getAgent(a.id, jwtAgent.client_id)), plain(jwtAgent));
      assert.equal(await store.directory.getAgent(b.id, secretAgent.client_id), undefined);
      assert.deepEqual((await store.directory.listAgents(a.id)).map((x) => x.client_id), [secretAgent.client_id, jwtAgent.client_id].sort());
      assert.deepEqual((await store.directory.listAgents(b.id)).map((x) => x.client_id), [otherOrgAgent.client_id]);

      const forAuth = await store.directory.findAgentForClientAuthentication(otherOrgAgent.client_id);
      assert.equal(forAuth?.org_id, b.id, 'the record names the org every later step is bound to');
      assert.equal(await store.directory.findAgentForClientAuthentication('agt_missing'), undefined);

      // A client_id is unique across the deployment, not only within an org.
      await assert.rejects(store.directory.createAgent(b.id, { ...secretAgent, org_id: b.id }));
      assert.equal((await store.directory.findAgentForClientAuthentication(secretAgent.client_id))?.org_id, a.id);

      assert.equal(await store.directory.deleteAgent(b.id, secretAgent.client_id), false, 'another org cannot delete it');
      assert.equal(await store.directory.deleteAgent(a.id, secretAgent.client_id), true);
      assert.equal(await store.directory.deleteAgent(a.id, secretAgent.client_id), false);
      assert.equal(await store.directory.getAgent(a.id, secretAgent.client_id), undefined);
      assert.equal(await store.directory.findAgentForClientAuthentication(secretAgent.client_id), undefined);
    });
  });
};
