import { lookup } from 'node:dns/promises';
import { realpath, stat, writeFile } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { dirname, join, posix, resolve, sep } from 'node:path';
import { withoutCredentials } from '@capstan/gitops-core';

/**
 * A source URL that the installation's policy refuses: a scheme not allowed, a transport helper,
 * a local path into the services' own caches. Terminal: the same URL is refused until it changes.
 */
export class SourceNotAllowedError extends Error {
  constructor(
    readonly url: string,
    readonly detail: string,
  ) {
    super(`${withoutCredentials(url)}: ${detail}`);
    this.name = 'SourceNotAllowedError';
  }
}

/** Schemes a source URL may name; `file` stands for file:// URLs and local paths alike. */
export const SOURCE_SCHEMES = ['https', 'http', 'ssh', 'git', 'file'] as const;
export type SourceScheme = (typeof SOURCE_SCHEMES)[number];

/** The schemes allowed when an installation says nothing: every network scheme, no local paths. */
export const DEFAULT_SOURCE_SCHEMES: readonly SourceScheme[] = ['https', 'http', 'ssh', 'git'];

/**
 * The file every GitMirror cache folder holds, so a local repository path into any Capstan cache
 * on the host (another service's, another replica's) is refused without knowing where it is.
 */
export const CACHE_MARKER = '.capstan-cache';

/** What a URL is, as git would read it. Pure. */
export type ParsedSourceUrl =
  | { kind: 'remote'; scheme: Exclude<SourceScheme, 'file'> }
  | { kind: 'local'; path: string }
  | { kind: 'invalid'; detail: string };

/**
 * Reads a repository URL the way git does: `scheme://`, scp-like `host:path` (ssh), or a local
 * path. Anything git would run or read as an option is `invalid`, whatever the policy says.
 */
export function parseSourceUrl(url: string): ParsedSourceUrl {
  if (url.trim() === '') return { kind: 'invalid', detail: 'the URL is empty' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(url))
    return { kind: 'invalid', detail: 'the URL holds control characters' };
  if (url !== url.trim()) return { kind: 'invalid', detail: 'the URL has leading or trailing spaces' };
  if (url.startsWith('-'))
    return { kind: 'invalid', detail: 'a URL starting with "-" would be read as a git option' };
  if (/^[a-z][a-z0-9+.-]*::/i.test(url))
    return {
      kind: 'invalid',
      detail: 'git transport helpers (<transport>::<address>) run programs and are never allowed',
    };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme !== undefined) {
    if (scheme === 'file') return localOf(url);
    const family = scheme === 'git+ssh' || scheme === 'ssh+git' ? 'ssh' : scheme;
    if (family !== 'https' && family !== 'http' && family !== 'ssh' && family !== 'git')
      return { kind: 'invalid', detail: `the ${scheme}:// scheme is not a git transport Capstan reads` };
    let host: string;
    try {
      host = new URL(url).hostname;
    } catch {
      return { kind: 'invalid', detail: 'not a valid URL' };
    }
    if (host === '') return { kind: 'invalid', detail: 'the URL names no host' };
    if (host.startsWith('-'))
      return { kind: 'invalid', detail: 'a host starting with "-" would be read as an ssh option' };
    return { kind: 'remote', scheme: family };
  }
  // git's rule: a colon before the first slash makes it scp-like ssh (`git@host:org/repo`).
  const scp = /^([^/:]+):/.exec(url);
  if (scp) {
    const host = scp[1]?.split('@').pop() ?? '';
    if (host === '' || host.startsWith('-'))
      return { kind: 'invalid', detail: 'a host starting with "-" would be read as an ssh option' };
    return { kind: 'remote', scheme: 'ssh' };
  }
  return url.startsWith('/')
    ? { kind: 'local', path: posix.normalize(url) }
    : {
        kind: 'invalid',
        detail: 'a relative local path would be read from the service’s own working folder',
      };
}

function localOf(url: string): ParsedSourceUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { kind: 'invalid', detail: 'not a valid file:// URL' };
  }
  if (parsed.hostname !== '' && parsed.hostname !== 'localhost')
    return { kind: 'invalid', detail: `a file:// URL names a host (${parsed.hostname})` };
  let path: string;
  try {
    // git decodes %-escapes in file:// URLs, so the check must see the same path git opens.
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return { kind: 'invalid', detail: 'the file:// path has a bad %-escape' };
  }
  if (path.includes('\0')) return { kind: 'invalid', detail: 'the file:// path holds a NUL byte' };
  return { kind: 'local', path: posix.normalize(path) };
}

