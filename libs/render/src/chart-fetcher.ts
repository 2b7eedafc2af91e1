import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import semver from 'semver';
import { rewriteUrl, withoutCredentials, type UrlRewrites } from '@capstan/gitops-core';
import {
  AddressRefusedError,
  readBounded,
  redirectOf,
  requestPinned,
  resolveChecked,
  systemResolver,
  type Resolver,
} from './pinned-http.js';
import { chartAddressProblem } from './url-guard.js';

export interface FetchedChart {
  /** Path of the chart archive (.tgz) on local disk. */
  archive: string;
  version: string;
}

/** Gets a chart from a Helm repository; the version is a semver range. */
export interface ChartFetcher {
  fetch(repositoryUrl: string, name: string, versionRange: string): Promise<FetchedChart>;
}

/**
 * The repository answered, but what was asked for does not exist: retrying will not help.
 * Connection failures are plain errors (retried by the caller).
 */
export class ChartNotFoundError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'ChartNotFoundError';
  }
}

interface IndexEntry {
  version?: unknown;
  urls?: unknown;
}

/**
 * Helm HTTP repositories: reads index.yaml, picks the highest version satisfying the range and
 * downloads the archive. Archives are cached by repository, name and version: a published chart
 * version is immutable in Helm's model.
 */
export class HttpChartFetcher implements ChartFetcher {
  constructor(
    private readonly cacheDir: string,
    private readonly timeoutMs = 60_000,
    /** Public URL prefix -> mirror prefix: the index and archives are read from the mirror. */
    private readonly urlRewrites: UrlRewrites = {},
    /**
     * Bounds on what a chart repository named in Git may make the reconciler do: the largest
     * index or archive read (a repository answering forever must not exhaust its memory), and
     * whether the repository's addresses are checked (link-local and multicast refused: a
     * HelmRelease must not point the reconciler at the cloud's metadata service).
     */
    private readonly guard: ChartFetchGuard = {},
  ) {}

  /** The largest index or archive read (limit maxChartBytes). */
  get maxBytes(): number {
    return this.guard.maxBytes ?? DEFAULT_MAX_CHART_BYTES;
  }

  async fetch(repositoryUrl: string, name: string, versionRange: string): Promise<FetchedChart> {
    // An exact version already here (a Chart.lock's) needs no index: published versions never change.
    const exact = semver.valid(versionRange);
    if (exact !== null && (await exists(this.archivePath(repositoryUrl, name, exact))))
      return { archive: this.archivePath(repositoryUrl, name, exact), version: exact };
    const base = repositoryUrl.endsWith('/') ? repositoryUrl : `${repositoryUrl}/`;
    const indexUrl = new URL('index.yaml', base);
    const index = parse(await this.get(indexUrl).then((b) => b.toString('utf8'))) as {
      entries?: Record<string, IndexEntry[] | undefined>;
    } | null;
    const entries = index?.entries?.[name];
    if (!entries || entries.length === 0)
      throw new ChartNotFoundError(`chart ${name} not found in ${withoutCredentials(repositoryUrl)}`);
    const versions = entries.map((e) => (typeof e.version === 'string' ? e.version : '')).filter(Boolean);
    const range = semver.validRange(versionRange);
    if (range === null)
      throw new ChartNotFoundError(`invalid version range ${versionRange} for chart ${name}`);
    const version = semver.maxSatisfying(versions, range);
    if (version === null)
      throw new ChartNotFoundError(
        `no version of chart ${name} matches ${versionRange} in ${withoutCredentials(repositoryUrl)} (available: ${versions.join(', ')})`,
      );
    const entry = entries.find((e) => e.version === version);
    const first = Array.isArray(entry?.urls) ? (entry.urls as unknown[])[0] : undefined;
    if (typeof first !== 'string')
      throw new ChartNotFoundError(`chart ${name} ${version} has no download URL`);

    const archive = this.archivePath(repositoryUrl, name, version);
    if (!(await exists(archive))) {
      const body = await this.get(new URL(first, base));
      await mkdir(this.cacheDir, { recursive: true });
      // Write-then-rename: a concurrent render never reads a half-written archive.
      const partial = `${archive}.${process.pid}.${Date.now()}.partial`;
      await writeFile(partial, body);
      await rename(partial, archive);
    }
    return { archive, version };
  }

