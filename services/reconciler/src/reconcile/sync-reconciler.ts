import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import {
  correlationIdFromCommit,
  type ChangeSetEntry,
  type CommitVerification,
  type GitSource,
} from '@capstan/events';
import { Bus, describeError } from '@capstan/messaging';
import { CLOCK, capstanHistogram, type Clock } from '@capstan/platform';
import { type ApplyOptions, type ApplyResult, type PlannedChange, type Sync } from '@capstan/kube';
import {
  checkObjects,
  checkSource,
  parseDuration,
  redactSecrets,
  secretValuesOf,
  staleObjects,
  type KubeObject,
  type SourcedObject,
  type TenancyPolicy,
  type WatchedObject,
} from '@capstan/gitops-core';
import { CommitRenderer, isHelmReleaseKind, type HookGroups, type HookObject } from '@capstan/render';
import { RECONCILER_CONFIG, type ReconcilerConfig } from '../config.js';
import { ID_SOURCE, type IdSource } from '../ids.js';
import { DriftMonitor } from '../drift/drift-monitor.js';
import { HealthWaiter } from '../cluster/health-waiter.js';
import { ArtifactCache } from '../sources/artifact-cache.js';
import { SourceSettingsReader, type SourceSettings } from '../sources/source-settings.js';
import type { Slot } from '../scheduling/keyed-queue.js';
import {
  decisionFor,
  prunedDecisionFor,
  releaseFailedDecisionFor,
  type DecisionContext,
} from '../domain/decision.js';
import {
  deletionsOf,
  describeUnhealthy,
  isTerminal,
  summarize,
  type HealthOutcome,
  type ReconcileFailure,
  type ReconcileOutcome,
  type ReleaseOutcome,
  type RollbackOutcome,
} from '../domain/outcome.js';
import type { ReleaseAttempt } from '../domain/release-retry.js';
import { ownerLabels } from '../domain/ownership.js';
import { inventoryOf, repeatsFailure, repeatsReleaseFailure } from '../domain/sync-status.js';
import { verificationGate } from '../domain/verification.js';
import { TenantClients, type TenantClient } from '../cluster/tenant-clients.js';
import { TenancyPolicies, PoliciesNotListedError } from '../cluster/tenancy-policies.js';
import { crossNamespaceRefsRefusal, policyRefusal, syncIdentity } from '../domain/tenancy.js';
import { hooksToRun, releasePhases, type ReleasePhase } from './hooks/hook-selection.js';
import { DependencyGate } from './dependency-gate.js';
import { applyFailure, buildFailure, PhaseFailure, phaseFailure } from './phase-failure.js';
import { SyncStatusWriter } from './sync-status-writer.js';
import { ReleaseSet, keptForReleases } from './release-set.js';
import { HelmReleaseStatusWriter } from './helm-release-status-writer.js';
import { ChangeAttribution, type Attribution } from './change-attribution.js';
import { AttemptLedger } from './attempt-ledger.js';
import { creditInterrupted, judgeAttempt, withPlan, type AttemptRecord } from '../domain/attempts.js';
import { SyncOwnership } from '../scheduling/sync-ownership.js';
import { ReleaseRetries } from './release-retries.js';
import { ReleaseDeployer } from './release-deployer.js';

/** spec.timeout when unset: how long health and Helm hooks may take. */
export const DEFAULT_TIMEOUT = '5m';

export interface ReconcileTrigger {
  /** Stable id of the cause (commit event id, spec generation): one decision per trigger. */
  id: string;
  source: GitSource;
  /** The commit's signature check, from the commit event (or the source's artifact). */
  verification?: CommitVerification;
}

/** A retryable failure (the artifact could not be fetched): the caller retries with backoff. */
export class TransientReconcileError extends Error {
  override readonly name = 'TransientReconcileError';
}

