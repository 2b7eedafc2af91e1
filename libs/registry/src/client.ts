import { createHash } from 'node:crypto';
import { parseChallenge, parseTokenResponse, type Challenge } from './challenge.js';
import { RequestBudget } from './budget.js';
import { ManifestError, RegistryError, ociErrorCode } from './errors.js';
import { nextLink, parseRateLimit, retryAfterMs, type RateLimit } from './headers.js';
import { IMAGE_MANIFEST_TYPES, INDEX_TYPES, MANIFEST_ACCEPT, MEDIA } from './media-types.js';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface RepositoryRef {
  /** Host and port: `ghcr.io`, `127.0.0.1:5000`; `docker.io` is reached at `registry-1.docker.io`. */
  registry: string;
  repository: string;
  /**
   * The login of whoever asks (an ImageRepository's Secret), sent to the token service or as
   * Basic auth. Per request, never per registry: one tenant's login must not open a registry
   * for another, so tokens are cached per login too.
   */
  credentials?: RegistryCredentials;
  /**
   * Plain HTTP for this request (an ImageRepository's `spec.insecure`); loopback hosts always are.
   * Per request too: one tenant's choice must not send another's login in clear.
   */
  plainHttp?: boolean;
}

export interface RegistryClientOptions {
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Requests per second and burst per registry (the request budget). */
  ratePerSecond?: number;
  burst?: number;
  /** Retries of a 429 or 5xx answer before giving up. */
  maxRetries?: number;
  /** Cap on one wait, whatever `Retry-After` asks for. */
  maxRetryWaitMs?: number;
  /** Tags asked for per page (`n`); registries cap it (Quay 100, GHCR 1000) and we follow `Link`. */
  pageSize?: number;
  maxPages?: number;
  timeoutMs?: number;
  /** Every answer, for request counters. */
  onResponse?: (registry: string, method: string, status: number) => void;
  onRateLimit?: (registry: string, limit: RateLimit) => void;
}

export interface ManifestHead {
  digest: string;
  mediaType: string;
}

export interface ImageInfo {
  /** The digest the tag points at (an index for multi-platform images). */
  digest: string;
  mediaType: string;
  /** The platform manifest read for the config, when the tag is an index. */
  platformDigest?: string;
  /** The config's `created`, or a build-date label; undefined when the image has none. */
  created?: string;
  labels: Record<string, string>;
}

type AuthMode = { kind: 'bearer'; challenge: Challenge } | { kind: 'basic' } | { kind: 'none' };

interface Response_ {
  status: number;
  headers: Headers;
  body: Buffer;
  url: string;
}

const DEFAULT_PLATFORM = { os: 'linux', architecture: 'amd64' };

/**
 * A small OCI distribution client on `fetch`: ping, token and basic auth from the registry's
 * challenge (tokens cached per realm, service and scope), tags with `Link` paging, HEAD digests,
 * index → platform manifest → config for `created` and labels, a request budget per registry,
 * 429/`Retry-After` and 5xx retried with backoff, rate-limit headers reported.
 */
export class RegistryClient {
  private readonly fetch: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly budgets = new Map<string, RequestBudget>();
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();
  private readonly modes = new Map<string, AuthMode>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.fetch = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Requests sent to a registry so far (for scan cost reports). */
  requestCount(registry: string): number {
    return this.counts.get(registry) ?? 0;
  }

  /** `GET /v2/`: reachable and speaking the distribution API (401 with a challenge counts). */
  async ping(registry: string, credentials?: RegistryCredentials): Promise<void> {
    const res = await this.send(
      { registry, repository: '', ...(credentials ? { credentials } : {}) },
      'GET',
      '/v2/',
      {},
    );
    if (res.status !== 200) throw this.error(registry, res);
  }

  /** Every tag, following `Link: <...>; rel="next"` (relative links too) up to `maxPages`. */
  async listTags(ref: RepositoryRef): Promise<string[]> {
    const pageSize = this.options.pageSize ?? 1000;
    const maxPages = this.options.maxPages ?? 1000;
    const tags: string[] = [];
    const seen = new Set<string>();
    let url: string | undefined = `${this.base(ref)}/v2/${ref.repository}/tags/list?n=${pageSize}`;
    for (let page = 0; url && page < maxPages; page++) {
      if (seen.has(url)) break; // a registry that links a page to itself must not loop us
      seen.add(url);
      const res = await this.send(ref, 'GET', url, { accept: 'application/json' });
      if (res.status !== 200) throw this.error(ref.registry, res);
      const body = JSON.parse(res.body.toString('utf8')) as { tags?: unknown };
      if (body.tags !== null && body.tags !== undefined && !Array.isArray(body.tags))
        throw new RegistryError(ref.registry, res.url, res.status, undefined, '"tags" is not a list');
      for (const t of (body.tags as unknown[] | null | undefined) ?? [])
        if (typeof t === 'string') tags.push(t);
      url = nextLink(res.headers.get('link'), res.url);
    }
    return tags;
  }

