import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { randomUUID } from 'node:crypto';
import type { ChangeSetEntry, CommitVerification, GitSource } from '@capstan/events';
import { Bus } from '@capstan/messaging';
import { CLOCK, type Clock } from '@capstan/platform';
import { GitContentError, GitMirror } from '@capstan/git';
import {
  ApplyRejectedError,
  CapstanResources,
  ServerSideApplier,
  type ApplyOptions,
  type Sync,
} from '@capstan/kube';
import {
  ManifestError,
  describeObject,
  parseDuration,
  readyConditions,
  reconcilingConditions,
  type SourcedObject,
  type WatchedObject,
} from '@capstan/gitops-core';
import { RenderError, type HookGroups } from '@capstan/render';
import { RECONCILER_CONFIG, type ReconcilerConfig } from './config.js';
import { SyncBuilder } from './build/sync-builder.js';
import { DriftMonitor } from './drift/drift-monitor.js';
import { decisionFor, prunedDecisionFor } from './domain/decision.js';
import {
  deletionsOf,
  describeUnhealthy,
  isTerminal,
  summarize,
  type ReconcileOutcome,
} from './domain/outcome.js';
import { SyncLifecycle } from './sync-lifecycle.js';
import { ownerLabels } from './domain/ownership.js';
import { SourceSettingsReader, type SourceSettings } from './source-settings.js';
import { verificationGate } from './domain/verification.js';
import type { Slot } from './keyed-queue.js';
import { HookFailedError, HookRunner } from './hooks/hook-runner.js';
import { hooksToRun, releasePhases, type ReleasePhase } from './hooks/hook-selection.js';
import { DEFAULT_TIMEOUT } from './sync-lifecycle.js';

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

/**
 * One reconcile of one Sync, phase by phase: fetch, build, apply, then status and the decision.
 * Each failing phase records a reason; status is written once at the end.
 */
@Injectable()
export class SyncReconciler {
  private readonly logger = new Logger('SyncReconciler');
  private readonly results: Counter<'result'>;
  private readonly duration: Histogram<'phase'>;