/** What one reconcile carries from phase to phase. */
interface Run {
  sync: Sync;
  trigger: ReconcileTrigger;
  slot: Slot | undefined;
  options: ApplyOptions;
  /** What the staged apply has written so far: a later failure still records it. */
  written: ChangeSetEntry[];
  /** Helm hooks run, in order (recorded in the decision, never in the inventory). */
  hooks: ChangeSetEntry[];
  /** Install or upgrade per release, from the plan: which hooks run. */
  releasePhases: Map<string, ReleasePhase>;
  signer?: string;
  settings?: SourceSettings;
  /** The set's HelmReleases; failed ones were left out of it. */
  releases: ReleaseSet;
  /** The set's secret values, masked wherever a message quotes one (an API server's "Invalid value"). */
  secrets: string[];
  /** This attempt as kept in the ledger until its decision is out (see domain/attempts.ts). */
  attempt?: AttemptRecord;
  /** The identity everything this run does to the cluster acts as (the Sync's ServiceAccount). */
  client: TenantClient;
  /** The TenancyPolicies governing the Sync's namespace. */
  policies: TenancyPolicy[];
  /** Why a reference into another namespace refuses this Sync, when one does. */
  crossNamespace?: ReconcileFailure;
  /** A status was written during the run ("waiting for"): `sync.status` is no longer the server's. */
  statusWritten?: boolean;
}

/**
 * One reconcile of one Sync, in kustomize-controller's shape: one method per phase (source,
 * build, validate, plan, apply, prune, health), each failure a typed reason (PhaseFailure), the
 * status computed by one pure function (syncStatus) and written once at the end, then the
 * decision. Time and ids come in through the Clock and the IdSource.
 */
@Injectable()
export class SyncReconciler {
  private readonly logger = new Logger('SyncReconciler');
  private readonly results: Counter<'result'>;
  private readonly duration: Histogram<'phase'>;
  /** Whole reconciles per Sync (capstan_reconcile_duration_seconds), the dashboards' per-object view. */
  private readonly reconciles: Histogram<'kind' | 'namespace' | 'name' | 'result'>;

