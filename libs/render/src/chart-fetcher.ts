import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import semver from 'semver';
import { rewriteUrl, withoutCredentials, type UrlRewrites } from '@capstan/gitops-core';
import { chartAddressProblem } from './url-guard.js';
import { systemResolver, type Resolver } from './url-values.js';

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
    private readonly guard: { maxBytes?: number; checkAddresses?: boolean; resolver?: Resolver } = {},
  ) {}

  async fetch(repositoryUrl: string, name: string, versionRange: string): Promise<FetchedChart> {
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

    const key = createHash('sha256')
      .update(`${repositoryUrl}\0${name}\0${version}`)
      .digest('hex')
      .slice(0, 24);
    const archive = join(this.cacheDir, `${key}.tgz`);
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

  private async get(named: URL): Promise<Buffer> {
    const url = new URL(rewriteUrl(named.toString(), this.urlRewrites));
    if (this.guard.checkAddresses) await this.checkAddresses(url);
    // The cause (DNS, refused, TLS) rides along for describeError; the URL is named here.
    const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) }).catch((e: unknown) => {
      throw new Error(`GET ${withoutCredentials(url.toString())} failed`, { cause: e });
    });
    if (res.status === 404)
      throw new ChartNotFoundError(`${withoutCredentials(url.toString())}: 404 Not Found`);
    if (!res.ok)
      throw new Error(`GET ${withoutCredentials(url.toString())}: ${res.status} ${res.statusText}`);
    return readBounded(res, this.guard.maxBytes ?? DEFAULT_MAX_CHART_BYTES, url);
  }

  /** Every address the repository's name has must be one a chart may come from. */
  private async checkAddresses(url: URL): Promise<void> {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const addresses = await (this.guard.resolver ?? systemResolver)(host).catch(() => []);
    for (const { address } of addresses) {
      const problem = chartAddressProblem(address);
      if (problem !== undefined)
        throw new ChartNotFoundError(
          `${withoutCredentials(url.toString())}: ${host}${host === address ? ' is' : ` resolves to ${address},`} ${problem}; charts are not read from there`,
        );
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Big enough for the largest public indexes (tens of MB); a bound, not a budget. */
const DEFAULT_MAX_CHART_BYTES = 128 * 1024 * 1024;

/** Reads a body up to `max` bytes; more is an error naming the URL, the rest never buffered. */
async function readBounded(res: Response, max: number, url: URL): Promise<Buffer> {
  const tooLarge = () =>
    new ChartNotFoundError(`${withoutCredentials(url.toString())}: the answer is larger than ${max} bytes`);
  if (Number(res.headers.get('content-length') ?? NaN) > max) {
    await res.body?.cancel();
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (res.body as ReadableStream<Uint8Array> | null)?.getReader();
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    size += read.value.byteLength;
    if (size > max) {
      await reader?.cancel();
      throw tooLarge();
    }
    chunks.push(read.value);
  }
  return Buffer.concat(chunks);
}
