// DNS rebinding, for tests of outbound calls: a name whose answer changes after the first question,
// and servers on two loopback addresses that say which one a call reached.
import type { LookupAddress, LookupOptions } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import type { EgressLookup } from '../../src/connectors/egress.ts';

export interface NamedServer { server: Server; port: number; connections: () => number; requests: () => number }

/** A server on one loopback address that says which one it is, counting the connections and requests it accepts. */
export async function namedServer(host: string, port: number, name: string): Promise<NamedServer> {
  let connections = 0;
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ served_by: name }));
  });
  server.on('connection', () => { connections++; });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections, requests: () => requests };
}

/** A resolver whose answer changes after the first question, as a rebinding name's does. */
export function rebindingLookup(first: string, then: string): EgressLookup & { calls: number } {
  const lookup = Object.assign(async () => {
    lookup.calls++;
    return [{ address: lookup.calls === 1 ? first : then }];
  }, { calls: 0 });
  return lookup;
}

/**
 * The approved server on 127.0.0.1 and a rebound one on 127.0.0.2 at the same port, or the reason
 * 127.0.0.2 cannot be bound here (then there is nothing to rebind to).
 */
export async function rebindingPair(t: { after(fn: () => unknown): void }): Promise<{ approved: NamedServer; rebound: NamedServer } | { skip: string }> {
  const approved = await namedServer('127.0.0.1', 0, 'approved');
  t.after(() => approved.server.close());
  try {
    const rebound = await namedServer('127.0.0.2', approved.port, 'rebound');
    t.after(() => rebound.server.close());
    return { approved, rebound };
  } catch (error) {
    return { skip: `127.0.0.2 cannot be bound on this machine (${(error as Error).message}): nothing to rebind to` };
  }
}

/** An undici Agent that asks `lookup` again whenever it connects: what an unpinned connection does. */
export function resolvingAgent(lookup: EgressLookup): Agent {
  return new Agent({
    connect: {
      lookup: (hostname: string, options: LookupOptions, callback: (e: NodeJS.ErrnoException | null, a: string | LookupAddress[], f?: number) => void) => {
        void lookup(hostname).then((answer) => {
          if (options.all === true) callback(null, answer.map((a) => ({ address: a.address, family: 4 })));
          else callback(null, answer[0]!.address, 4);
        });
      },
    },
  });
}
