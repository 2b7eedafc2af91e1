import type { KubernetesObject } from '@kubernetes/client-node';
import type { ChangeSetEntry } from '@capstan/events';
import {
  describeObject,
  differsFromLive,
  forceEnabled,
  isImmutableFieldError,
  planStages,
  reconcileMode,
  unservedKindMessage,
  type KubeObject,
  type SourcedObject,
} from '@capstan/gitops-core';
import { ApplyRejectedError, failureOf, isNotFound, type ObjectFailure } from './errors.js';
import type { ObjectApi } from './object-api.js';

export interface ApplyOptions {
  fieldManager: string;
  /** Namespace for namespaced objects that do not name one. */
  defaultNamespace: string;
  /** When set, the namespace of every namespaced object (Flux's targetNamespace). */
  targetNamespace?: string;
  /** Labels stamped on every object, e.g. the owning Sync, so prune can tell ours from theirs. */
  labels: Record<string, string>;
  /** Recreate objects whose immutable fields changed (the Sync's spec.force). */
  force?: boolean;
  /** Wait this long for new CRDs to be Established before applying their custom resources. */
  crdEstablishTimeoutMs?: number;
  /**
   * Runs once CRDs and Namespaces exist and before anything else is written, with the plan of
   * the whole set: Helm's pre-install hooks go here (they need their namespace, and must finish
   * before the release's objects). Throwing stops the apply there.
   */
  afterDefinitions?: (planned: readonly PlannedChange[]) => Promise<void>;
  /**
   * Told of each object as it is written. A staged apply that fails at a later stage has already
   * written the earlier stages (Namespaces, CRDs); the caller records them with the failure.
   */
  onWritten?: (entry: ChangeSetEntry) => void;
  /**
   * The client an object is read, dry-run and written with, when not the applier's own: a
   * HelmRelease's objects act as its ServiceAccount. Discovery always uses the applier's.
   */
  clientFor?: (object: KubeObject) => ObjectApi | undefined;
}

export interface ApplyResult {
  changeSet: ChangeSetEntry[];
  /** The objects as sent (namespace and labels set), in apply order, skipped ones excluded. */
  applied: KubeObject[];
  /**
   * The live objects right after the apply: the API server's answer to each write, the live
   * object for unchanged ones. Health starts from them instead of reading everything again.
   */
  observed: KubernetesObject[];
}

/** What applying one object would do, from a server-side dry-run compared with the live object. */
export interface PlannedChange {
  item: SourcedObject;
  action: 'created' | 'configured' | 'unchanged' | 'skipped' | 'recreated' | 'deferred';
  live?: KubernetesObject;
  dryRun?: KubernetesObject;
  message?: string;
}

const RECREATE_TIMEOUT_MS = 60_000;

/**
 * Server-side apply in stages (definitions, classes, resources, webhooks). Everything that can
 * be dry-run before the first write is dry-run first; one rejection rejects the whole set, so a
 * broken commit changes nothing in the cluster. Only objects whose dry-run differs from the live
 * object are written: an unchanged set costs reads, not writes.
 */
export class ServerSideApplier {
  constructor(private readonly api: ObjectApi) {}

  /**
   * Every kind of the set is served by the API server, or defined by a CustomResourceDefinition
   * of the same set. Checked before anything is written, for the whole set at once, so a commit
   * with an uninstalled kind or a removed API fails naming every such object, and creates no
   * Namespace on the way. Throws ApplyRejectedError with `validation` set.
   */
  async validate(objects: readonly SourcedObject[]): Promise<void> {
    const defined = new Set(
      objects.filter((o) => o.object.kind === 'CustomResourceDefinition').flatMap((o) => crdKinds(o.object)),
    );
    const served = new Map<string, Promise<boolean>>();
    const checks = await Promise.all(
      objects.map(async (item): Promise<ObjectFailure | undefined> => {
        const { apiVersion, kind } = item.object;
        if (reconcileMode(item.object) === 'ignored') return undefined;
        if (defined.has(`${groupVersionOf(item.object)}/${kind}`)) return undefined;
        const key = `${apiVersion}/${kind}`;
        let known = served.get(key);
        if (!known) {
          known = this.api.serves(apiVersion, kind);
          served.set(key, known);
        }
        if (await known) return undefined;
        return {
          object: describeObject(item.object),
          origin: item.origin,
          message: unservedKindMessage(apiVersion, kind),
          code: 404,
        };
      }),
    );
    const failures = checks.filter((f): f is ObjectFailure => f !== undefined);
    if (failures.length > 0) throw new ApplyRejectedError(failures, { validation: true });
  }