  /** The digest a tag points at, by HEAD (no pull counted on Docker Hub); GET when HEAD gives none. */
  async headManifest(ref: RepositoryRef, reference: string): Promise<ManifestHead> {
    const path = `/v2/${ref.repository}/manifests/${reference}`;
    const res = await this.send(ref, 'HEAD', path, { accept: MANIFEST_ACCEPT });
    if (res.status !== 200) throw this.error(ref.registry, res);
    const digest = res.headers.get('docker-content-digest');
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0] ?? '';
    if (digest) return { digest, mediaType };
    const full = await this.getManifest(ref, reference);
    return { digest: full.digest, mediaType: full.mediaType };
  }

  async getManifest(
    ref: RepositoryRef,
    reference: string,
  ): Promise<{ digest: string; mediaType: string; manifest: Record<string, unknown> }> {
    const path = `/v2/${ref.repository}/manifests/${reference}`;
    const res = await this.send(ref, 'GET', path, { accept: MANIFEST_ACCEPT });
    if (res.status !== 200) throw this.error(ref.registry, res);
    const digest =
      res.headers.get('docker-content-digest') ??
      `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new ManifestError(`${ref.registry}/${ref.repository}:${reference}`, 'manifest is not JSON');
    }
    const declared = typeof manifest['mediaType'] === 'string' ? manifest['mediaType'] : undefined;
    const mediaType = declared ?? (res.headers.get('content-type') ?? '').split(';')[0] ?? '';
    return { digest, mediaType, manifest };
  }

  /**
   * Index → platform manifest (linux/amd64 unless told) → config blob: the image's `created`
   * and labels. An image without `created` falls back to the OCI/label-schema build-date labels.
   */
  async imageInfo(ref: RepositoryRef, reference: string, platform = DEFAULT_PLATFORM): Promise<ImageInfo> {
    const name = `${ref.registry}/${ref.repository}:${reference}`;
    const top = await this.getManifest(ref, reference);
    let image = top;
    let platformDigest: string | undefined;
    if (INDEX_TYPES.includes(top.mediaType)) {
      const manifests = Array.isArray(top.manifest['manifests'])
        ? (top.manifest['manifests'] as unknown[])
        : [];
      const entries = manifests.filter(
        (m): m is { digest: string; platform?: { os?: string; architecture?: string } } =>
          typeof m === 'object' && m !== null && typeof (m as { digest?: unknown }).digest === 'string',
      );
      const chosen =
        entries.find(
          (m) => m.platform?.os === platform.os && m.platform.architecture === platform.architecture,
        ) ?? entries[0];
      if (!chosen) throw new ManifestError(name, 'index lists no manifests');
      platformDigest = chosen.digest;
      image = await this.getManifest(ref, chosen.digest);
    }
    if (image.mediaType === MEDIA.dockerSchema1)
      return { ...schema1Info(image.manifest), digest: top.digest, mediaType: top.mediaType };
    if (!IMAGE_MANIFEST_TYPES.includes(image.mediaType) && !('config' in image.manifest))
      throw new ManifestError(name, `unsupported manifest media type "${image.mediaType}"`);
    const config = image.manifest['config'] as { digest?: unknown } | undefined;
    if (typeof config?.digest !== 'string') throw new ManifestError(name, 'manifest has no config.digest');
    const res = await this.send(ref, 'GET', `/v2/${ref.repository}/blobs/${config.digest}`, {});
    if (res.status !== 200) throw this.error(ref.registry, res);
    let blob: { created?: unknown; config?: { Labels?: unknown } };
    try {
      blob = JSON.parse(res.body.toString('utf8')) as typeof blob;
    } catch {
      throw new ManifestError(name, `config blob ${config.digest} is not JSON`);
    }
    const labels = stringRecord(blob.config?.Labels);
    const created =
      (typeof blob.created === 'string' ? blob.created : undefined) ??
      labels['org.opencontainers.image.created'] ??
      labels['org.label-schema.build-date'];
    return {
      digest: top.digest,
      mediaType: top.mediaType,
      ...(platformDigest ? { platformDigest } : {}),
      ...(created ? { created } : {}),
      labels,
    };
  }

  private base(ref: Pick<RepositoryRef, 'registry' | 'plainHttp'>): string {
    const host = ref.registry === 'docker.io' ? 'registry-1.docker.io' : ref.registry;
    const loopback = /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/.test(host);
    const plain = loopback || ref.plainHttp === true;
    return `${plain ? 'http' : 'https'}://${host}`;
  }

  private budget(registry: string): RequestBudget {
    let b = this.budgets.get(registry);
    if (!b) {
      b = new RequestBudget(
        this.options.ratePerSecond ?? 200,
        this.options.burst ?? 125,
        this.now,
        this.sleep,
      );
      this.budgets.set(registry, b);
    }
    return b;
  }

  /** One logical request: auth on a 401 challenge, retries on 429 and 5xx, budget before each try. */
  private async send(
    ref: RepositoryRef,
    method: string,
    pathOrUrl: string,
    opts: { accept?: string },
  ): Promise<Response_> {
    const { registry, repository, credentials } = ref;
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base(ref)}${pathOrUrl}`;
    const scope = repository ? `repository:${repository}:pull` : '';
    const modeKey = `${registry}|${scope}`;
    const maxRetries = this.options.maxRetries ?? 4;
    let authed = false;
    for (let attempt = 0; ; attempt++) {
      await this.budget(registry).take();
      const headers: Record<string, string> = {};
      if (opts.accept) headers['accept'] = opts.accept;
      const auth = await this.authorization(registry, this.modes.get(modeKey), scope, credentials);
      if (auth) headers['authorization'] = auth;
      const res = await this.fetch(url, {
        method,
        headers,
        redirect: 'follow',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
      });
      const body = Buffer.from(await res.arrayBuffer());
      this.counts.set(registry, (this.counts.get(registry) ?? 0) + 1);
      this.options.onResponse?.(registry, method, res.status);
      const rate = parseRateLimit(res.headers);
      if (rate) this.options.onRateLimit?.(registry, rate);
      const answer = { status: res.status, headers: res.headers, body, url: res.url || url };
      if (res.status === 401 && !authed) {
        const challenge = parseChallenge(res.headers.get('www-authenticate'));
        if (challenge) {
          authed = true;
          this.modes.set(
            modeKey,
            challenge.scheme === 'bearer' ? { kind: 'bearer', challenge } : { kind: 'basic' },
          );
          if (challenge.scheme === 'bearer') this.tokens.delete(tokenKey(challenge, scope, credentials));
          attempt--;
          continue;
        }
      }
      const retryable = res.status === 429 || res.status >= 500;
      if (!retryable || attempt >= maxRetries) return answer;
      const asked = res.status === 429 ? retryAfterMs(res.headers.get('retry-after'), this.now()) : undefined;
      const backoff = Math.min(250 * 2 ** attempt, 8_000);
      await this.sleep(Math.min(asked ?? backoff, this.options.maxRetryWaitMs ?? 60_000));
    }
  }

  private async authorization(
    registry: string,
    mode: AuthMode | undefined,
    scope: string,
    creds: RegistryCredentials | undefined,
  ): Promise<string | undefined> {
    if (!mode || mode.kind === 'none') return undefined;
    if (mode.kind === 'basic') return creds ? basic(creds) : undefined;
    const key = tokenKey(mode.challenge, scope, creds);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now()) return `Bearer ${cached.token}`;
    const realm = mode.challenge.params['realm'];
    if (!realm)
      throw new RegistryError(registry, '', 401, 'UNAUTHORIZED', 'Bearer challenge without a realm');
    const tokenUrl = new URL(realm);
    const service = mode.challenge.params['service'];
    if (service) tokenUrl.searchParams.set('service', service);
    const wanted = scope || mode.challenge.params['scope'];
    if (wanted) tokenUrl.searchParams.set('scope', wanted);
    const res = await this.fetch(tokenUrl, {
      headers: creds ? { authorization: basic(creds) } : {},
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
    this.counts.set(registry, (this.counts.get(registry) ?? 0) + 1);
    const text = await res.text();
    if (!res.ok)
      throw new RegistryError(
        registry,
        tokenUrl.toString(),
        res.status,
        ociErrorCode(text).code,
        'token request refused',
      );
    const parsed = parseTokenResponse(JSON.parse(text) as unknown, this.now());
    if (!parsed)
      throw new RegistryError(
        registry,
        tokenUrl.toString(),
        res.status,
        undefined,
        'token response has no token',
      );
    this.tokens.set(key, parsed);
    return `Bearer ${parsed.token}`;
  }

  private error(registry: string, res: Response_): RegistryError {
    const { code, message } = ociErrorCode(res.body.toString('utf8'));
    return new RegistryError(registry, res.url, res.status, code, message ?? '');
  }
}

/** A token is good for one realm, service, scope and login (anonymous is a login of its own). */
function tokenKey(challenge: Challenge, scope: string, creds: RegistryCredentials | undefined): string {
  const login = creds
    ? createHash('sha256').update(`${creds.username}\0${creds.password}`).digest('hex')
    : 'anonymous';
  return [
    challenge.params['realm'],
    challenge.params['service'],
    scope || challenge.params['scope'],
    login,
  ].join('|');
}

function basic(c: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

function stringRecord(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof v !== 'object' || v === null) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Schema 1 keeps `created` in the first history entry's v1Compatibility JSON. */
function schema1Info(manifest: Record<string, unknown>): {
  created?: string;
  labels: Record<string, string>;
} {
  const history = Array.isArray(manifest['history'])
    ? (manifest['history'] as { v1Compatibility?: unknown }[])
    : [];
  const first = history[0]?.v1Compatibility;
  if (typeof first !== 'string') return { labels: {} };
  try {
    const v1 = JSON.parse(first) as { created?: unknown; config?: { Labels?: unknown } };
    return {
      ...(typeof v1.created === 'string' ? { created: v1.created } : {}),
      labels: stringRecord(v1.config?.Labels),
    };
  } catch {
    return { labels: {} };
  }
}