/** Why the scheme policy refuses this URL, or undefined. Pure (no file system). */
export function sourceUrlProblem(url: string, schemes: readonly string[]): string | undefined {
  const parsed = parseSourceUrl(url);
  switch (parsed.kind) {
    case 'invalid':
      return parsed.detail;
    case 'local':
      return schemes.includes('file')
        ? undefined
        : 'local repositories (file:// URLs and paths) are not allowed here (sources.allowedSchemes)';
    case 'remote':
      return schemes.includes(parsed.scheme)
        ? undefined
        : `the ${parsed.scheme} scheme is not allowed here (sources.allowedSchemes: ${schemes.join(', ') || 'none'})`;
  }
}

export interface SourcePolicyOptions {
  /** Allowed schemes (SOURCE_SCHEMES); `file` lets local repositories in. */
  schemes: readonly string[];
  /** Folders no local repository may be in: the service's own caches and scratch. */
  protectedDirs?: readonly string[];
  /** Resolve a remote's host and refuse link-local, multicast and unspecified addresses. */
  checkAddresses?: boolean;
  /** Every address of a name (dns.lookup with `all` by default). */
  resolve?: (host: string) => Promise<string[]>;
}

/**
 * Which repository URLs a service fetches. The scheme check is pure; a local path is then resolved
 * (symlinks, `..`, %-escapes) and refused when it lies in a protected folder or in any folder
 * marked as a Capstan cache, so one tenant's GitRepository never reads another's mirror.
 */
export class SourcePolicy {
  constructor(readonly options: SourcePolicyOptions) {}

  /** Allows every URL git can read safely: for the CLI on a person's own machine. */
  static permissive(): SourcePolicy {
    return new SourcePolicy({ schemes: SOURCE_SCHEMES });
  }

  /**
   * Throws SourceNotAllowedError when the URL may not be fetched. With `checkAddresses`, a
   * remote's name is resolved here, once, and the addresses that passed are returned: git must
   * connect to exactly those (see pinnedGitConfig), or a second DNS answer could swap in one
   * that was never checked (DNS rebinding).
   */
  async check(url: string): Promise<CheckedRemote | undefined> {
    const problem = sourceUrlProblem(url, this.options.schemes);
    if (problem !== undefined) throw new SourceNotAllowedError(url, problem);
    const parsed = parseSourceUrl(url);
    if (parsed.kind === 'remote' && this.options.checkAddresses) {
      const host = remoteHost(url);
      if (host === undefined) return undefined;
      const resolve =
        this.options.resolve ??
        ((h: string) => lookup(h, { all: true }).then((a) => a.map((x) => x.address)));
      const addresses = isIP(host) ? [host] : await resolve(host).catch(() => []);
      for (const address of addresses) {
        const problem = remoteAddressProblem(address);
        if (problem !== undefined)
          throw new SourceNotAllowedError(
            url,
            `${host}${host === address ? ' is' : ` resolves to ${address},`} ${problem}; repositories are not read from there`,
          );
      }
      // An unresolvable name is not a policy matter (DNS may be down for a moment): the caller
      // fails the fetch as git would, rather than let git resolve a name nobody checked.
      return { host, addresses };
    }
    if (parsed.kind !== 'local') return undefined;
    const local = await localPathProblem(parsed.path, this.options.protectedDirs ?? []);
    if (local !== undefined) throw new SourceNotAllowedError(url, local);
    return undefined;
  }
}

/** A remote's host and the addresses the policy checked for it. */
export interface CheckedRemote {
  host: string;
  addresses: readonly string[];
}

/**
 * The git configuration (`-c` pairs, passed as GIT_CONFIG_* variables) that makes git connect
 * to the checked addresses of `url` and nowhere else. Pure.
 *
 * - http(s): curl's resolve table (`http.curloptResolve`, git >= 2.37) answers for host:port
 *   with the checked addresses, so curl never asks DNS; redirects are not followed, since a
 *   redirect's host would be resolved by curl unchecked.
 * - git://: the URL is rewritten (`url.<pinned>.insteadOf`) to the checked address literally.
 * - ssh (and scp-like) remotes are checked, not pinned: ssh resolves the name itself.
 * Empty for a name that resolved to nothing: the caller must not let git resolve it (see
 * GitMirror.fetch).
 */
