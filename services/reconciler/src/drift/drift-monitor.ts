import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleInit,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';
import type { ChangeSetEntry, ObjectRef } from '@capstan/events';
import { Bus } from '@capstan/messaging';
import { CLOCK, type Clock } from '@capstan/platform';
import type { ServiceAccountRef, Sync } from '@capstan/kube';
import { SyncCache } from '../cluster/sync-cache.js';
import {
  compareOwned,
  redactSecrets,
  secretValuesOf,
  type FieldDrift,
  type KubeObject,
  type SourcedObject,
  type WatchedObject,
} from '@capstan/gitops-core';
import { RECONCILER_CONFIG, type ReconcilerConfig } from '../config.js';
import { asApplied, objectKey } from './as-applied.js';
import { SYNC_NAME_LABEL, ownerLabels } from '../domain/ownership.js';
import { syncIdentity } from '../domain/tenancy.js';
import {
  driftCorrectedDecision,
  driftDetectedDecision,
  driftDetectedEvent,
  type DriftFinding,
  type DriftPolicy,
} from './drift-decisions.js';
import { DriftCluster, type KindWatch } from './kube-drift-cluster.js';
import { LiveObjectFeed } from '../cluster/live-feed.js';
import { SyncOwnership } from '../scheduling/sync-ownership.js';

/** Bursts of writes to one object (kubectl apply, then the controller's reaction) are looked at once. */
export const DRIFT_DEBOUNCE_MS = 50;

interface TrackedSync {
  ref: { namespace: string; name: string; uid: string };
  policy: DriftPolicy;
  suspended: boolean;
  /** Object key -> the object as last applied: the desired state until the next reconcile applies. */
  objects: Map<string, KubeObject>;
  kinds: Set<string>;
  appliedAt: Date;
  /**
   * Who a correction acts as: the account the Sync names now (followed from the Sync watch, so
   * narrowing a Sync's account narrows its corrections at once), or its HelmRelease's.
   */
  identity: ServiceAccountRef | undefined;
  releaseAccount: ReleaseAccount;
}

/** The account of the HelmRelease an applied object came from, when that release names one. */
export type ReleaseAccount = (object: KubeObject) => ServiceAccountRef | undefined;

interface Seen {
  type: 'upsert' | 'delete';
  object: WatchedObject;
}

/**
 * Watch-based drift detection: one label-selected, cluster-wide watch per kind in use
 * (apiVersion + kind), not one per object. Cluster-wide because a Sync may apply into any
 * namespace and one watch per kind stays one watch however many namespaces and Syncs use it;
 * the ownership label keeps the traffic to Capstan's objects.
 *
 * When a field Capstan applied changes under another field manager, or the object goes away,
 * it records the drift and, unless the Sync says `driftPolicy: warn`, applies the last applied
 * object again. It never fights a newer reconcile: the desired objects are replaced by each
 * apply, a correction is preconditioned on the resourceVersion it judged, and fields Capstan
 * itself wrote are never drift. Drift follows ownership: a replica guards only the Syncs it
 * reconciled and still owns (a shard lost is untracked; its new owner reconciles and tracks it),
 * and corrections are idempotent server-side applies with deterministic event and decision ids.
 */
