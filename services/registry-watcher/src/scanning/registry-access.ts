import {
  RegistryClient,
  type ImageInfo,
  type RegistryCredentials,
  type RepositoryRef,
} from '@capstan/registry';
import type { RegistryWatcherMetrics } from '../metrics.js';

/**
 * The one RegistryClient of the service (so the per-registry budget and token cache are shared;
 * logins and plain HTTP go with each request, see RepositoryLogin), and image metadata cached by digest: a config never changes for a digest,
 * so `created` is read once per image.
 */
export class RegistryAccess {
  readonly client: RegistryClient;
  private readonly infos = new Map<string, ImageInfo>();

  constructor(
    metrics: RegistryWatcherMetrics,
    options: { ratePerSecond: number; burst: number; pageSize: number },
  ) {
    this.client = new RegistryClient({
      ...options,
      onResponse: (registry, method, status) =>
        metrics.requests.inc({ registry, method, status: String(status) }),
      onRateLimit: (registry, limit) => {
        if (limit.remaining !== undefined) metrics.rateLimitRemaining.set({ registry }, limit.remaining);
        if (limit.limit !== undefined) metrics.rateLimitLimit.set({ registry }, limit.limit);
      },
    });
  }

  /** Config metadata of a tag; cached per tag and digest (a known digest's config never changes). */
  async info(ref: RepositoryRef, tag: string, digest: string): Promise<ImageInfo> {
    // Keyed by digest, which only a reader allowed to list the repository has learned.
    const key = `${ref.registry}/${ref.repository}:${tag}@${digest}`;
    const cached = this.infos.get(key);
    if (cached) return cached;
    const info = await this.client.imageInfo(ref, tag);
    // Bounded: old entries go first.
    if (this.infos.size > 20_000) this.infos.delete(this.infos.keys().next().value ?? '');
    this.infos.set(key, info);
    return info;
  }
}

/** Registry credentials from a Secret: `username`/`password`, or a `.dockerconfigjson` for the host. */
export function registryCredentials(
  registry: string,
  data: Record<string, string>,
): RegistryCredentials | undefined {
  if (data['username'] !== undefined && data['password'] !== undefined)
    return { username: data['username'], password: data['password'] };
  const config = data['.dockerconfigjson'];
  if (!config) return undefined;
  const auths = (
    JSON.parse(config) as { auths?: Record<string, { username?: string; password?: string; auth?: string }> }
  ).auths;
  const entry = auths?.[registry] ?? auths?.[`https://${registry}`];
  if (!entry) return undefined;
  if (entry.username !== undefined && entry.password !== undefined)
    return { username: entry.username, password: entry.password };
  if (entry.auth) {
    const [username = '', ...rest] = Buffer.from(entry.auth, 'base64').toString('utf8').split(':');
    return { username, password: rest.join(':') };
  }
  return undefined;
}