  constructor(
    private readonly dependencies: DependencyGate,
    private readonly sources: SourceSettingsReader,
    private readonly artifacts: ArtifactCache,
    private readonly renderer: CommitRenderer,
    private readonly tenants: TenantClients,
    private readonly tenancy: TenancyPolicies,
    private readonly healthWaiter: HealthWaiter,
    private readonly drift: DriftMonitor,
    private readonly status: SyncStatusWriter,
    private readonly releaseStatus: HelmReleaseStatusWriter,
    private readonly attribution: ChangeAttribution,
    private readonly attempts: AttemptLedger,
    private readonly releaseRetries: ReleaseRetries,
    private readonly releaseDeployer: ReleaseDeployer,
    private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(ID_SOURCE) private readonly ids: IdSource,
    @Inject(RECONCILER_CONFIG) private readonly config: ReconcilerConfig,
    registry: Registry,
    private readonly ownership: SyncOwnership,
  ) {
    this.results = new Counter({
      name: 'capstan_reconcile_total',
      help: 'Sync reconciles by result',
      labelNames: ['result'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'capstan_reconcile_phase_seconds',
      help: 'Time per reconcile phase',
      labelNames: ['phase'],
      registers: [registry],
    });
    this.reconciles = capstanHistogram(registry, 'reconcileDuration');
  }

  /** `slot`, from the reconcile queue, is given back while the reconcile only waits for health. */
  async reconcile(sync: Sync, trigger: ReconcileTrigger, slot?: Slot): Promise<ReconcileOutcome> {
    // A dependency in another namespace is not even read while such references are off: the
    // source phase refuses the Sync, naming the entry, instead of waiting on someone else's Sync.
    const crossNamespace = crossNamespaceRefsRefusal(sync, this.config.ALLOW_CROSS_NAMESPACE_REFS);
    if (!crossNamespace) await this.dependencies.check(sync);
    const run: Run = {
      sync,
      trigger,
      slot,
      options: this.applyOptions(sync),
      written: [],
      hooks: [],
      releasePhases: new Map(),
      releases: ReleaseSet.empty(),
      secrets: [],
      client: this.tenants.for(syncIdentity(sync, this.config.DEFAULT_SERVICE_ACCOUNT)),
      policies: [],
      ...(crossNamespace ? { crossNamespace } : {}),
    };
    // A HelmRelease's objects are read and written as its account (known once the set is built).
    run.options.clientFor = (o) => this.clientOf(run, o).api;
    const started = this.clock.now().getTime();
    const uid = attemptKey(sync);
    const verdict = judgeAttempt(
      await this.attempts.get(uid),
      { owner: this.config.INSTANCE_NAME, revision: trigger.source.revision, sha: trigger.source.sha },
      this.clock.now(),
      parseDuration(this.config.CRASH_QUARANTINE),
    );
    await this.attempts.put(uid, verdict.record);
    if (verdict.kind === 'quarantined') {
      this.logger.warn(`${uid}: ${verdict.message}`);
      const held: ReconcileOutcome = {
        kind: 'failed',
        reason: 'Quarantined',
        message: verdict.message,
        failures: [{ message: verdict.message }],
      };
      await this.finish(run, held); // not terminal: the scheduler retries with backoff
      return held;
    }
    run.attempt = verdict.record;
    let outcome: ReconcileOutcome | undefined;
    try {
      try {
        outcome = await this.phases(run);
      } catch (e) {
        if (!(e instanceof PhaseFailure)) throw e;
        outcome = e.failure;
      }
      // Objects an interrupted attempt of this commit wrote are this commit's changes.
      if (outcome.kind === 'applied')
        outcome = { ...outcome, changeSet: creditInterrupted(outcome.changeSet, run.attempt) };
      // Status, decisions and logs are all made from the outcome: masked once, here.
      outcome = redactSecrets(outcome, run.secrets);
      await this.finish(run, outcome);
      return outcome;
    } finally {
      if (outcome)
        this.reconciles.observe(
          {
            kind: 'Sync',
            namespace: sync.metadata.namespace,
            name: sync.metadata.name,
            result: outcome.kind === 'failed' ? 'failure' : 'success',
          },
          (this.clock.now().getTime() - started) / 1000,
        );
      // Whatever happened, the process is still here: only a crash leaves the record behind.
      await this.attempts.clear(uid).catch((e: unknown) => {
        this.logger.warn(`${uid}: attempt record not cleared: ${describeError(e)}`);
      });
    }
  }

  private async phases(run: Run): Promise<ReconcileOutcome> {
    const settings = await this.source(run);
    const { objects, hooks } = await this.build(run, settings);
    await this.validate(run, objects);
    const plan = await this.plan(run, objects);
    await this.admit(run, plan, hooks);
    this.ownership.at('reconciler.planned', run.sync.metadata.namespace, run.sync.metadata.name);
    const applied = await this.apply(run, objects, plan, hooks);
    const pruned = await this.prune(run, applied);
    const health = await this.health(run, applied, hooks);
    const rollbacks = await this.deployReleases(run, objects, applied, hooks);
    const kept = keptForReleases(pruned);
    const releases = run.releases.outcomes(applied.changeSet);
    return {
      kind: 'applied',
      changeSet: applied.changeSet,
      ...(rollbacks.length > 0 ? { rollbacks } : {}),
      pruned,
      ...(run.hooks.length > 0 ? { hooks: run.hooks } : {}),
      ...(health ? { health } : {}),
      ...(releases.length > 0 ? { releases } : {}),
      ...(kept.length > 0 ? { kept } : {}),
    };
  }

  /**
   * Source: tenancy first (a sourceRef or dependsOn into another namespace, a source no TenancyPolicy allows),
   * then the GitRepository's settings, the commit's signature gate, the commit in the mirror.
   */
  private async source(run: Run): Promise<SourceSettings> {
    const { trigger } = run;
    if (run.crossNamespace) throw new PhaseFailure(run.crossNamespace);
    try {
      run.policies = await this.tenancy.governing(run.sync.metadata.namespace);
    } catch (e) {
      throw phaseFailure(
        'ArtifactFailed',
        e instanceof PoliciesNotListedError ? e.message : describeError(e),
      );
    }
    const refusedSource = policyRefusal(checkSource(run.policies, trigger.source.url));
    if (refusedSource) throw new PhaseFailure(refusedSource);
    const settings = await this.sources.forSync(run.sync);
    const verification =
      trigger.verification ??
      (settings.artifactVerification?.sha === trigger.source.sha
        ? settings.artifactVerification.verification
        : undefined);
    const gate = verificationGate(run.sync.spec, verification);
    if (!gate.ok) throw phaseFailure(gate.reason, gate.message);
    if (gate.signer) run.signer = gate.signer;
    run.settings = settings;
    await this.timed('fetch', () =>
      this.artifacts.ensure(settings.url, trigger.source.sha, settings.fetch),
    ).catch((e: unknown) => {
      throw phaseFailure('ArtifactFailed', describeError(e));
    });
    return settings;
  }

  /** Build: the Sync's path rendered at the commit (the recipe `capstan diff` shares). */
  private async build(
    run: Run,
    settings: SourceSettings,
  ): Promise<{ objects: SourcedObject[]; hooks: HookGroups }> {
    const { sync, trigger } = run;
    try {
      const rendered = await this.timed('build', () =>
        this.renderer.render({
          url: settings.url,
          sha: trigger.source.sha,
          path: sync.spec.path,
          defaultNamespace: sync.spec.targetNamespace ?? 'default',
          ...(settings.ignore ? { ignore: settings.ignore } : {}),
          // Flux v1 charts on another ref of this repository need its name and credentials.
          revision: trigger.source.revision,
          ...(settings.fetch.credentials ? { credentials: settings.fetch.credentials } : {}),
          isolateReleases: true,
          // valuesFrom is read as the HelmRelease's account, else the Sync's.
          valuesFor: (release) => this.releaseClient(run, release).values,
          allowCrossNamespaceRefs: this.config.ALLOW_CROSS_NAMESPACE_REFS,
          // A release waiting out its own backoff is not fetched again before it is due.
          deferRelease: (release) =>
            this.releaseRetries.deferral(release, release.specDigest, this.clock.now()),
        }),
      );
      run.releases = ReleaseSet.of(rendered, (r) => this.releaseRetries.failureOf(r));
      // HelmReleases too: values they mark capstan.dev/sensitive may reappear in a chart's error.
      run.secrets = secretValuesOf(
        [...rendered.objects, ...rendered.releaseObjects, ...rendered.hooks.pre, ...rendered.hooks.post].map(
          (o) => o.object,
        ),
      );
      // Opted-out objects go along so the applier reports them `skipped` and prune keeps them.
      // Helm hooks run around the apply (see apply), never as part of it.
      // The HelmRelease objects go too: each release exists in the cluster with its own status.
      return {
        objects: [...rendered.objects, ...rendered.releaseObjects, ...rendered.skipped],
        hooks: rendered.hooks,
      };
    } catch (e) {
      throw buildFailure(e);
    }
  }

  /** Validate: every kind served (or defined in the set), before anything is written. */
  private async validate(run: Run, objects: readonly SourcedObject[]): Promise<void> {
    await this.timed('validate', () => run.client.applier.validate(objects)).catch((e: unknown) => {
      throw applyFailure('validate', e);
    });
  }

  /** Plan: a server-side dry-run of the whole set; one rejection rejects the commit. */
  private async plan(run: Run, objects: readonly SourcedObject[]): Promise<PlannedChange[]> {
    const plan = await this.timed('plan', () => run.client.applier.plan(objects, run.options)).catch(
      (e: unknown) => {
        throw applyFailure('plan', e);
      },
    );
    // Kept before anything is written: if the process dies while applying, the next decision of
    // this commit still names what it created (domain/attempts.ts).
    if (run.attempt) {
      const next = withPlan(run.attempt, plan.map(plannedEntry));
      if (next.planned.length !== run.attempt.planned.length) {
        run.attempt = next;
        await this.attempts.put(attemptKey(run.sync), next);
      }
    }
    return plan;
  }

  /**
   * Admit: what the plan would write (and the Helm hooks), each where it would land, checked
   * against the TenancyPolicies of the Sync's namespace before anything is written.
   */
  private async admit(run: Run, plan: readonly PlannedChange[], hooks: HookGroups): Promise<void> {
    if (run.policies.length === 0) return;
    const hookObjects = await Promise.all(
      [...hooks.pre, ...hooks.post].map((h) => run.client.applier.resolve(h.object, run.options)),
    );
    const written = [...plan.filter((p) => p.action !== 'skipped').map((p) => p.item.object), ...hookObjects];
    const refused = policyRefusal(checkObjects(run.policies, written));
    if (refused) throw new PhaseFailure(refused);
  }

  /**
   * Apply: staged server-side apply. Helm's order: pre-install/pre-upgrade hooks run (Jobs to
   * completion) once Namespaces and CRDs exist and before the release's other objects; only a
   * release that changes runs its hooks (see releasePhases).
   */
  private async apply(
    run: Run,
    objects: readonly SourcedObject[],
    plan: readonly PlannedChange[],
    hooks: HookGroups,
  ): Promise<ApplyResult> {
    // Install, upgrade or unchanged per release: which hooks and tests run, and what rolls back.
    run.releasePhases = releasePhases(plan);
    const options: ApplyOptions = {
      ...run.options,
      onWritten: (entry) => {
        run.written.push(entry);
        if (run.written.length === 1)
          this.ownership.mark('reconciler.applying', run.sync.metadata.namespace, run.sync.metadata.name);
      },
      ...(hooks.pre.length + hooks.post.length === 0
        ? {}
        : {
            afterDefinitions: async (planned: readonly PlannedChange[]) => {
              run.releasePhases = releasePhases(planned);
              await this.runHooks(run, hooksToRun(hooks.pre, 'pre', run.releasePhases));
            },
          }),
    };
    try {
      const result = await this.timed('apply', () => run.client.applier.applyPlan(plan, options));
      this.drift.track(run.sync, objects, result.changeSet, (o) => run.releases.serviceAccountOf(o));
      return result;
    } catch (e) {
      throw applyFailure('apply', e, run.written);
    }
  }

  /** Prune: what left Git since the last inventory; never when the Sync says prune: false. */
  private async prune(run: Run, applied: ApplyResult): Promise<ChangeSetEntry[]> {
    const { sync } = run;
    if (sync.spec.prune === false) return [];
    const stale = staleObjects(sync.status?.inventory?.entries ?? [], inventoryOf(applied.changeSet));
    if (stale.length === 0) return [];
    // A release that failed to render this time is absent from the set, not removed from Git.
    const keep = run.releases.keep();
    return this.timed('prune', () =>
      run.client.pruner.prune(
        stale,
        ownerLabels(sync.metadata),
        keep,
        (live) => this.clientOf(run, live).api,
      ),
    ).catch((e: unknown) => {
      throw applyFailure('prune', e);
    });
  }

  /**
   * Health: with spec.wait (or Helm post-* hooks to run), every applied object healthy within
   * spec.timeout, then the post hooks. Waiting is not work: the queue slot is given back.
   */
  private async health(
    run: Run,
    applied: ApplyResult,
    hooks: HookGroups,
  ): Promise<HealthOutcome | undefined> {
    const { sync } = run;
    const post = hooksToRun(hooks.post, 'post', run.releasePhases);
    if (!sync.spec.wait && post.length === 0) return undefined;
    const refs = applied.changeSet
      // A HelmRelease's health is its release's, reported in its own status, never the Sync's wait.
      .filter((c) => c.action !== 'skipped' && c.action !== 'deleted' && !isHelmReleaseKind(c))
      .map((c) => ({
        apiVersion: c.apiVersion,
        kind: c.kind,
        metadata: { name: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) },
      }));
    const wait = () =>
      this.healthWaiter.waitHealthy(
        refs,
        this.timeoutMs(sync),
        (unhealthy) => {
          run.statusWritten = true;
          return this.status.write(sync, {
            kind: 'progressing',
            revision: run.trigger.source.revision,
            message: `waiting for ${describeUnhealthy({ healthy: false, timedOut: false, unhealthy: unhealthy.map(flatten) })}`,
          });
        },
        applied.observed as WatchedObject[],
        run.client.health,
      );
    let health: HealthOutcome;
    try {
      const report = await this.timed('health', () => (run.slot ? run.slot.aside(wait) : wait()));
      health = {
        healthy: report.healthy,
        timedOut: report.timedOut,
        unhealthy: report.unhealthy.map(flatten),
      };
    } catch (e) {
      throw applyFailure('health', e);
    }
    if (post.length > 0 && health.healthy)
      await this.runHooks(run, post).catch((e: unknown) => {
        throw applyFailure('hooks', e, run.written);
      });
    return health;
  }