@Injectable()
export class DriftMonitor implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('DriftMonitor');
  private readonly syncs = new Map<string, TrackedSync>();
  /** Object key -> key of the Sync that applied it last. */
  private readonly owners = new Map<string, string>();
  private readonly watches = new Map<string, { watch: KindWatch; users: Set<string> }>();
  private readonly pending = new Map<string, Seen>();
  /** Per object, evaluations run one after another. */
  private readonly running = new Map<string, Promise<void>>();
  /** Per object, the drift already reported and not yet resolved, so a status write does not report it again. */
  private readonly reported = new Map<string, { signature: string; finding: DriftFinding }>();
  private readonly detected: Counter<'change'>;
  private readonly corrections: Counter<'result'>;
  private stopped = false;

  constructor(
    private readonly cluster: DriftCluster,
    private readonly syncCache: SyncCache,
    private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RECONCILER_CONFIG) private readonly config: ReconcilerConfig,
    registry: Registry,
    private readonly feed: LiveObjectFeed,
    private readonly ownership: SyncOwnership,
  ) {
    this.detected = new Counter({
      name: 'capstan_drift_detected_total',
      help: 'Drift of applied objects, by change',
      labelNames: ['change'],
      registers: [registry],
    });
    this.corrections = new Counter({
      name: 'capstan_drift_corrections_total',
      help: 'Drift corrections by result',
      labelNames: ['result'],
      registers: [registry],
    });
    const watches = this.watches;
    new Gauge({
      name: 'capstan_drift_watches',
      help: 'Watches for drift, one per kind in use (apiVersion/kind)',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const kind of watches.keys()) this.set({ kind }, 1);
      },
    });
  }

  /** Follows Sync policy changes and deletions; a deleted Sync's objects are no longer guarded. */
  onModuleInit(): void {
    const informer = this.syncCache.informer;
    informer.on('update', (s) => this.syncChanged(s));
    informer.on('add', (s) => this.syncChanged(s));
    informer.on('delete', (s) => this.untrack(keyOfSync(s)));
    this.ownership.onLost((shards) => {
      const lost = new Set(shards);
      for (const [key, tracked] of [...this.syncs])
        if (lost.has(this.ownership.shardOf(tracked.ref.namespace, tracked.ref.name))) this.untrack(key);
    });
  }

  onApplicationBootstrap(): void {
    void this.syncCache.start();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.watches.values()].map((w) => w.watch.stop()));
    this.watches.clear();
    this.pending.clear();
  }

  /**
   * A reconcile applied `objects` for `sync`: they are now the desired state, replacing what the
   * previous reconcile applied. Never throws: drift detection must not fail a reconcile.
   */
  track(
    sync: Sync,
    objects: readonly SourcedObject[],
    changeSet: readonly ChangeSetEntry[],
    releaseAccount: ReleaseAccount = () => undefined,
  ): void {
    try {
      const key = keyOfSync(sync);
      const applied = asApplied(objects, changeSet, ownerLabels(sync.metadata));
      const previous = this.syncs.get(key);
      const tracked: TrackedSync = {
        ref: { namespace: sync.metadata.namespace, name: sync.metadata.name, uid: uidOf(sync) },
        policy: sync.spec.driftPolicy ?? 'correct',
        suspended: sync.spec.suspend === true,
        objects: new Map(applied.map((o) => [objectKey(refOf(o)), o])),
        kinds: new Set(applied.map(kindKey)),
        appliedAt: this.clock.now(),
        identity: syncIdentity(sync, this.config.DEFAULT_SERVICE_ACCOUNT),
        releaseAccount,
      };
      this.syncs.set(key, tracked);
      for (const k of previous?.objects.keys() ?? [])
        if (!tracked.objects.has(k) && this.owners.get(k) === key) this.forget(k);
      for (const k of tracked.objects.keys()) this.owners.set(k, key);
      for (const kind of tracked.kinds) this.acquire(kind, key);
      for (const kind of previous?.kinds ?? []) if (!tracked.kinds.has(kind)) this.release(kind, key);
    } catch (e) {
      this.logger.error(`cannot track ${sync.metadata.namespace}/${sync.metadata.name}: ${String(e)}`);
    }
  }

  /** Kinds currently watched, as `apiVersion/kind`. */
  watchedKinds(): string[] {
    return [...this.watches.keys()].sort();
  }

  private untrack(key: string): void {
    const tracked = this.syncs.get(key);
    if (!tracked) return;
    this.syncs.delete(key);
    for (const k of tracked.objects.keys()) if (this.owners.get(k) === key) this.forget(k);
    for (const kind of tracked.kinds) this.release(kind, key);
  }

  private forget(objectKey: string): void {
    this.owners.delete(objectKey);
    this.reported.delete(objectKey);
    this.feed.forget(objectKey);
  }

  private syncChanged(sync: Sync): void {
    const tracked = this.syncs.get(keyOfSync(sync));
    if (!tracked) return;
    if (tracked.ref.uid !== uidOf(sync)) {
      this.untrack(keyOfSync(sync)); // deleted and created again: its reconcile will track it
      return;
    }
    tracked.policy = sync.spec.driftPolicy ?? 'correct';
    tracked.identity = syncIdentity(sync, this.config.DEFAULT_SERVICE_ACCOUNT);
    tracked.suspended = sync.spec.suspend === true;
  }

  private acquire(kind: string, syncKey: string): void {
    const existing = this.watches.get(kind);
    if (existing) {
      existing.users.add(syncKey);
      return;
    }
    const [apiVersion, k] = splitKind(kind);
    const watch = this.cluster.watchKind(
      apiVersion,
      k,
      SYNC_NAME_LABEL,
      (type, object) => this.seen(apiVersion, k, type, object),
      (e) => this.logger.warn(`watch of ${kind} failed, restarting: ${String(e)}`),
    );
    this.watches.set(kind, { watch, users: new Set([syncKey]) });
  }

  private release(kind: string, syncKey: string): void {
    const entry = this.watches.get(kind);
    if (!entry) return;
    entry.users.delete(syncKey);
    if (entry.users.size > 0) return;
    this.watches.delete(kind);
    void entry.watch.stop();
  }

  /** Debounce: the first event of a burst schedules one look, later ones only update what it sees. */
  private seen(apiVersion: string, kind: string, type: Seen['type'], object: WatchedObject): void {
    if (this.stopped) return;
    const key = objectKey({
      apiVersion,
      kind,
      namespace: object.metadata?.namespace ?? '',
      name: object.metadata?.name ?? '',
    });
    // Health waits hear every event of the objects they wait on, drift or not.
    this.feed.publish(key, type, object);
    if (!this.owners.has(key)) return;
    const scheduled = this.pending.has(key);
    this.pending.set(key, { type, object });
    if (scheduled) return;
    setTimeout(() => {
      const previous = this.running.get(key) ?? Promise.resolve();
      const next = previous
        .then(() => this.evaluate(key))
        .catch((e: unknown) => {
          this.logger.warn(`drift check of ${key} failed: ${String(e)}`);
        });
      this.running.set(key, next);
      void next.finally(() => {
        if (this.running.get(key) === next) this.running.delete(key);
      });
    }, DRIFT_DEBOUNCE_MS);
  }

  private async evaluate(key: string): Promise<void> {
    const seen = this.pending.get(key);
    this.pending.delete(key);
    const syncKey = this.owners.get(key);
    const tracked = syncKey === undefined ? undefined : this.syncs.get(syncKey);
    const desired = tracked?.objects.get(key);
    if (!seen || !tracked || !desired) return;
    // Lost since it was tracked (the untrack is on its way): the new owner guards it now.
    if (!this.ownership.owns(tracked.ref.namespace, tracked.ref.name)) return;
    const ref = refOf(desired);
    // A watch with a label selector also says "deleted" when the label was removed: look.
    const live = seen.type === 'delete' ? await this.cluster.read(ref) : seen.object;
    let change: DriftFinding['change'];
    let fields: FieldDrift[] = [];
    if (live === undefined) change = 'deleted';
    else {
      change = 'modified';
      fields = compareOwned(desired, live, {
        manager: this.config.FIELD_MANAGER,
        desiredSince: tracked.appliedAt,
      });
      if (fields.length === 0) {
        this.reported.delete(key);
        return;
      }
    }
    const resourceVersion = (live ?? seen.object).metadata?.resourceVersion ?? '';
    const signature = JSON.stringify([change, fields.map((f) => [f.path, f.liveDigest ?? f.live])]);
    let recorded: Promise<void> = Promise.resolve();
    let finding =
      this.reported.get(key)?.signature === signature ? this.reported.get(key)?.finding : undefined;
    if (!finding) {
      finding = {
        sync: tracked.ref,
        object: ref,
        change,
        fields,
        resourceVersion,
        policy: tracked.policy,
        cluster: this.config.CLUSTER_NAME,
        detectedAt: this.clock.now(),
      };
      this.reported.set(key, { signature, finding });
      this.detected.inc({ change });
      this.logger.log(
        `drift of ${describe(ref)}: ${change === 'deleted' ? 'deleted' : fields.map((f) => `${f.path} by ${f.manager ?? '?'}`).join(', ')}`,
      );
      const record = finding;
      recorded = (async () => {
        await this.bus.publish(driftDetectedEvent(record));
        await this.bus.publish(driftDetectedDecision(record));
      })();
    }
    // The correction does not wait for JetStream; only its decision waits for the detection's.
    const corrected =
      tracked.policy === 'correct' && !tracked.suspended
        ? this.correct(
            key,
            desired,
            finding,
            change === 'modified' ? resourceVersion : undefined,
            tracked.releaseAccount(desired) ?? tracked.identity,
          )
        : Promise.resolve(false);
    const [ok] = await Promise.all([corrected, recorded]);
    if (ok) await this.bus.publish(driftCorrectedDecision(finding, this.clock.now()));
  }

  private async correct(
    key: string,
    desired: KubeObject,
    finding: DriftFinding,
    resourceVersion: string | undefined,
    identity: ServiceAccountRef | undefined,
  ): Promise<boolean> {
    let rv = resourceVersion;
    for (let attempt = 1; ; attempt++) {
      // A reconcile that applied since this look owns the object now; its own apply is the truth.
      const current = this.syncs.get(this.owners.get(key) ?? '')?.objects.get(key);
      if (current !== desired) return false;
      const body = structuredClone(desired);
      // Only the state judged is corrected: anything written since (a newer reconcile, another
      // replica's correction, the controller's status) fails the precondition and is judged again.
      if (rv) body.metadata['resourceVersion'] = rv;
      try {
        // As the Sync's account: a correction may do no more than the apply it repeats.
        await this.cluster.apply(body, this.config.FIELD_MANAGER, identity);
        break;
      } catch (e) {
        if (statusOf(e) === 403) {
          // The Sync's account may not write it (the Sync was narrowed since it applied this):
          // retrying cannot help; the next reconcile or change of the object looks again.
          this.corrections.inc({ result: 'failed' });
          this.logger.warn(
            `drift of ${describe(finding.object)} not corrected: the Sync's ServiceAccount may not write it`,
          );
          return false;
        }
        if (statusOf(e) !== 409) {
          this.corrections.inc({ result: 'failed' });
          this.logger.warn(
            `cannot correct drift of ${describe(finding.object)}: ${redactSecrets(String(e), secretValuesOf([desired]))}`,
          );
          // Look again later; the finding stays reported, so only the correction is retried.
          setTimeout(
            () => this.seen(desired.apiVersion, desired.kind, 'delete', { metadata: desired.metadata }),
            2_000,
          );
          return false;
        }
        this.corrections.inc({ result: 'conflict' });
        if (attempt >= 3) return false; // the watch brings the newer state; it is judged then
        // Judge the newer state now rather than after the next event and its debounce: usually
        // it is the controller reacting to the same manual change, the drift still there.
        const live = await this.cluster.read(finding.object);
        if (!live) return false;
        const still = compareOwned(desired, live, {
          manager: this.config.FIELD_MANAGER,
          desiredSince: this.syncs.get(this.owners.get(key) ?? '')?.appliedAt,
        });
        if (still.length === 0) return false;
        rv = live.metadata?.resourceVersion;
      }
    }
    this.corrections.inc({ result: 'corrected' });
    return true;
  }
}

function keyOfSync(s: Sync): string {
  return `${s.metadata.namespace}/${s.metadata.name}`;
}

function uidOf(s: Sync): string {
  return s.metadata.uid ?? keyOfSync(s);
}

function kindKey(o: KubeObject): string {
  return `${o.apiVersion}/${o.kind}`;
}

function splitKind(kind: string): [string, string] {
  const i = kind.lastIndexOf('/');
  return [kind.slice(0, i), kind.slice(i + 1)];
}

function refOf(o: KubeObject): ObjectRef {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
  };
}

function describe(o: ObjectRef): string {
  return `${o.namespace ? `${o.namespace}/` : ''}${o.kind}/${o.name}`;
}

function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
