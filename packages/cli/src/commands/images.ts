import { type Command } from 'commander';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { parseImageRef } from '@capstan/image-policy';
import { createKubeConfig } from '@capstan/kube';
import { RegistryClient } from '@capstan/registry';
import { UsageError } from '../object-ref.js';
import { renderTable } from '../table.js';

export interface ImageTagRow {
  tag: string;
  created: string | null;
  digest: string;
}

/** Tags newest build first (no build time last, then by tag). Pure. */
export function renderImageTags(rows: readonly ImageTagRow[]): string {
  if (rows.length === 0) return 'No tags.';
  const sorted = [...rows].sort(
    (a, b) => (b.created ?? '').localeCompare(a.created ?? '') || b.tag.localeCompare(a.tag),
  );
  return renderTable(
    ['tag', 'created', 'digest'],
    sorted.map((r) => [r.tag, r.created ?? '-', r.digest]),
  );
}

interface PolicyObject {
  metadata: { namespace: string; name: string };
  spec: { imageRepositoryRef: { name: string }; policy: Record<string, unknown> };
  status?: {
    latestRef?: { name: string; tag: string; digest?: string };
    why?: string;
    conditions?: { type: string; status: string; reason: string; message: string }[];
  };
}

/** An ImagePolicy's latest pick and why, as `capstan images policy` prints it. Pure. */
export function renderPolicy(p: PolicyObject): string {
  const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
  const latest = p.status?.latestRef;
  return [
    `policy:     ${p.metadata.namespace}/${p.metadata.name} (${Object.keys(p.spec.policy).join(', ')} ${JSON.stringify(Object.values(p.spec.policy)[0] ?? {})})`,
    `repository: ${p.spec.imageRepositoryRef.name}`,
    `latest:     ${latest ? `${latest.name}:${latest.tag}${latest.digest ? `@${latest.digest}` : ''}` : '-'}`,
    `why:        ${p.status?.why ?? '-'}`,
    `ready:      ${ready ? `${ready.status} ${ready.reason}: ${ready.message}` : 'unknown'}`,
  ].join('\n');
}

export function registerImages(
  cmd: Command,
  out: (s: string) => void,
  settings: { kubeconfig?: string },
): void {
  const images = cmd.command('images').description('container images: tags in a registry, image policies');
  images
    .command('list')
    .description('tags of an image repository with their build time and digest')
    .argument('<repository>', 'e.g. ghcr.io/org/app or 127.0.0.1:5000/team/app')
    .option('--creds <user:password>', 'registry credentials')
    .option('--limit <n>', 'read build times of at most this many tags', (v) => Number.parseInt(v, 10), 100)
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (repository: string, opts: { creds?: string; limit: number; output: string }) => {
      let ref;
      try {
        ref = parseImageRef(repository);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const [username = '', ...password] = (opts.creds ?? '').split(':');
      const image = {
        registry: ref.registry,
        repository: ref.repository,
        ...(opts.creds ? { credentials: { username, password: password.join(':') } } : {}),
      };
      const client = new RegistryClient();
      const tags = (await client.listTags(image)).sort().reverse().slice(0, opts.limit);
      const rows: ImageTagRow[] = [];
      for (const tag of tags) {
        const info = await client.imageInfo(image, tag);
        rows.push({ tag, created: info.created ?? null, digest: info.digest });
      }
      out(opts.output === 'json' ? JSON.stringify(rows, null, 2) : renderImageTags(rows));
    });
  images
    .command('policy')
    .description("an ImagePolicy's latest pick and why")
    .argument('<policy>', '<namespace>/<name>')
    .option('-o, --output <format>', 'table or json', 'table')
    .action(async (name: string, opts: { output: string }) => {
      const [namespace, policy, ...rest] = name.split('/');
      if (!namespace || !policy || rest.length > 0)
        throw new UsageError(`"${name}": expected <namespace>/<name>`);
      const api = createKubeConfig(settings.kubeconfig).makeApiClient(CustomObjectsApi);
      const object = (await api.getNamespacedCustomObject({
        group: 'capstan.dev',
        version: 'v1alpha1',
        namespace,
        plural: 'imagepolicies',
        name: policy,
      })) as PolicyObject;
      out(opts.output === 'json' ? JSON.stringify(object.status ?? {}, null, 2) : renderPolicy(object));
    });
}