  /** Each HelmRelease's own deploy steps (Flux v1 wait, tests, rollback): a failure is the release's. */
  private async deployReleases(
    run: Run,
    objects: readonly SourcedObject[],
    applied: ApplyResult,
    hooks: HookGroups,
  ): Promise<RollbackOutcome[]> {
    if (
      !run.releases.releases.some(
        (r) => r.options && (r.options.wait || r.options.test || r.options.rollback),
      )
    )
      return [];
    const result = await this.timed('releases', () =>
      this.releaseDeployer.deploy({
        sync: run.sync,
        source: run.trigger.source,
        settings: run.settings,
        options: run.options,
        releases: run.releases,
        objects,
        applied,
        phases: run.releasePhases,
        tests: hooks.tests ?? [],
        retrying: (release) => this.releaseRetries.failureOf(release) !== undefined,
        clientOf: (release) => this.releaseClient(run, release),
        render: {
          valuesFor: (release) => this.releaseClient(run, release).values,
          allowCrossNamespaceRefs: this.config.ALLOW_CROSS_NAMESPACE_REFS,
        },
        slot: run.slot,
      }),
    );
    run.hooks.push(...result.tests);
    return result.rollbacks;
  }

  private async runHooks(run: Run, hooks: readonly HookObject[]): Promise<void> {
    if (hooks.length === 0) return;
    run.hooks.push(
      ...(await this.timed('hooks', () =>
        run.client.hooks.run(hooks, run.options, this.timeoutMs(run.sync)),
      )),
    );
  }

