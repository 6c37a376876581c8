import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, type Dispatcher } from 'undici';
import { resolveEgress, type ApprovedAddresses, type EgressLookup, type EgressOptions } from './egress.ts';

// Keep-alive connections to provider hosts, each pool pinned to the addresses the egress check
// approved. The socket is opened to one of those addresses and nothing else: no second DNS
// lookup happens between the check and the connect, so a name that answers with a public address
// for the check and a private one a moment later (DNS rebinding) never reaches the private one.
// TLS still verifies the certificate for the host name, which is what the URL says.

export interface ProviderConnectionsOptions {
  /** Pools kept at once, one per origin and set of approved addresses (default 256); the least recently used closes first. */
  maxPools?: number;
  /** Idle time after which a kept-alive socket is closed (default 10 s). */
  keepAliveTimeoutMs?: number;
  /** Sockets per pool (default 32). */
  connectionsPerPool?: number;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for `net.connect` that answers only with the approved addresses of one host. */
export function pinnedLookup(hostname: string, approved: ApprovedAddresses) {
  const expected = hostname.toLowerCase();
  return (host: string, options: LookupOptions | number | LookupCallback, callback?: LookupCallback): void => {
    const done = (typeof options === 'function' ? options : callback)!;
    const all = typeof options === 'object' && options !== null && options.all === true;
    if (host.toLowerCase() !== expected || approved.length === 0) {
      const error: NodeJS.ErrnoException = new Error(`no approved address for ${host}`);
      error.code = 'ENOTFOUND';
      done(error, '');
      return;
    }
    if (all) done(null, approved.map((a) => ({ address: a.address, family: a.family })));
    else done(null, approved[0]!.address, approved[0]!.family);
  };
}

/** What the global fetch takes as its `dispatcher` option (Node's fetch is undici's). */
export type FetchDispatcher = Dispatcher;
/** An answer to `dispatcher(...).request(...)`, and the methods it takes. */
export type ProviderResponse = Dispatcher.ResponseData;
export type ProviderMethod = Dispatcher.HttpMethod;

export class ProviderConnections {
  readonly #pools = new Map<string, Agent>();
  readonly #maxPools: number;
  readonly #keepAliveTimeoutMs: number;
  readonly #connections: number;

  constructor(options: ProviderConnectionsOptions = {}) {
    this.#maxPools = options.maxPools ?? 256;
    this.#keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 10_000;
    this.#connections = options.connectionsPerPool ?? 32;
  }

  /**
   * The dispatcher for a call to `url`: pinned to `approved` when the host is a name (the addresses
   * `resolveEgress` judged), or a plain pool when the URL holds an address literal (nothing to resolve).
   */
  dispatcher(url: URL, approved: ApprovedAddresses | undefined): FetchDispatcher {
    const key = `${url.origin} ${approved?.map((a) => a.address).join(',') ?? ''}`;
    let pool = this.#pools.get(key);
    if (pool) {
      // Most recently used last, so the first key is the one to close when over the limit.
      this.#pools.delete(key);
      this.#pools.set(key, pool);
    } else {
      pool = new Agent({
        keepAliveTimeout: this.#keepAliveTimeoutMs,
        connections: this.#connections,
        ...(approved && { connect: { lookup: pinnedLookup(url.hostname, approved) } }),
      });
      this.#pools.set(key, pool);
      while (this.#pools.size > this.#maxPools) {
        const [oldest, evicted] = this.#pools.entries().next().value as [string, Agent];
        this.#pools.delete(oldest);
        // In-flight requests finish; the pool takes no new ones.
        void evicted.close().catch(() => {});
      }
    }
    return pool;
  }

  /** Pools open now (for tests and metrics). */
  get size(): number {
    return this.#pools.size;
  }

  async close(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((pool) => pool.close().catch(() => {})));
  }
}

/** The egress rules of one outbound call to a URL someone configured, and (in tests) how names resolve. */
export interface PinnedFetchOptions extends EgressOptions {
  lookup?: EgressLookup;
  /** The pools to connect through (default: one set for the process). */
  connections?: ProviderConnections;
}

let processConnections: ProviderConnections | undefined;

/**
 * A call to a URL an org or an agent registered (an approval webhook, a CIBA notification endpoint,
 * a client's metadata document): the egress check on the URL and on every address its host
 * resolves to, then a connection to those addresses only, as for provider calls. A name that
 * answers differently when the socket opens (DNS rebinding) is never looked up again.
 * `fetchImpl` is the fetch to call (default the global one; it must honour `dispatcher`).
 */
export async function pinnedFetch(url: URL, init: RequestInit, options: PinnedFetchOptions = {}, fetchImpl: typeof fetch = fetch): Promise<Response> {
  const approved = await resolveEgress(url, [url.host], options);
  const connections = options.connections ?? (processConnections ??= new ProviderConnections());
  return fetchImpl(url, { ...init, dispatcher: connections.dispatcher(url, approved) } as RequestInit);
}
