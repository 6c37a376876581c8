import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { WritError } from '../errors/index.ts';

// Where a credential may be sent. A connector names its allowed hosts; on top of that no
// request goes to loopback, link-local, private or cloud-metadata addresses unless the
// operator allow-lists the host (the demo provider on localhost, a provider inside the VPC).
// `checkEgress` judges the URL as written; `resolveEgress` also judges every address the name
// resolves to, for the executor to call right before it connects, and returns them: the call
// connects to those addresses only (provider-connections.ts), never to a second lookup's answer.

export interface EgressOptions {
  /** Operator allow-list: hosts (`name` or `name:port`) exempt from the address checks and allowed over http. */
  allowPrivateHosts?: readonly string[];
}

export type EgressRefusal = 'scheme' | 'host_not_allowed' | 'private_address' | 'metadata';

/** A refused destination: `forbidden` to the client, which is not told which rule or address; the log is. */
export class EgressError extends WritError {
  declare readonly reason: EgressRefusal;
  readonly host: string;
  constructor(reason: EgressRefusal, host: string, message: string) {
    super('forbidden', 'the connector\'s host is not allowed for outbound calls', { message, reason });
    this.name = 'EgressError';
    this.host = host;
  }
}

const blocked = new BlockList();
// RFC 6890 special-purpose ranges that a provider API is never on.
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64],
] as const) blocked.addSubnet(net, prefix, 'ipv6');

const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '100.100.100.200']);

/** An IPv4 address embedded in an IPv4-mapped, -compatible or NAT64 IPv6 address, else undefined. */
function embeddedIpv4(address: string): string | undefined {
  const m = /^(?:::ffff:|::|64:ff9b::)(?:([0-9a-f]{1,4}):([0-9a-f]{1,4})|(\d+\.\d+\.\d+\.\d+))$/i.exec(address);
  if (!m) return undefined;
  if (m[3]) return m[3];
  const hi = parseInt(m[1]!, 16); const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** Is this literal address one no provider call may reach? */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '').toLowerCase();
  const family = isIP(bare);
  if (family === 4) return blocked.check(bare, 'ipv4');
  if (family === 6) {
    const v4 = embeddedIpv4(bare);
    if (v4 !== undefined) return blocked.check(v4, 'ipv4') || METADATA_ADDRESSES.has(v4);
    return blocked.check(bare, 'ipv6') || METADATA_ADDRESSES.has(bare);
  }
  return false;
}

function operatorAllows(url: URL, options: EgressOptions): boolean {
  const list = options.allowPrivateHosts ?? [];
  return list.includes(url.host) || list.includes(url.hostname);
}

/** Hosts match exactly, or `*.example.com` matches one or more labels below example.com. */
function hostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  return allowedHosts.some((pattern) => {
    const p = pattern.toLowerCase();
    if (p.startsWith('*.')) return url.hostname.endsWith(p.slice(1)) && url.hostname.length > p.length - 1;
    return p === url.host || (!p.includes(':') && p === url.hostname && url.port === '');
  });
}

/** Judges the URL as written: scheme, the connector's hosts, literal addresses and well-known names. */
export function checkEgress(url: URL, allowedHosts: readonly string[], options: EgressOptions = {}): void {
  const exempt = operatorAllows(url, options);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && exempt)) {
    throw new EgressError('scheme', url.host, `refusing ${url.protocol} to ${url.host}: credentials travel over https only`);
  }
  if (!hostAllowed(url, allowedHosts)) {
    throw new EgressError('host_not_allowed', url.host, `${url.host} is not among the connector's allowed hosts`);
  }
  if (exempt) return;
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (METADATA_HOSTS.has(host) || METADATA_ADDRESSES.has(host.replace(/^\[|\]$/g, ''))) {
    throw new EgressError('metadata', url.host, `${url.host} is a cloud metadata endpoint`);
  }
  if (host === 'localhost' || host.endsWith('.localhost') || isForbiddenAddress(host)) {
    throw new EgressError('private_address', url.host, `${url.host} is a loopback, link-local or private address`);
  }
}

/** The addresses a host name resolved to when its egress was checked: the only ones a call may connect to. */
export type ApprovedAddresses = ReadonlyArray<{ address: string; family: 4 | 6 }>;

/** How a host name is resolved (default: the system resolver, every address). */
export type EgressLookup = (host: string) => Promise<Array<{ address: string; family?: number }>>;

/**
 * `checkEgress`, then every address the host resolves to. Returns those addresses for the call to
 * connect to (`ProviderConnections` pins its sockets to them), or undefined when the URL names an
 * address literal. An operator-allowed host is resolved too, so its calls are pinned alike, but its
 * addresses are not judged.
 */
export async function resolveEgress(
  url: URL,
  allowedHosts: readonly string[],
  options: EgressOptions & { lookup?: EgressLookup } = {},
): Promise<ApprovedAddresses | undefined> {
  checkEgress(url, allowedHosts, options);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(hostname) !== 0) return undefined;
  const resolve: EgressLookup = options.lookup ?? ((host: string) => lookup(host, { all: true, verbatim: true }));
  const addresses = await resolve(hostname);
  const judged = !operatorAllows(url, options);
  const approved: Array<{ address: string; family: 4 | 6 }> = [];
  for (const { address } of addresses) {
    const family = isIP(address);
    if (family === 0) throw new Error(`${url.host} resolved to something that is not an address`);
    if (judged && isForbiddenAddress(address)) {
      throw new EgressError('private_address', url.host, `${url.host} resolves to a loopback, link-local or private address`);
    }
    approved.push({ address, family: family as 4 | 6 });
  }
  if (approved.length === 0) throw new Error(`${url.host} resolved to no address`);
  return approved;
}