  /**
   * Status once, then the decision (one per trigger; a failure that only repeats what status
   * already says gets none), then the pruned decision. A retryable failure is thrown for the
   * scheduler's backoff after its status is written.
   */
  private async finish(run: Run, outcome: ReconcileOutcome): Promise<void> {
    const { sync, trigger } = run;
    const { namespace, name } = sync.metadata;
    const revision = trigger.source.revision;
    // The status and the decision are this run's only if the Sync is still ours.
    this.ownership.at('reconciler.finishing', namespace, name);
    // `sync` was read when the run started; unless this run wrote a status since, it is current.
    await this.status.write(sync, { kind: 'finished', revision, outcome }, !run.statusWritten);
    for (const release of run.releases.releases) {
      // A release's own retry schedule; the Sync's backoff is for the Sync's own failures.
      const retry =
        outcome.kind === 'failed' && !release.failure
          ? undefined
          : this.releaseRetries.record(
              release,
              release.specDigest ?? '',
              attemptOf(release),
              this.clock.now(),
              intervalOf(sync),
            );
      if (release.releaseName)
        await this.releaseStatus.write({
          release: redactSecrets(release, run.secrets),
          releaseName: release.releaseName,
          revision,
          ...(retry ? { retry } : {}),
          ...(outcome.kind === 'failed' && !release.failure ? { syncFailure: outcome.message } : {}),
        });
    }
    if (outcome.kind === 'failed' && !isTerminal(outcome.reason))
      throw new TransientReconcileError(outcome.message);
    this.results.inc({ result: outcome.kind });
    if (repeatsFailure(sync, revision, outcome)) return;
    const unsigned: DecisionContext = {
      sync: { namespace, name, uid: sync.metadata.uid ?? `${namespace}/${name}` },
      triggerId: trigger.id,
      source: trigger.source,
      cluster: this.config.CLUSTER_NAME,
      now: this.clock.now(),
      // An image automation commit names the push it came from: the apply continues that story.
      correlationId: correlationIdFromCommit(trigger.source.message) ?? this.ids.correlationId(),
    };
    // The verified signer is this commit's; earlier commits credited below were not verified here.
    const context: DecisionContext = { ...unsigned, ...(run.signer ? { signer: run.signer } : {}) };
    this.ownership.mark('reconciler.deciding', namespace, name);
    if (outcome.kind === 'applied') {
      // Each change goes to the commit that made it; this commit's decision keeps the rest.
      const { groups, window } = await this.credited(run, outcome.changeSet);
      for (const group of groups.slice(0, -1))
        await this.bus.publish(
          decisionFor(
            {
              ...unsigned,
              ...(group.signer ? { signer: group.signer } : {}),
              source: group.source,
              triggerId: `${trigger.id}:credit:${group.source.sha}`,
              appliedWith: revision,
            },
            { kind: 'applied', changeSet: group.changeSet },
          ),
        );
      await this.bus.publish(
        decisionFor(
          { ...context, ...(window ? { attributionWindow: window } : {}) },
          { ...outcome, changeSet: groups.at(-1)?.changeSet ?? [] },
        ),
      );
    } else await this.bus.publish(decisionFor(context, outcome));
    for (const release of outcome.kind === 'applied' ? (outcome.releases ?? []) : [])
      if (release.failure && !release.failure.deferred && !repeatsReleaseFailure(sync, revision, release))
        await this.bus.publish(
          releaseFailedDecisionFor(
            unsigned,
            release,
            outcome.kind === 'applied'
              ? outcome.rollbacks?.find((r) => r.namespace === release.namespace && r.name === release.name)
                  ?.changeSet
              : undefined,
          ),
        );
    const deleted = outcome.kind === 'applied' ? deletionsOf(outcome.pruned ?? []) : [];
    if (deleted.length > 0) await this.bus.publish(prunedDecisionFor(context, deleted));
    this.logger.log(
      `${namespace}/${name} ${revision}: ${outcome.kind === 'applied' ? summarize(outcome.changeSet) : outcome.message}`,
    );
  }

