import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { refOfEntry } from '@capstan/gitops-core';
import { HealthChecker, ObjectApi } from '@capstan/kube';
import { listObjects } from './get.js';
import type { CliKind } from './capstan-kinds.js';
import { CommandError } from './reconcile.js';
import { resourceRow } from './resource-rows.js';

export interface TreeNode {
  object: string;
  status: string;
  message: string;
}

/** The tree as text: the Sync on top, one branch per object it owns with its kstatus health. */
export function renderTree(root: string, nodes: TreeNode[]): string {
  return [
    root,
    ...nodes.map(
      (n, i) =>
        `${i === nodes.length - 1 ? '└──' : '├──'} ${n.object}  ${n.status}${n.message ? `: ${n.message}` : ''}`,
    ),
  ].join('\n');
}

/**
 * `capstan tree sync/<name>`: the objects in the Sync's inventory (what it applied and will
 * prune) with their health, read live. Exit 0 when every object is Current, 1 when one is not.
 */
export async function syncTree(
  kc: KubeConfig,
  kind: CliKind,
  namespace: string,
  name: string,
  out: (s: string) => void,
): Promise<number> {
  if (kind.kind !== 'Sync')
    throw new CommandError(`tree shows the objects of a Sync, not of a ${kind.kind}`, 2);
  const [sync] = await listObjects(kc, kind, namespace, name);
  if (!sync) throw new CommandError(`Sync ${namespace}/${name} not found`, 1);
  const row = resourceRow(sync, new Date());
  const refs = (sync.status?.inventory?.entries ?? []).map(refOfEntry);
  const health = await new HealthChecker(ObjectApi.fromKubeConfig(kc)).check(refs);
  const nodes = refs.map((ref, i) => ({
    object: `${ref.kind}/${ref.metadata.namespace ? `${ref.metadata.namespace}/` : ''}${ref.metadata.name}`,
    status: health[i]?.health.status ?? 'Unknown',
    message: health[i]?.health.status === 'Current' ? '' : (health[i]?.health.message ?? ''),
  }));
  out(
    renderTree(
      `Sync/${namespace}/${name}  Ready=${row.ready}  ${row.revision}${row.suspended ? '  (suspended)' : ''}`,
      nodes,
    ),
  );
  if (refs.length === 0) out('(no objects in the inventory yet)');
  return nodes.every((n) => n.status === 'Current') ? 0 : 1;
}

/** `capstan suspend|resume <kind>/<name>`: sets spec.suspend (merge patch), as `flux suspend` does. */
export async function setSuspended(
  kc: KubeConfig,
  kind: CliKind,
  namespace: string,
  name: string,
  suspend: boolean,
): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    {
      group: kind.group,
      version: kind.version,
      plural: kind.plural,
      namespace,
      name,
      body: { spec: { suspend } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
