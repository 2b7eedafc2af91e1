import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import semver from 'semver';

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
  ) {}

  async fetch(repositoryUrl: string, name: string, versionRange: string): Promise<FetchedChart> {
    const base = repositoryUrl.endsWith('/') ? repositoryUrl : `${repositoryUrl}/`;
    const indexUrl = new URL('index.yaml', base);
    const index = parse(await this.get(indexUrl).then((b) => b.toString('utf8'))) as {
      entries?: Record<string, IndexEntry[] | undefined>;
    } | null;
    const entries = index?.entries?.[name];
    if (!entries || entries.length === 0)
      throw new ChartNotFoundError(`chart ${name} not found in ${redact(repositoryUrl)}`);
    const versions = entries.map((e) => (typeof e.version === 'string' ? e.version : '')).filter(Boolean);
    const range = semver.validRange(versionRange);
    if (range === null)
      throw new ChartNotFoundError(`invalid version range ${versionRange} for chart ${name}`);
    const version = semver.maxSatisfying(versions, range);
    if (version === null)
      throw new ChartNotFoundError(
        `no version of chart ${name} matches ${versionRange} in ${redact(repositoryUrl)} (available: ${versions.join(', ')})`,
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

  private async get(url: URL): Promise<Buffer> {
    const res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    if (res.status === 404) throw new ChartNotFoundError(`${redact(url.toString())}: 404 Not Found`);
    if (!res.ok) throw new Error(`GET ${redact(url.toString())}: ${res.status} ${res.statusText}`);
    return Buffer.from(await res.arrayBuffer());
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function redact(url: string): string {
  return url.replace(/\/\/[^/@]+@/, '//***@');
}
