// Linkerd's and the Gateway API's routing kinds, for a test cluster that has neither installed:
// structural-minimum CRDs (the analyzer writes them, the test proxy reads them).
import { ApiextensionsV1Api, KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';

function crd(group: string, version: string, kind: string, plural: string): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    // *.k8s.io groups are protected: the Gateway API project's CRDs carry this approval.
    metadata: {
      name: `${plural}.${group}`,
      ...(group.endsWith('.k8s.io')
        ? {
            annotations: {
              'api-approved.kubernetes.io': 'https://github.com/kubernetes-sigs/gateway-api/pull/2466',
            },
          }
        : {}),
    },
    spec: {
      group,
      scope: 'Namespaced',
      names: { kind, plural, listKind: `${kind}List`, singular: kind.toLowerCase() },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
        },
      ],
    },
  };
}

export const MESH_CRDS = [
  crd('split.smi-spec.io', 'v1alpha1', 'TrafficSplit', 'trafficsplits'),
  crd('gateway.networking.k8s.io', 'v1', 'HTTPRoute', 'httproutes'),
  crd('gateway.networking.k8s.io', 'v1', 'Gateway', 'gateways'),
];

/** Creates the CRDs unless they exist, and waits until they are served. */
export async function installMeshCrds(kubeconfigPath: string): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const api = kc.makeApiClient(ApiextensionsV1Api);
  for (const c of MESH_CRDS) {
    try {
      await api.createCustomResourceDefinition({ body: c });
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
    }
  }
  const deadline = Date.now() + 30_000;
  for (const c of MESH_CRDS) {
    for (;;) {
      const got = await api.readCustomResourceDefinition({ name: c.metadata?.name ?? '' });
      if (got.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True')) break;
      if (Date.now() > deadline) throw new Error(`CRD ${c.metadata?.name ?? ''} not established`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
