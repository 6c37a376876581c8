// DNS rebinding: a provider name answers one address when the egress check resolves it and another
// a moment later, when the call connects. The call must reach the address the check approved.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveEgress } from '../../src/connectors/egress.ts';
import { pinnedLookup, ProviderConnections } from '../../src/connectors/provider-connections.ts';
import { namedServer, rebindingLookup, resolvingAgent } from '../support/rebinding.ts';

test('a call connects to the address the egress check approved, not to a later DNS answer', async (t) => {
  const approvedServer = await namedServer('127.0.0.1', 0, 'approved');
  t.after(() => approvedServer.server.close());
  let rebound: Awaited<ReturnType<typeof namedServer>>;
  try {
    rebound = await namedServer('127.0.0.2', approvedServer.port, 'rebound');
  } catch (error) {
    t.skip(`127.0.0.2 cannot be bound on this machine (${(error as Error).message}): nothing to rebind to`);
    return;
  }
  t.after(() => rebound.server.close());

  const host = `provider.test:${approvedServer.port}`;
  const url = new URL(`http://${host}/ping`);
  // The operator's allow-list lets a loopback provider be called over http at all (as for the demo
  // provider); its addresses are still resolved once and pinned.
  const egress = { allowPrivateHosts: [host] };

  // Control: a connection that looks the name up again when it connects follows the new answer.
  const unpinnedLookup = rebindingLookup('127.0.0.1', '127.0.0.2');
  await resolveEgress(url, [host], { ...egress, lookup: unpinnedLookup });
  const lookingAgain = resolvingAgent(unpinnedLookup);
  t.after(() => lookingAgain.close());
  const followed = await fetch(url, { dispatcher: lookingAgain } as RequestInit);
  assert.deepEqual(await followed.json(), { served_by: 'rebound' }, 'the test must be able to see a rebinding');

  // Pinned: the connection goes to what the check approved, and nothing is looked up again.
  const lookup = rebindingLookup('127.0.0.1', '127.0.0.2');
  const approved = await resolveEgress(url, [host], { ...egress, lookup });
  assert.deepEqual(approved, [{ address: '127.0.0.1', family: 4 }]);
  const connections = new ProviderConnections();
  t.after(() => connections.close());
  const calls = 6;
  for (let i = 0; i < calls; i++) {
    const answer: Response = await fetch(url, { dispatcher: connections.dispatcher(url, approved) } as RequestInit);
    assert.deepEqual(await answer.json(), { served_by: 'approved' });
  }
  assert.equal(lookup.calls, 1, 'the name is resolved once, by the egress check');
  assert.equal(rebound.connections(), 1, 'only the control connection reached the rebound address');
  // Kept alive: connections are reused rather than opened per call.
  assert.ok(approvedServer.connections() < calls, `${approvedServer.connections()} connections for ${calls} sequential calls`);
  assert.equal(connections.size, 1);
});

test('a rebinding to a private address is refused at the check, and the pinned lookup never answers it', async () => {
  const url = new URL('https://api.provider.example/v1/items');
  const hosts = ['api.provider.example'];
  // The answer at check time is public; the next would be the metadata address.
  const lookup = rebindingLookup('93.184.215.14', '169.254.169.254');
  const approved = await resolveEgress(url, hosts, { lookup });
  assert.deepEqual(approved, [{ address: '93.184.215.14', family: 4 }]);
  // A second check sees the private answer and refuses.
  await assert.rejects(resolveEgress(url, hosts, { lookup }), { reason: 'private_address' });
  // The socket's lookup answers the approved address whatever the resolver says now, in both of
  // the forms net.connect asks for, and nothing for another name.
  const pinned = pinnedLookup(url.hostname, approved!);
  const one = await new Promise<[string, number | undefined]>((resolve, reject) =>
    pinned('API.provider.example', {}, (error, address, family) => (error ? reject(error) : resolve([address as string, family]))));
  assert.deepEqual(one, ['93.184.215.14', 4]);
  const all = await new Promise<unknown>((resolve, reject) =>
    pinned('api.provider.example', { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));
  assert.deepEqual(all, [{ address: '93.184.215.14', family: 4 }]);
  await assert.rejects(
    new Promise((resolve, reject) => pinned('169.254.169.254.nip.io', { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)))),
    { code: 'ENOTFOUND' },
  );
});

test('a name that resolves to nothing usable is not called', async () => {
  const url = new URL('https://api.provider.example/');
  await assert.rejects(resolveEgress(url, ['api.provider.example'], { lookup: async () => [] }), (error: Error) => !('reason' in error));
  await assert.rejects(resolveEgress(url, ['api.provider.example'], { lookup: async () => [{ address: 'not-an-address' }] }), (error: Error) => !('reason' in error));
});