  private async credited(run: Run, changeSet: ChangeSetEntry[]): Promise<Attribution> {
    const { settings } = run;
    if (!settings) return { groups: [{ source: run.trigger.source, changeSet }] };
    return this.timed('attribute', () =>
      this.attribution.credit(run.sync, run.trigger.source, settings, changeSet),
    );
  }

  /** The client a HelmRelease acts as: its spec.serviceAccountName, else the Sync's. */
  private releaseClient(
    run: Run,
    release: { namespace: string; serviceAccountName?: string | undefined },
  ): TenantClient {
    return release.serviceAccountName
      ? this.tenants.for({ namespace: release.namespace, name: release.serviceAccountName })
      : run.client;
  }

  /** The client an object acts as: its HelmRelease's account when it names one, else the Sync's. */
  private clientOf(run: Run, object: KubeObject): TenantClient {
    const account = run.releases.serviceAccountOf(object);
    return account ? this.tenants.for(account) : run.client;
  }

  private applyOptions(sync: Sync): ApplyOptions {
    return {
      fieldManager: this.config.FIELD_MANAGER,
      defaultNamespace: sync.spec.targetNamespace ?? 'default',
      ...(sync.spec.targetNamespace ? { targetNamespace: sync.spec.targetNamespace } : {}),
      force: sync.spec.force === true,
      labels: ownerLabels(sync.metadata),
    };
  }

