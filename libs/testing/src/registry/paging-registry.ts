import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

export interface PagingRegistryOptions {
  /** The tags of a repository (undefined: NAME_UNKNOWN). Called per request, so it may be lazy. */
  tags: (repository: string) => readonly string[] | undefined;
  /** Largest page served whatever `n` asks: Quay 100, GHCR 1000. */
  pageCap: number;
  /** Page size when the client sends no `n`. */
  defaultPageSize?: number;
  /** Require Basic auth (a `Basic realm=` challenge). */
  basicAuth?: { username: string; password: string };
  /** Docker Hub's rate-limit headers on every answer. */
  rateLimit?: { limit: number; remaining: number; windowSeconds: number };
  /** The config's `created` per tag; undefined leaves it out. */
  created?: (repository: string, tag: string) => string | undefined;
}

/**
 * A registry's read API as a small HTTP server, for what distribution 2.8 cannot show: it ignores
 * `n`/`last`. This one caps pages like Quay or GHCR and links the next page with a relative
 * `Link`, and can be told to answer 429 (with `Retry-After`) or 500. It counts what it served.
 */
export class PagingRegistry {
  readonly requests: { method: string; path: string; status: number }[] = [];
  private failures: { status: number; times: number; retryAfter?: string; match?: RegExp }[] = [];
  private readonly configs = new Map<string, string>();

  private constructor(
    private readonly server: Server,
    private readonly options: PagingRegistryOptions,
  ) {}

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  static async start(options: PagingRegistryOptions): Promise<PagingRegistry> {
    const holder: { self?: PagingRegistry } = {};
    const server = createServer((req, res) => holder.self?.handle(req, res));
    const self = new PagingRegistry(server, options);
    holder.self = self;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return self;
  }

  /** The next `times` requests whose path matches answer `status` (with `Retry-After` when given). */
  fail(status: number, times: number, retryAfter?: string, match?: RegExp): void {
    this.failures.push({ status, times, ...(retryAfter ? { retryAfter } : {}), ...(match ? { match } : {}) });
  }

  digestOf(repository: string, tag: string): string {
    return `sha256:${createHash('sha256').update(this.manifest(repository, tag)).digest('hex')}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${this.host}`);
    const method = req.method ?? 'GET';
    const send = (status: number, headers: Record<string, string>, body = '') => {
      this.requests.push({ method, path: url.pathname + url.search, status });
      const rl = this.options.rateLimit;
      const extra = rl
        ? {
            'ratelimit-limit': `${rl.limit};w=${rl.windowSeconds}`,
            'ratelimit-remaining': `${rl.remaining};w=${rl.windowSeconds}`,
            'docker-ratelimit-source': '127.0.0.1',
          }
        : {};
      res.writeHead(status, { ...headers, ...extra, 'content-length': String(Buffer.byteLength(body)) });
      res.end(method === 'HEAD' ? undefined : body);
    };
    const error = (status: number, code: string) =>
      send(
        status,
        { 'content-type': 'application/json' },
        JSON.stringify({ errors: [{ code, message: code.toLowerCase() }] }),
      );
    const failure = this.failures.find((f) => f.times > 0 && (!f.match || f.match.test(url.pathname)));
    if (failure) {
      failure.times--;
      if (failure.status === 429) {
        this.requests.push({ method, path: url.pathname, status: 429 });
        res.writeHead(429, {
          'content-type': 'application/json',
          ...(failure.retryAfter ? { 'retry-after': failure.retryAfter } : {}),
        });
        res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }));
        return;
      }
      return error(failure.status, 'UNKNOWN');
    }
    const auth = this.options.basicAuth;
    if (auth) {
      const expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        this.requests.push({ method, path: url.pathname, status: 401 });
        res.writeHead(401, {
          'www-authenticate': 'Basic realm="paging-registry"',
          'content-type': 'application/json',
        });
        res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED' }] }));
        return;
      }
    }
    if (url.pathname === '/v2/' || url.pathname === '/v2')
      return send(200, { 'content-type': 'application/json' }, '{}');
    const m = /^\/v2\/(.+)\/(tags\/list|manifests\/([^/]+)|blobs\/([^/]+))$/.exec(url.pathname);
    if (!m) return error(404, 'NOT_FOUND');
    const repository = m[1] ?? '';
    const tags = this.options.tags(repository);
    if (!tags) return error(404, 'NAME_UNKNOWN');
    if (m[2] === 'tags/list') {
      const sorted = [...tags].sort();
      const asked = Number(url.searchParams.get('n') ?? this.options.defaultPageSize ?? this.options.pageCap);
      const n = Math.min(asked, this.options.pageCap);
      const last = url.searchParams.get('last');
      const start = last ? sorted.findIndex((t) => t > last) : 0;
      const page = start < 0 ? [] : sorted.slice(start, start + n);
      const more = start >= 0 && start + n < sorted.length;
      const lastTag = page[page.length - 1];
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (more && lastTag)
        headers['link'] =
          `</v2/${repository}/tags/list?n=${n}&last=${encodeURIComponent(lastTag)}>; rel="next"`;
      return send(200, headers, JSON.stringify({ name: repository, tags: page }));
    }
    if (m[3]) {
      const ref = decodeURIComponent(m[3]);
      const tag = ref.startsWith('sha256:') ? tags.find((t) => this.digestOf(repository, t) === ref) : ref;
      if (!tag || !tags.includes(tag)) return error(404, 'MANIFEST_UNKNOWN');
      const body = this.manifest(repository, tag);
      return send(
        200,
        {
          'content-type': 'application/vnd.oci.image.manifest.v1+json',
          'docker-content-digest': this.digestOf(repository, tag),
        },
        body,
      );
    }
    const config = this.configs.get(decodeURIComponent(m[4] ?? ''));
    if (!config) return error(404, 'BLOB_UNKNOWN');
    return send(200, { 'content-type': 'application/octet-stream' }, config);
  }

  private manifest(repository: string, tag: string): string {
    const created = this.options.created?.(repository, tag);
    const config = JSON.stringify({
      ...(created ? { created } : {}),
      architecture: 'amd64',
      os: 'linux',
      config: { Labels: { tag } },
    });
    const digest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
    this.configs.set(digest, config);
    return JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest, size: config.length },
      layers: [],
    });
  }
}
