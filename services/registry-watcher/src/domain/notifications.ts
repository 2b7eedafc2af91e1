import { z } from 'zod';

/** One push a registry told us about. Docker Hub sends no digest: the scan it triggers finds it. */
export interface PushNotice {
  /** The registry's own id of the event, for idempotency. */
  eventId: string;
  registry: string;
  repository: string;
  tag: string;
  digest?: string;
  pushedAt: Date;
  pusher?: string;
}

export type NotificationFormat = 'distribution' | 'dockerhub' | 'ghcr' | 'harbor';

export class NotificationError extends Error {
  constructor(
    readonly format: NotificationFormat,
    reason: string,
  ) {
    super(`malformed ${format} notification: ${reason}`);
    this.name = 'NotificationError';
  }
}

const MANIFEST_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.docker.distribution.manifest.v1+json',
]);

const Digest = z.string().regex(/^sha256:[0-9a-f]{64}$/);

/** The OCI distribution spec's tag grammar: a tag from a webhook ends up in events and Git. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** Path components of a repository name (lower case, `.`, `_`, `-` inside), no `..` or empty ones. */
const REPOSITORY = /^[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/;

/** Refuses a notice whose tag or repository no registry could hold, naming the field. */
function checkNames(
  format: NotificationFormat,
  n: PushNotice,
  field: { tag: string; repository: string },
): PushNotice {
  if (!TAG.test(n.tag))
    throw new NotificationError(format, `${field.tag} ${JSON.stringify(n.tag)} is not a valid image tag`);
  if (!REPOSITORY.test(n.repository))
    throw new NotificationError(
      format,
      `${field.repository} ${JSON.stringify(n.repository)} is not a valid repository name`,
    );
  return n;
}

const DistributionEnvelope = z.object({
  events: z.array(
    z.object({
      id: z.string().min(1),
      timestamp: z.string(),
      action: z.string(),
      target: z.object({
        mediaType: z.string().optional(),
        digest: z.string().optional(),
        repository: z.string().min(1),
        url: z.string().optional(),
        tag: z.string().optional(),
      }),
      request: z.object({ host: z.string().optional() }).optional(),
      actor: z.object({ name: z.string().optional() }).optional(),
    }),
  ),
});

const DockerHubPush = z.object({
  push_data: z.object({ pushed_at: z.number(), pusher: z.string().optional(), tag: z.string().min(1) }),
  repository: z.object({ repo_name: z.string().min(1) }),
  callback_url: z.string().optional(),
});

const GhcrPackage = z.object({
  action: z.string(),
  package: z.object({
    name: z.string().min(1),
    package_type: z.string(),
    owner: z.object({ login: z.string().min(1) }),
    updated_at: z.string().optional(),
    package_version: z.object({
      id: z.number().optional(),
      version: z.string().optional(),
      container_metadata: z
        .object({ tag: z.object({ name: z.string(), digest: z.string().optional() }) })
        .optional(),
    }),
  }),
  sender: z.object({ login: z.string() }).optional(),
});

const HarborPush = z.object({
  type: z.string(),
  occur_at: z.number(),
  operator: z.string().optional(),
  event_data: z.object({
    resources: z.array(
      z.object({ digest: z.string().optional(), tag: z.string().optional(), resource_url: z.string() }),
    ),
    repository: z.object({ repo_full_name: z.string().min(1) }),
  }),
});

/**
 * Turns a registry's webhook body into push notices. Only manifest pushes by tag count (a
 * distribution registry also reports blob pushes and pulls); other events are ignored, not errors.
 * A body that is not the format's shape is an error naming the field.
 */
export function parseNotification(
  format: NotificationFormat,
  body: unknown,
): { notices: PushNotice[]; ignored: number } {
  const parse = <T>(schema: z.ZodType<T>): T => {
    const r = schema.safeParse(body);
    if (!r.success) throw new NotificationError(format, z.prettifyError(r.error).replaceAll('\n', '; '));
    return r.data;
  };
  switch (format) {
    case 'distribution': {
      const env = parse(DistributionEnvelope);
      const notices: PushNotice[] = [];
      let ignored = 0;
      for (const e of env.events) {
        const isManifest = e.target.mediaType === undefined || MANIFEST_TYPES.has(e.target.mediaType);
        if (e.action !== 'push' || !e.target.tag || !isManifest || !e.target.digest) {
          ignored++;
          continue;
        }
        if (!Digest.safeParse(e.target.digest).success)
          throw new NotificationError(
            format,
            `events[].target.digest "${e.target.digest}" is not sha256:<hex>`,
          );
        const registry = hostOf(e.target.url) ?? e.request?.host;
        if (!registry)
          throw new NotificationError(format, `event ${e.id} names no registry (target.url, request.host)`);
        const i = env.events.indexOf(e);
        notices.push(
          checkNames(
            format,
            {
              eventId: e.id,
              registry,
              repository: e.target.repository,
              tag: e.target.tag,
              digest: e.target.digest,
              pushedAt: validDate(e.timestamp),
              ...(e.actor?.name ? { pusher: e.actor.name } : {}),
            },
            { tag: `events[${i}].target.tag`, repository: `events[${i}].target.repository` },
          ),
        );
      }
      return { notices, ignored };
    }
    case 'dockerhub': {
      const p = parse(DockerHubPush);
      const repo = p.repository.repo_name.includes('/')
        ? p.repository.repo_name
        : `library/${p.repository.repo_name}`;
      return {
        notices: [
          checkNames(
            format,
            {
              eventId: `dockerhub:${repo}:${p.push_data.tag}:${p.push_data.pushed_at}`,
              registry: 'docker.io',
              repository: repo,
              tag: p.push_data.tag,
              pushedAt: new Date(p.push_data.pushed_at * 1000),
              ...(p.push_data.pusher ? { pusher: p.push_data.pusher } : {}),
            },
            { tag: 'push_data.tag', repository: 'repository.repo_name' },
          ),
        ],
        ignored: 0,
      };
    }
    case 'ghcr': {
      const p = parse(GhcrPackage);
      const tag = p.package.package_version.container_metadata?.tag;
      if (p.action !== 'published' || p.package.package_type.toLowerCase() !== 'container' || !tag?.name)
        return { notices: [], ignored: 1 };
      const digest = tag.digest ?? p.package.package_version.version;
      const repository = `${p.package.owner.login}/${p.package.name}`.toLowerCase();
      return {
        notices: [
          checkNames(
            format,
            {
              eventId: `ghcr:${repository}:${tag.name}:${p.package.package_version.id ?? digest ?? ''}`,
              registry: 'ghcr.io',
              repository,
              tag: tag.name,
              ...(digest && Digest.safeParse(digest).success ? { digest } : {}),
              pushedAt: p.package.updated_at ? validDate(p.package.updated_at) : new Date(0),
              ...(p.sender?.login ? { pusher: p.sender.login } : {}),
            },
            {
              tag: 'package.package_version.container_metadata.tag.name',
              repository: 'package.owner.login/package.name',
            },
          ),
        ],
        ignored: 0,
      };
    }
    case 'harbor': {
      const p = parse(HarborPush);
      if (p.type !== 'PUSH_ARTIFACT') return { notices: [], ignored: 1 };
      const notices: PushNotice[] = [];
      let ignored = 0;
      for (const r of p.event_data.resources) {
        const registry = r.resource_url.split('/')[0];
        if (!r.tag || !registry) {
          ignored++;
          continue;
        }
        const i = p.event_data.resources.indexOf(r);
        notices.push(
          checkNames(
            format,
            {
              eventId: `harbor:${r.resource_url}:${r.digest ?? ''}:${p.occur_at}`,
              registry,
              repository: p.event_data.repository.repo_full_name,
              tag: r.tag,
              ...(r.digest && Digest.safeParse(r.digest).success ? { digest: r.digest } : {}),
              pushedAt: new Date(p.occur_at * 1000),
              ...(p.operator ? { pusher: p.operator } : {}),
            },
            { tag: `event_data.resources[${i}].tag`, repository: 'event_data.repository.repo_full_name' },
          ),
        );
      }
      return { notices, ignored };
    }
  }
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}

function validDate(s: string): Date {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? new Date(0) : d;
}