export function pinnedGitConfig(url: string, checked: CheckedRemote | undefined): [string, string][] {
  if (checked === undefined || isIP(checked.host) !== 0 || checked.addresses.length === 0) return [];
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  if (scheme === 'http' || scheme === 'https') {
    const port = parsed.port || (scheme === 'https' ? '443' : '80');
    const list = checked.addresses.map((a) => (isIP(a) === 6 ? `[${a}]` : a)).join(',');
    return [
      ['http.curloptResolve', `${checked.host}:${port}:${list}`],
      ['http.followRedirects', 'false'],
    ];
  }
  if (scheme === 'git') {
    const address = checked.addresses[0] ?? '';
    const pinned = new URL(url);
    pinned.hostname = isIP(address) === 6 ? `[${address}]` : address;
    return [[`url.${pinned.toString()}.insteadOf`, url]];
  }
  return [];
}

/** Why a local repository path may not be read: inside a protected or marked cache folder. */
export async function localPathProblem(
  path: string,
  protectedDirs: readonly string[],
): Promise<string | undefined> {
  const real = await realOrResolved(path);
  for (const dir of protectedDirs) {
    const root = await realOrResolved(dir);
    if (real === root || real.startsWith(root.endsWith(sep) ? root : root + sep))
      return "the path is inside one of the service's own caches";
  }
  for (let dir = real; ; dir = dirname(dir)) {
    const marked = await stat(join(dir, CACHE_MARKER)).then(
      () => true,
      () => false,
    );
    if (marked) return 'the path is inside a Capstan cache folder';
    if (dirname(dir) === dir) return undefined;
  }
}

/** The path with symlinks resolved as far as it exists, the rest normalized. */
async function realOrResolved(path: string): Promise<string> {
  const absolute = resolve(path);
  const real = await realpath(absolute).catch(() => undefined);
  if (real !== undefined) return real;
  const parent = dirname(absolute);
  if (parent === absolute) return absolute;
  return join(await realOrResolved(parent), absolute.slice(parent.length));
}

/** Marks a cache folder (see CACHE_MARKER); the folder must exist. */
export async function markCacheDir(dir: string): Promise<void> {
  // Written once: `wx` fails when it is there already, which is all that matters.
  await writeFile(join(dir, CACHE_MARKER), 'Capstan cache: never a source of repositories\n', {
    flag: 'wx',
  }).catch((e: unknown) => {
    if ((e as { code?: unknown }).code !== 'EEXIST') throw e;
  });
}

/** The host a remote URL connects to (scheme://host or scp-like user@host:path). */
function remoteHost(url: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1') || undefined;
    } catch {
      return undefined;
    }
  }
  return /^([^/:]+):/.exec(url)?.[1]?.split('@').pop();
}

/** Addresses no remote may be at: link-local (metadata services), multicast, unspecified. */
const NO_REMOTES = new BlockList();
NO_REMOTES.addSubnet('0.0.0.0', 8, 'ipv4');
NO_REMOTES.addSubnet('169.254.0.0', 16, 'ipv4');
NO_REMOTES.addSubnet('224.0.0.0', 4, 'ipv4');
NO_REMOTES.addAddress('::', 'ipv6');
NO_REMOTES.addSubnet('fe80::', 10, 'ipv6');
NO_REMOTES.addSubnet('ff00::', 8, 'ipv6');
NO_REMOTES.addSubnet('fd00:ec2::', 32, 'ipv6');

/**
 * Why a Git remote or chart repository may not be read at this address, or undefined. Looser
 * than values URLs: a mirror in the cluster or on the node is common, a metadata service never is.
 * IPv4-mapped IPv6 addresses count as the IPv4 address they embed. Pure.
 */
export function remoteAddressProblem(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const v4 = mappedIpv4(address) ?? (family === 4 ? address : undefined);
  return (v4 !== undefined ? NO_REMOTES.check(v4, 'ipv4') : NO_REMOTES.check(address, 'ipv6'))
    ? 'a link-local, multicast or unspecified address'
    : undefined;
}

/** The IPv4 address an IPv4-mapped IPv6 address embeds (`::ffff:127.0.0.1`, `::ffff:7f00:1`). */
export function mappedIpv4(address: string): string | undefined {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (dotted !== undefined) return dotted;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const [hi, lo] = [parseInt(hex[1] ?? '0', 16), parseInt(hex[2] ?? '0', 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
}
