import { BlockList, isIP } from 'node:net';
import { mappedIpv4, remoteAddressProblem } from '@capstan/git';

/**
 * Which URLs a manifest may make the reconciler fetch (Flux v1's `externalSourceRef`): an
 * allow-list of hosts, empty by default (the feature is off), and addresses refused whatever the
 * list says, because the reconciler sits inside the cluster next to the API server and the cloud's
 * metadata service.
 */
export interface UrlFetchPolicy {
  /** `host`, `host:port`-less names or `*.example.com` (subdomains only); empty: nothing is fetched. */
  allowedHosts: readonly string[];
  /** Hosts whose addresses are refused too (the API server's, read from the kubeconfig). */
  deniedHosts?: readonly string[];
}

/** Addresses no fetch by URL may reach, even through an allowed name or a redirect. */
const REFUSED = new BlockList();
REFUSED.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network"; 0.0.0.0 reaches the local host
REFUSED.addSubnet('127.0.0.0', 8, 'ipv4'); // loopback
REFUSED.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local: cloud metadata services live here
REFUSED.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
REFUSED.addAddress('255.255.255.255', 'ipv4');
REFUSED.addAddress('::', 'ipv6');
REFUSED.addAddress('::1', 'ipv6');
REFUSED.addSubnet('fe80::', 10, 'ipv6'); // link-local
REFUSED.addSubnet('ff00::', 8, 'ipv6'); // multicast
REFUSED.addSubnet('fd00:ec2::', 32, 'ipv6'); // EC2's IPv6 metadata service

/** Why this resolved address may not be fetched (what it is), or undefined. Pure. */
export function addressProblem(address: string, denied: readonly string[] = []): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  // ::ffff:127.0.0.1 and friends reach the IPv4 address they embed.
  const mapped = mappedIpv4(address);
  const v4 = mapped ?? (family === 4 ? address : undefined);
  if (v4 !== undefined ? REFUSED.check(v4, 'ipv4') : REFUSED.check(address, 'ipv6'))
    return 'a loopback, link-local, multicast or unspecified address';
  if (denied.some((d) => d === address || (v4 !== undefined && d === v4)))
    return "the Kubernetes API server's address";
  return undefined;
}

/** Whether `host` is on the allow-list (case-insensitive; `*.x.y` matches names under x.y). Pure. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  const name = host
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[(.*)\]$/, '$1');
  return allowed.some((entry) => {
    const e = entry.toLowerCase().trim();
    if (e.startsWith('*.')) return name.endsWith(e.slice(1)) && name.length > e.length - 1;
    return name === e;
  });
}

/** Why the URL itself (before any DNS) may not be fetched, or undefined. Pure. */
export function fetchUrlProblem(url: string, policy: UrlFetchPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    return `only http(s) URLs are read, not ${parsed.protocol}`;
  if (parsed.username !== '' || parsed.password !== '') return 'credentials in the URL are not sent';
  if (policy.allowedHosts.length === 0)
    return 'fetching values by URL is off (sources.valuesAllowedHosts is empty)';
  if (!hostAllowed(parsed.hostname, policy.allowedHosts))
    return `host ${parsed.hostname} is not in sources.valuesAllowedHosts`;
  // Addresses (literal or resolved) are checked by the fetcher, which connects to what it checked.
  return undefined;
}

/**
 * Why a chart repository may not be read at this address, or undefined: the same rule as for Git
 * remotes (a chart mirror in the cluster or on the node is common, a metadata service never is).
 */
export const chartAddressProblem = remoteAddressProblem;