  /** The dry-run of the whole set: what apply would do to each object. Writes nothing. */
  async plan(objects: readonly SourcedObject[], options: ApplyOptions): Promise<PlannedChange[]> {
    const prepared = await Promise.all(
      objects.map(async (s) => ({ ...s, object: await this.prepare(s.object, options) })),
    );
    const newKinds = new Set(
      prepared.filter((p) => p.object.kind === 'CustomResourceDefinition').flatMap((p) => crdKinds(p.object)),
    );
    const newNamespaces = new Set(
      prepared.filter((p) => p.object.kind === 'Namespace').map((p) => p.object.metadata.name),
    );
    const failures: ObjectFailure[] = [];
    const planned = await Promise.all(
      prepared.map(async (item): Promise<PlannedChange> => {
        if (reconcileMode(item.object) === 'ignored')
          return { item, action: 'skipped', message: 'reconcile disabled by annotation' };
        const [live, dry] = await Promise.all([this.readLive(item, options), this.dryRun(item, options)]);
        if (live && reconcileMode(live) === 'ignored')
          return {
            item,
            action: 'skipped',
            live,
            message: 'reconcile disabled by annotation on the live object',
          };
        if (dry.ok) {
          if (!live) return { item, action: 'created', dryRun: dry.result };
          return {
            item,
            action: differsFromLive(dry.result, live) ? 'configured' : 'unchanged',
            live,
            dryRun: dry.result,
          };
        }
        const failure = dry.failure;
        // Objects that need a CRD or Namespace from this same set cannot be dry-run yet; they
        // are dry-run again right before their own stage.
        const newKind = newKinds.has(`${groupVersionOf(item.object)}/${item.object.kind}`);
        if (
          (failure.code === 404 || /unrecognized api version and kind/i.test(failure.message)) &&
          (newNamespaces.has(item.object.metadata.namespace ?? '') || newKind)
        ) {
          // A served kind in a Namespace of this set: judged now, in a namespace that exists, so
          // a bad object fails the commit before its Namespace is created.
          const standIn = newKind ? undefined : await this.dryRunElsewhere(item, options);
          if (standIn) {
            failures.push(standIn);
            return { item, action: 'skipped', message: standIn.message };
          }
          return { item, action: 'deferred', ...(live ? { live } : {}) };
        }
        if (live && isImmutableFieldError(failure.message) && (options.force || forceEnabled(item.object)))
          return { item, action: 'recreated', live, message: failure.message };
        failures.push(failure);
        return { item, action: 'skipped', message: failure.message };
      }),
    );
    if (failures.length > 0) throw new ApplyRejectedError(failures);
    return planned;
  }

  async apply(objects: readonly SourcedObject[], options: ApplyOptions): Promise<ApplyResult> {
    return this.applyPlan(await this.plan(objects, options), options);
  }

  /** Writes a plan (see `plan`) stage by stage. */
  async applyPlan(planned: readonly PlannedChange[], options: ApplyOptions): Promise<ApplyResult> {
    const changeSet: ChangeSetEntry[] = [];
    const applied: KubeObject[] = [];
    const observed: KubernetesObject[] = [];
    let beforeRest = options.afterDefinitions;
    for (const { stage, items } of planStages(planned.map((p) => ({ ...p, object: p.item.object })))) {
      if (stage !== 'definitions' && beforeRest) {
        await beforeRest(planned);
        beforeRest = undefined;
      }
      // Deferred objects waited for this set's CRDs and Namespaces, which exist from here on.
      const ready = await Promise.all(
        items.map((p) => (p.action === 'deferred' ? this.replan(p, options) : Promise.resolve(p))),
      );
      for (const p of ready) {
        const { entry, live } = await this.execute(p, options);
        changeSet.push(entry);
        if (entry.action === 'created' || entry.action === 'configured') options.onWritten?.(entry);
        if (live) observed.push(live);
        if (p.action !== 'skipped') applied.push(p.item.object);
      }
      if (stage === 'definitions')
        await this.waitEstablished(
          items.map((i) => i.item.object),
          options.crdEstablishTimeoutMs ?? 30_000,
        );
    }
    await beforeRest?.(planned);
    return { changeSet, applied, observed };
  }

  private async replan(p: PlannedChange, options: ApplyOptions): Promise<PlannedChange> {
    const item = { ...p.item, object: await this.prepare(p.item.object, options) };
    const [live, dry] = await Promise.all([this.readLive(item, options), this.dryRun(item, options)]);
    if (!dry.ok) {
      if (live && isImmutableFieldError(dry.failure.message) && (options.force || forceEnabled(item.object)))
        return { item, action: 'recreated', live };
      throw new ApplyRejectedError([dry.failure]);
    }
    if (!live) return { item, action: 'created', dryRun: dry.result };
    return {
      item,
      action: differsFromLive(dry.result, live) ? 'configured' : 'unchanged',
      live,
      dryRun: dry.result,
    };
  }