  /** When the first of this Sync's failing releases is due again (ms since the epoch), if any. */
  nextReleaseAttempt(outcome: ReconcileOutcome): number | undefined {
    return outcome.kind === 'applied' ? this.releaseRetries.earliest(outcome.releases ?? []) : undefined;
  }

  private timeoutMs(sync: Sync): number {
    return parseDuration(sync.spec.timeout ?? DEFAULT_TIMEOUT);
  }

  private async timed<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const stop = this.duration.startTimer({ phase });
    try {
      return await fn();
    } finally {
      stop();
    }
  }
}

function attemptKey(sync: Sync): string {
  return sync.metadata.uid ?? `${sync.metadata.namespace}/${sync.metadata.name}`;
}

/** A plan line as the change set will name it (a recreate is a create). */
function plannedEntry(p: PlannedChange): ChangeSetEntry {
  const { object } = p.item;
  const action =
    p.action === 'deferred' || p.action === 'recreated'
      ? 'created'
      : p.action === 'skipped'
        ? 'skipped'
        : p.action;
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: object.metadata.namespace ?? '',
    name: object.metadata.name,
    action,
  };
}

/** What this reconcile did with a release, for its own retry schedule. */
function attemptOf(release: ReleaseOutcome): ReleaseAttempt {
  const { failure } = release;
  if (!failure) return { kind: 'deployed' };
  if (failure.deferred) return { kind: 'deferred' };
  const rollback = release.options?.rollback;
  if (failure.rolledBackTo !== undefined)
    return { kind: 'rolled-back', failure, ...(rollback?.retry ? { retries: rollback.maxRetries } : {}) };
  return { kind: 'failed', failure };
}

function intervalOf(sync: Sync): number {
  try {
    return parseDuration(sync.spec.interval ?? '5m');
  } catch {
    return 300_000;
  }
}

function flatten(u: { object: string; health: { status: string; message: string } }) {
  return { object: u.object, status: u.health.status, message: u.health.message };
}