  private archivePath(repositoryUrl: string, name: string, version: string): string {
    const key = createHash('sha256').update(`${repositoryUrl}\0${name}\0${version}`).digest('hex');
    return join(this.cacheDir, `${key.slice(0, 24)}.tgz`);
  }

  /**
   * GET with every hop's name resolved once, checked, and connected to at the checked address
   * (never resolved again by the HTTP client: no DNS rebinding), redirects followed by hand
   * (chart repositories often redirect archives to a storage host, which is checked the same
   * way), and the answer bounded by maxBytes.
   */
  private async get(named: URL): Promise<Buffer> {
    const url = new URL(rewriteUrl(named.toString(), this.urlRewrites));
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const shown = withoutCredentials(url.toString());
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const via = hop === 0 ? '' : ` (redirected to ${withoutCredentials(current.toString())})`;
      if (current.protocol !== 'http:' && current.protocol !== 'https:')
        throw new ChartNotFoundError(`${shown}${via}: only http(s) is read`);
      const address = await resolveChecked(current.hostname, this.guard.resolver ?? systemResolver, (a) =>
        this.guard.checkAddresses ? chartAddressProblem(a) : undefined,
      ).catch((e: unknown) => {
        if (e instanceof AddressRefusedError)
          throw new ChartNotFoundError(`${shown}${via}: ${e.message}; charts are not read from there`);
        // The cause (DNS, refused, TLS) rides along for describeError; the URL is named here.
        throw new Error(`GET ${shown}${via} failed`, { cause: e });
      });
      const res = await requestPinned(current, address, deadline).catch((e: unknown) => {
        throw new Error(`GET ${shown}${via} failed`, { cause: e });
      });
      const next = redirectOf(res, current);
      if (next !== undefined) {
        res.resume();
        current = next;
        continue;
      }
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        res.resume();
        if (status === 404) throw new ChartNotFoundError(`${shown}${via}: 404 Not Found`);
        throw new Error(`GET ${shown}${via}: ${status} ${res.statusMessage ?? ''}`.trimEnd());
      }
      const max = this.maxBytes;
      return readBounded(res, max, (declared) => new ChartTooLargeError(shown, max, declared)).catch(
        (e: unknown) => {
          if (e instanceof ChartTooLargeError) throw e;
          throw new Error(`GET ${shown}${via} failed`, { cause: e });
        },
      );
    }
    throw new ChartNotFoundError(`${shown}: more than ${MAX_REDIRECTS} redirects`);
  }
}

/** How a chart repository named in Git is fenced in (see HttpChartFetcher). */
export interface ChartFetchGuard {
  /** The largest index or archive read, in bytes (limit maxChartBytes). */
  maxBytes?: number;
  /** Refuse repositories at link-local, multicast or unspecified addresses. */
  checkAddresses?: boolean;
  /** DNS, as an adapter: each name is asked once per request and the answer is what is connected to. */
  resolver?: Resolver;
}

/** An index or archive over the limit: terminal, the same repository answers the same way. */
export class ChartTooLargeError extends ChartNotFoundError {
  constructor(
    readonly url: string,
    readonly limit: number,
    declared?: number,
  ) {
    super(
      `${url}: the answer is larger than ${limit} bytes${declared === undefined ? '' : ` (${declared} bytes)`} (limit maxChartBytes)`,
    );
    this.name = 'ChartTooLargeError';
  }
}

const MAX_REDIRECTS = 5;

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Big enough for the largest public indexes (tens of MB); a bound, not a budget. */
const DEFAULT_MAX_CHART_BYTES = 128 * 1024 * 1024;
