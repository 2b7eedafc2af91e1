import {
  type CustomObjectsApi,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';

/** A custom resource kind by where the API server serves it. */
export interface CustomKind {
  group: string;
  version: string;
  plural: string;
}

export type CustomInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/**
 * A cluster-wide informer of a custom kind: one list, then one watch for all its objects,
 * resumed by the client on errors.
 */
export function customInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  custom: CustomObjectsApi,
  { group, version, plural }: CustomKind,
): CustomInformer<T> {
  return makeInformer(
    kc,
    `/apis/${group}/${version}/${plural}`,
    async () =>
      (await custom.listClusterCustomObject({ group, version, plural })) as {
        items: T[];
        metadata: { resourceVersion?: string };
      },
  );
}

/**
 * Merge-patches the status subresource of one object of a custom kind: status is written only
 * through here, and never together with spec (which the user owns).
 */
export async function patchCustomStatus(
  custom: CustomObjectsApi,
  kind: CustomKind,
  namespace: string,
  name: string,
  status: unknown,
): Promise<void> {
  await custom.patchNamespacedCustomObjectStatus(
    { ...kind, namespace, name, body: { status } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}
