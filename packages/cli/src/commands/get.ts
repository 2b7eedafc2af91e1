import type { Command } from 'commander';
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { isNotFound } from '@capstan/kube';
import { renderTable, truncate } from '../table.js';
import { kindOf, KIND_WORDS, type CliKind } from './capstan-kinds.js';
import { resourceRow, type CapstanObject, type ResourceRow } from './resource-rows.js';

export interface GetOptions {
  namespace: string;
  allNamespaces: boolean;
  output: 'table' | 'json' | 'yaml';
  watch: boolean;
}

export async function listObjects(
  kc: KubeConfig,
  kind: CliKind,
  namespace: string | null,
  name?: string,
): Promise<CapstanObject[]> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const { plural } = kind;
  const groups = [{ group: kind.group, version: kind.version }, ...(kind.also ?? [])];
  if (name && namespace !== null) {
    // The first group that has it; a 404 from every group is the first group's 404.
    let notFound: unknown;
    for (const { group, version } of groups) {
      try {
        return [
          (await api.getNamespacedCustomObject({ group, version, plural, namespace, name })) as CapstanObject,
        ];
      } catch (e) {
        if (!isNotFound(e)) throw e;
        notFound ??= e;
      }
    }
    throw notFound;
  }
  const lists = await Promise.all(
    groups.map(({ group, version }, i) =>
      (namespace === null
        ? api.listClusterCustomObject({ group, version, plural })
        : api.listNamespacedCustomObject({ group, version, plural, namespace })
      ).then(
        (l) => (l as { items: CapstanObject[] }).items,
        // Another group's CRD may not be installed (Flagger's is optional); Capstan's own must be.
        (e: unknown) => {
          if (i > 0 && isNotFound(e)) return [];
          throw e;
        },
      ),
    ),
  );
  return lists
    .flat()
    .filter((o) => !name || o.metadata.name === name)
    .sort(
      (a, b) =>
        (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
}

function cells(r: ResourceRow, all: boolean): string[] {
  return [
    ...(all ? [r.namespace] : []),
    r.name,
    r.ready,
    truncate(r.status, 70),
    r.revision.replace(/(sha1|sha256):([0-9a-f]{12})[0-9a-f]+/, '$1:$2'),
    r.suspended ? 'True' : 'False',
    r.age,
  ];
}

export function renderRows(rows: ResourceRow[], all: boolean, header = true): string {
  const headers = [...(all ? ['namespace'] : []), 'name', 'ready', 'status', 'revision', 'suspended', 'age'];
  const table = renderTable(
    headers,
    rows.map((r) => cells(r, all)),
  );
  return header ? table : table.split('\n').slice(1).join('\n');
}

/** The objects for -o json / yaml: a Kubernetes List, like kubectl prints. */
const asList = (items: CapstanObject[]) => ({ apiVersion: 'v1', kind: 'List', items });

/**
 * `capstan get <kind> [name]`: prints once, or with -w once and then every change (polled),
 * kubectl style, until interrupted.
 */
export async function getObjects(
  kc: KubeConfig,
  kindWord: string,
  name: string | undefined,
  opts: GetOptions,
  out: (s: string) => void,
  signal?: AbortSignal,
  pollMs = 2_000,
): Promise<number> {
  const kind = kindOf(kindWord);
  const namespace = opts.allNamespaces ? null : opts.namespace;
  const objects = await listObjects(kc, kind, namespace, name);
  if (opts.output === 'json')
    out(JSON.stringify(name && objects.length === 1 ? objects[0] : asList(objects), null, 2));
  else if (opts.output === 'yaml')
    out(stringify(name && objects.length === 1 ? objects[0] : asList(objects)).trimEnd());
  else if (objects.length === 0 && !opts.watch)
    out(`no ${kind.plural} found${namespace === null ? '' : ` in namespace ${namespace}`}`);
  else
    out(
      renderRows(
        objects.map((o) => resourceRow(o, new Date())),
        opts.allNamespaces,
      ),
    );
  if (!opts.watch) return 0;

  const seen = new Map(
    objects.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion]),
  );
  while (!signal?.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    if (signal?.aborted) break;
    const now = await listObjects(kc, kind, namespace, name).catch(() => null);
    if (!now) continue;
    const changed = now.filter(
      (o) => seen.get(`${o.metadata.namespace ?? ''}/${o.metadata.name}`) !== o.metadata.resourceVersion,
    );
    for (const o of changed)
      seen.set(`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion);
    if (changed.length === 0) continue;
    if (opts.output === 'json') for (const o of changed) out(JSON.stringify(o));
    else if (opts.output === 'yaml') for (const o of changed) out(`---\n${stringify(o).trimEnd()}`);
    else
      out(
        renderRows(
          changed.map((o) => resourceRow(o, new Date())),
          opts.allNamespaces,
          false,
        ),
      );
  }
  return 0;
}

export const GET_HELP = `
Kinds: ${KIND_WORDS.join(', ')} (singular forms and sync, repo, hr work too).

Examples:
  capstan get syncs                      # Syncs in namespace default
  capstan get syncs -A                   # in every namespace
  capstan get repositories -n flux-system
  capstan get sync web -o yaml           # one object, as YAML
  capstan get releases -A -w             # then print every change until Ctrl-C
  capstan get images -o json | jq '.items[].status.latestRef'`;

export function registerGetOption(c: Command): Command {
  return c
    .option('-n, --namespace <ns>', 'namespace', 'default')
    .option('-A, --all-namespaces', 'every namespace', false)
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .option('-w, --watch', 'after printing, print each change until interrupted', false);
}