  private async execute(
    p: PlannedChange,
    options: ApplyOptions,
  ): Promise<{ entry: ChangeSetEntry; live?: KubernetesObject }> {
    const { object } = p.item;
    const ref = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace ?? '',
      name: object.metadata.name,
    };
    switch (p.action) {
      case 'skipped':
        return { entry: { ...ref, action: 'skipped', ...(p.message ? { message: p.message } : {}) } };
      case 'unchanged':
        return { entry: { ...ref, action: 'unchanged' }, ...(p.live ? { live: p.live } : {}) };
      case 'recreated':
        return {
          entry: { ...ref, action: 'created', message: 'recreated: immutable field changed' },
          live: await this.recreate(p.item, options),
        };
      case 'created':
      case 'configured':
      case 'deferred': {
        let live: KubernetesObject;
        try {
          live = await this.apiFor(object, options).applyRaw(object, { fieldManager: options.fieldManager });
        } catch (e) {
          throw new ApplyRejectedError([failureOf(object, p.item.origin, e)]);
        }
        return { entry: { ...ref, action: p.action === 'configured' ? 'configured' : 'created' }, live };
      }
    }
  }

  /** Delete, wait until gone, create: the only way to change an immutable field. */
  private async recreate(item: SourcedObject, options: ApplyOptions): Promise<KubernetesObject> {
    const { object } = item;
    const api = this.apiFor(object, options);
    try {
      await api.delete(object, undefined, undefined, undefined, undefined, 'Background');
    } catch (e) {
      if (!isNotFound(e)) throw new ApplyRejectedError([failureOf(object, item.origin, e)]);
    }
    const deadline = Date.now() + RECREATE_TIMEOUT_MS;
    while ((await this.readLive(item, options)) !== undefined) {
      if (Date.now() > deadline)
        throw new ApplyRejectedError([
          failureOf(object, item.origin, new Error(`still present ${RECREATE_TIMEOUT_MS} ms after delete`)),
        ]);
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      return await api.applyRaw(object, { fieldManager: options.fieldManager });
    } catch (e) {
      throw new ApplyRejectedError([failureOf(object, item.origin, e)]);
    }
  }

  private async readLive(item: SourcedObject, options: ApplyOptions): Promise<KubernetesObject | undefined> {
    try {
      return await this.apiFor(item.object, options).read(item.object);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw new ApplyRejectedError([failureOf(item.object, item.origin, e)]);
    }
  }

  private async dryRun(
    item: SourcedObject,
    options: ApplyOptions,
  ): Promise<{ ok: true; result: KubernetesObject } | { ok: false; failure: ObjectFailure }> {
    try {
      const result = await this.apiFor(item.object, options).applyRaw(item.object, {
        fieldManager: options.fieldManager,
        dryRun: true,
      });
      return { ok: true, result };
    } catch (e) {
      return { ok: false, failure: failureOf(item.object, item.origin, e) };
    }
  }

  /**
   * The dry-run of a namespaced object in `default` instead of its own, not yet created,
   * namespace: the failure it reports about the object itself (schema, strict fields), or
   * undefined. What depends on the namespace (a same-named object there, quotas) is not judged.
   */
  private async dryRunElsewhere(
    item: SourcedObject,
    options: ApplyOptions,
  ): Promise<ObjectFailure | undefined> {
    const object = { ...item.object, metadata: { ...item.object.metadata, namespace: 'default' } };
    const dry = await this.dryRun({ ...item, object }, options);
    if (dry.ok || dry.failure.code === 404 || isImmutableFieldError(dry.failure.message)) return undefined;
    return { ...dry.failure, object: describeObject(item.object) };
  }

  private apiFor(object: KubeObject, options: ApplyOptions): ObjectApi {
    return options.clientFor?.(object) ?? this.api;
  }

  /** The object as apply would send it: labels stamped, namespace resolved by the kind's scope. */
  resolve(object: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    return this.prepare(object, options);
  }

  private async prepare(object: KubeObject, options: ApplyOptions): Promise<KubeObject> {
    const copy = structuredClone(object);
    if (reconcileMode(copy) !== 'ignored')
      copy.metadata.labels = { ...(copy.metadata.labels ?? {}), ...options.labels };
    const namespaced = await this.api.isNamespaced(copy.apiVersion, copy.kind).catch(() => undefined);
    if (namespaced === true && options.targetNamespace) copy.metadata.namespace = options.targetNamespace;
    if (namespaced === true && !copy.metadata.namespace) copy.metadata.namespace = options.defaultNamespace;
    if (namespaced === false) delete copy.metadata.namespace;
    return copy;
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