  constructor(
    private readonly mirror: GitMirror,
    private readonly builder: SyncBuilder,
    private readonly applier: ServerSideApplier,
    private readonly resources: CapstanResources,
    private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RECONCILER_CONFIG) private readonly config: ReconcilerConfig,
    registry: Registry,
    private readonly drift: DriftMonitor,
    private readonly lifecycle: SyncLifecycle,
    private readonly sources: SourceSettingsReader,
    private readonly hooks: HookRunner,
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
  }

  /** `slot`, from the reconcile queue, is given back while the reconcile only waits for health. */
  async reconcile(sync: Sync, trigger: ReconcileTrigger, slot?: Slot): Promise<ReconcileOutcome> {
    const { namespace, name } = sync.metadata;
    const revision = trigger.source.revision;
    const generation = sync.metadata.generation;
    // dependsOn: nothing is applied before every dependency is Ready at its latest revision.
    await this.lifecycle.checkDependencies(sync);
    await this.resources.patchStatus('Sync', namespace, name, {
      lastAttemptedRevision: revision,
      conditions: reconcilingConditions(
        sync.status?.conditions ?? [],
        `reconciling revision ${revision}`,
        this.clock.now(),
        generation,
      ),
    });

    const settings = await this.sources.forSync(sync);
    const verification =
      trigger.verification ??
      (settings.artifactVerification?.sha === trigger.source.sha
        ? settings.artifactVerification.verification
        : undefined);
    const gate = verificationGate(sync.spec, verification);
    const outcome: ReconcileOutcome = gate.ok
      ? await this.phases(sync, trigger, settings, slot)
      : { kind: 'failed', reason: gate.reason, message: gate.message, failures: [{ message: gate.message }] };
    if (outcome.kind === 'failed' && !isTerminal(outcome.reason)) {
      await this.finalizeStatus(sync, trigger, outcome);
      throw new TransientReconcileError(outcome.message);
    }
    await this.finalizeStatus(sync, trigger, outcome);
    const context = {
      sync: { namespace, name, uid: sync.metadata.uid ?? `${namespace}/${name}` },
      triggerId: trigger.id,
      source: trigger.source,
      cluster: this.config.CLUSTER_NAME,
      now: this.clock.now(),
      correlationId: randomUUID(),
      ...(gate.ok && gate.signer ? { signer: gate.signer } : {}),
    };
    const decision = decisionFor(context, outcome);
    await this.bus.publish(decision);
    const deleted = outcome.kind === 'applied' ? deletionsOf(outcome.pruned ?? []) : [];
    if (deleted.length > 0) await this.bus.publish(prunedDecisionFor(context, deleted));
    this.results.inc({ result: outcome.kind });
    this.logger.log(
      `${namespace}/${name} ${revision}: ${outcome.kind === 'applied' ? summarize(outcome.changeSet) : outcome.message}`,
    );
    return outcome;
  }

  private async phases(
    sync: Sync,
    trigger: ReconcileTrigger,
    settings: SourceSettings,
    slot: Slot | undefined,
  ): Promise<ReconcileOutcome> {
    const { url, sha } = trigger.source;
    try {
      await this.timed('fetch', () => this.lifecycle.fetch(url, sha, settings.fetch));
    } catch (e) {
      return {
        kind: 'failed',
        reason: 'ArtifactFailed',
        message: messageOf(e),
        failures: [{ message: messageOf(e) }],
      };
    }
    let objects: SourcedObject[];
    let hooks: HookGroups;
    try {
      ({ objects, hooks } = await this.timed('build', async () => {
        const rendered = await this.builder.build({
          url,
          sha,
          path: sync.spec.path,
          defaultNamespace: sync.spec.targetNamespace ?? 'default',
          ...(settings.ignore ? { ignore: settings.ignore } : {}),
          // Flux v1 charts on another ref of this repository need its name and credentials.
          revision: trigger.source.revision,
          ...(settings.fetch.credentials ? { credentials: settings.fetch.credentials } : {}),
        });
        // Opted-out objects go along so the applier reports them `skipped` and prune keeps them.
        // Helm hooks run around the apply (see applyWithHooks), never as part of it.
        return { objects: [...rendered.objects, ...rendered.skipped], hooks: rendered.hooks };
      }));
    } catch (e) {
      // Bad content in the commit: each error names the file (and document where there is one).
      if (e instanceof RenderError || e instanceof ManifestError || e instanceof GitContentError) {
        const document = e instanceof GitContentError ? undefined : e.document;
        return {
          kind: 'failed',
          reason: 'BuildFailed',
          message: e.message,
          failures: [{ file: e.file, ...(document === undefined ? {} : { document }), message: e.detail }],
        };
      }
      return {
        kind: 'failed',
        reason: 'ArtifactFailed',
        message: messageOf(e),
        failures: [{ message: messageOf(e) }],
      };
    }
    const options: ApplyOptions = {
      fieldManager: this.config.FIELD_MANAGER,
      defaultNamespace: sync.spec.targetNamespace ?? 'default',
      ...(sync.spec.targetNamespace ? { targetNamespace: sync.spec.targetNamespace } : {}),
      force: sync.spec.force === true,
      labels: ownerLabels(sync.metadata),
    };
    try {
      // Helm's order: pre-install/pre-upgrade hooks run (Jobs to completion) once Namespaces and
      // CRDs exist and before the release's other objects; post-* hooks once those are healthy.
      // Only a release that changes runs its hooks (see releasePhases).
      const timeout = parseDuration(sync.spec.timeout ?? DEFAULT_TIMEOUT);
      const ran: ChangeSetEntry[] = [];
      let phases = new Map<string, ReleasePhase>();
      const withHooks: ApplyOptions =
        hooks.pre.length + hooks.post.length === 0
          ? options
          : {
              ...options,
              afterDefinitions: async (planned) => {
                phases = releasePhases(planned);
                const pre = hooksToRun(hooks.pre, 'pre', phases);
                ran.push(...(await this.timed('hooks', () => this.hooks.run(pre, options, timeout))));
              },
            };
      const result = await this.timed('apply', () => this.applier.apply(objects, withHooks));
      this.drift.track(sync, objects, result.changeSet);
      const pruned = await this.timed('prune', () =>
        this.lifecycle.prune(sync, this.lifecycle.inventoryOf(result.changeSet)),
      );
      const post = hooksToRun(hooks.post, 'post', phases);
      const health = await this.timed('health', () =>
        this.lifecycle.waitHealthy(sync, result.changeSet, slot, {
          always: post.length > 0,
          observed: result.observed as WatchedObject[],
        }),
      );
      if (post.length > 0 && health?.healthy)
        ran.push(...(await this.timed('hooks', () => this.hooks.run(post, options, timeout))));
      return {
        kind: 'applied',
        changeSet: result.changeSet,
        pruned,
        ...(ran.length > 0 ? { hooks: ran } : {}),
        ...(health ? { health } : {}),
      };
    } catch (e) {
      if (e instanceof HookFailedError) {
        return {
          kind: 'failed',
          reason: 'HookFailed',
          message: e.message,
          failures: [
            {
              object: describeObject(e.hook.object),
              file: e.hook.origin.file,
              document: e.hook.origin.document,
              message: e.detail,
            },
          ],
        };
      }
      if (e instanceof ApplyRejectedError) {
        return {
          kind: 'failed',
          reason: 'ApplyFailed',
          message: e.message,
          failures: e.failures.map((f) => ({
            object: f.object,
            ...(f.origin ? { file: f.origin.file, document: f.origin.document } : {}),
            message: f.message,
          })),
        };
      }
      // Connection errors to the API server are worth a retry, not a verdict on the commit.
      return {
        kind: 'failed',
        reason: 'ArtifactFailed',
        message: `apply: ${messageOf(e)}`,
        failures: [{ message: messageOf(e) }],
      };
    }
  }

  private async finalizeStatus(
    sync: Sync,
    trigger: ReconcileTrigger,
    outcome: ReconcileOutcome,
  ): Promise<void> {
    const now = this.clock.now();
    const generation = sync.metadata.generation;
    const ok = outcome.kind === 'applied';
    const health = outcome.kind === 'applied' ? outcome.health : undefined;
    const healthy = ok && (health?.healthy ?? true);
    const conditions = readyConditions(
      sync.status?.conditions ?? [],
      health && !health.healthy
        ? {
            ready: false,
            reason: 'HealthCheckFailed',
            message: `${health.timedOut ? 'timed out waiting for' : 'unhealthy'}: ${describeUnhealthy(health)}`,
            // Waiting longer cannot help within this revision; the next interval checks again.
            stalled: true,
            ...(generation === undefined ? {} : { generation }),
          }
        : ok
          ? {
              ready: true,
              reason: 'ReconciliationSucceeded',
              message: `Applied revision: ${trigger.source.revision}`,
              stalled: false,
              ...(generation === undefined ? {} : { generation }),
            }
          : {
              ready: false,
              reason: outcome.reason,
              message: outcome.message,
              stalled: isTerminal(outcome.reason),
              ...(generation === undefined ? {} : { generation }),
            },
      now,
    );
    await this.resources.patchStatus('Sync', sync.metadata.namespace, sync.metadata.name, {
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      lastAttemptedRevision: trigger.source.revision,
      conditions,
      ...this.lifecycle.handled(sync),
      ...(healthy ? { lastAppliedRevision: trigger.source.revision } : {}),
      // Opted-out objects (fluxcd.io/ignore, capstan.dev/reconcile: disabled) are not Capstan's:
      // they stay out of the inventory, so they are never pruned later either. Prune itself still
      // sees them in the current set, so marking an object ignored never deletes it.
      ...(ok
        ? {
            inventory: {
              entries: this.lifecycle.inventoryOf(outcome.changeSet.filter((c) => c.action !== 'skipped')),
            },
          }
        : {}),
    });
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

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
