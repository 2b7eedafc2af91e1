import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { overviewRow, OVERVIEW_KINDS, type KubeObject, type OverviewRow } from './overview.js';

/** The Kubernetes side of the Overview: the Capstan objects of every installed kind, cluster-wide. */
export class ClusterObjects {
  private readonly custom: CustomObjectsApi;

  constructor(kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  async rows(kinds: readonly string[] = OVERVIEW_KINDS.map((k) => k.kind)): Promise<OverviewRow[]> {
    const lists = await Promise.all(
      OVERVIEW_KINDS.filter((k) => kinds.includes(k.kind)).map(async (k) => {
        try {
          const list = (await this.custom.listClusterCustomObject({
            group: k.group,
            version: k.version,
            plural: k.plural,
          })) as { items: KubeObject[] };
          return list.items.map((o) => overviewRow(k.kind, o, k.group));
        } catch (e) {
          // The kind's CRD is not installed (yet), or the service may not list it (RBAC without
          // clusterAdmin and without the console's rules): the Overview has none of them.
          if (e instanceof ApiException && (e.code === 404 || e.code === 403)) return [];
          throw e;
        }
      }),
    );
    return lists.flat();
  }
}
