import type { KubernetesObject } from '@kubernetes/client-node';
import type { ChangeSetEntry } from '@capstan/events';
import { describeObject, planStages, type KubeObject, type SourcedObject } from '@capstan/gitops-core';
import { ApplyRejectedError, failureOf, isNotFound, type ObjectFailure } from './errors.js';
import type { ObjectApi } from './object-api.js';

export interface ApplyOptions {
  fieldManager: string;
  /** Namespace for namespaced objects that do not name one (the Sync's targetNamespace). */
  defaultNamespace: string;
  /** Labels stamped on every object, e.g. the owning Sync, so prune can tell ours from theirs. */
  labels: Record<string, string>;
  /** Wait this long for new CRDs to be Established before applying their custom resources. */
  crdEstablishTimeoutMs?: number;
}

export interface ApplyResult {
  changeSet: ChangeSetEntry[];
}

/**
 * Server-side apply in stages (definitions, classes, resources, webhooks). Everything that can
 * be dry-run before the first write is dry-run first; one rejection rejects the whole set, so a
 * broken commit changes nothing in the cluster.
 */
export class ServerSideApplier {
  constructor(private readonly api: ObjectApi) {}

  async apply(objects: readonly SourcedObject[], options: ApplyOptions): Promise<ApplyResult> {
    const prepared = await Promise.all(
      objects.map(async (s) => ({ ...s, object: await this.prepare(s.object, options) })),
    );
    const newKinds = new Set(
      prepared.filter((p) => p.object.kind === 'CustomResourceDefinition').flatMap((p) => crdKinds(p.object)),
    );
    const newNamespaces = new Set(
      prepared.filter((p) => p.object.kind === 'Namespace').map((p) => p.object.metadata.name),
    );

    // Objects that need a CRD or Namespace from this same set cannot be dry-run yet; they are
    // dry-run again right before their own stage.
    await this.dryRunAll(
      prepared,
      options,
      (p, failure) =>
        (failure.code === 404 || /unrecognized api version and kind/i.test(failure.message)) &&
        (newNamespaces.has(p.object.metadata.namespace ?? '') ||
          newKinds.has(`${groupVersionOf(p.object)}/${p.object.kind}`)),
    );

    const changeSet: ChangeSetEntry[] = [];
    for (const { stage, items: planned } of planStages(prepared)) {
      // Again now that this set's CRDs exist: scope of their kinds is known only from here on.
      const items = await Promise.all(
        planned.map(async (p) => ({ ...p, object: await this.prepare(p.object, options) })),
      );
      if (stage !== 'definitions') await this.dryRunAll(items, options, () => false);
      for (const item of items) changeSet.push(await this.applyOne(item, options));
      if (stage === 'definitions')
        await this.waitEstablished(
          items.map((i) => i.object),
          options.crdEstablishTimeoutMs ?? 30_000,
        );
    }
    return { changeSet };
  }

  private async prepare(object: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    const copy = structuredClone(object);
    copy.metadata.labels = { ...(copy.metadata.labels ?? {}), ...options.labels };
    const namespaced = await this.api.isNamespaced(copy.apiVersion, copy.kind).catch(() => undefined);
    if (namespaced === true && !copy.metadata.namespace) copy.metadata.namespace = options.defaultNamespace;
    if (namespaced === false) delete copy.metadata.namespace;
    return copy;
  }

  private async dryRunAll(
    items: readonly SourcedObject[],
    options: ApplyOptions,
    deferrable: (item: SourcedObject, failure: ObjectFailure) => boolean,
  ): Promise<void> {
    const failures: ObjectFailure[] = [];
    await Promise.all(
      items.map(async (item) => {
        try {
          await this.api.applyRaw(item.object, { fieldManager: options.fieldManager, dryRun: true });
        } catch (e) {
          const failure = failureOf(item.object, item.origin, e);
          if (!deferrable(item, failure)) failures.push(failure);
        }
      }),
    );
    if (failures.length > 0) throw new ApplyRejectedError(failures);
  }

  private async applyOne(item: SourcedObject, options: ApplyOptions): Promise<ChangeSetEntry> {
    const { object } = item;
    const ref = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace ?? '',
      name: object.metadata.name,
    };
    let before: string | undefined;
    try {
      const live = await this.api.read(object);
      before = live.metadata?.resourceVersion;
    } catch (e) {
      if (!isNotFound(e)) throw new ApplyRejectedError([failureOf(object, item.origin, e)]);
    }
    let after: KubernetesObject;
    try {
      after = await this.api.applyRaw(object, { fieldManager: options.fieldManager });
    } catch (e) {
      throw new ApplyRejectedError([failureOf(object, item.origin, e)]);
    }
    // A no-op server-side apply does not write to etcd, so the resourceVersion tells us.
    const action =
      before === undefined
        ? 'created'
        : after.metadata?.resourceVersion === before
          ? 'unchanged'
          : 'configured';
    return { ...ref, action };
  }

  private async waitEstablished(objects: readonly KubeObject[], timeoutMs: number): Promise<void> {
    const crds = objects.filter((o) => o.kind === 'CustomResourceDefinition');
    const deadline = Date.now() + timeoutMs;
    for (const crd of crds) {
      for (;;) {
        const live = (await this.api.read({
          apiVersion: crd.apiVersion,
          kind: crd.kind,
          metadata: { name: crd.metadata.name },
        })) as {
          status?: { conditions?: { type: string; status: string }[] };
        };
        if (live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
        if (Date.now() > deadline)
          throw new Error(`${describeObject(crd)} not Established after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

function crdKinds(crd: KubeObject): string[] {
  const spec = crd['spec'] as
    { group?: string; names?: { kind?: string }; versions?: { name?: string }[] } | undefined;
  if (!spec?.group || !spec.names?.kind) return [];
  return (spec.versions ?? []).map((v) => `${spec.group}/${v.name ?? ''}/${spec.names?.kind ?? ''}`);
}

function groupVersionOf(o: KubeObject): string {
  return o.apiVersion.includes('/') ? o.apiVersion : `/${o.apiVersion}`;
}
