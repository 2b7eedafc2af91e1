import { Inject, Injectable, Logger } from '@nestjs/common';
import { Counter, Histogram, Registry } from 'prom-client';
import { randomUUID } from 'node:crypto';
import type { GitSource } from '@capstan/events';
import { Bus } from '@capstan/messaging';
import { CLOCK, type Clock } from '@capstan/platform';
import { GitContentError, GitMirror } from '@capstan/git';
import { ApplyRejectedError, CapstanResources, ServerSideApplier, type Sync } from '@capstan/kube';
import {
  ManifestError,
  assertUnique,
  inventoryId,
  isManifestPath,
  parseManifests,
  readyConditions,
  reconcilingConditions,
  type SourcedObject,
} from '@capstan/gitops-core';
import { RECONCILER_CONFIG, type ReconcilerConfig } from './config.js';
import { decisionFor } from './domain/decision.js';
import { isTerminal, summarize, type ReconcileOutcome } from './domain/outcome.js';

export const SYNC_NAME_LABEL = 'capstan.dev/sync-name';
export const SYNC_NAMESPACE_LABEL = 'capstan.dev/sync-namespace';

export interface ReconcileTrigger {
  /** Stable id of the cause (commit event id, spec generation): one decision per trigger. */
  id: string;
  source: GitSource;
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
    private readonly applier: ServerSideApplier,
    private readonly resources: CapstanResources,
    private readonly bus: Bus,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(RECONCILER_CONFIG) private readonly config: ReconcilerConfig,
    registry: Registry,
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

  async reconcile(sync: Sync, trigger: ReconcileTrigger): Promise<ReconcileOutcome> {
    const { namespace, name } = sync.metadata;
    const revision = trigger.source.revision;
    const generation = sync.metadata.generation;
    await this.resources.patchStatus('Sync', namespace, name, {
      lastAttemptedRevision: revision,
      conditions: reconcilingConditions(
        sync.status?.conditions ?? [],
        `reconciling revision ${revision}`,
        this.clock.now(),
        generation,
      ),
    });

    const outcome = await this.phases(sync, trigger);
    if (outcome.kind === 'failed' && !isTerminal(outcome.reason)) {
      await this.finalizeStatus(sync, trigger, outcome);
      throw new TransientReconcileError(outcome.message);
    }
    await this.finalizeStatus(sync, trigger, outcome);
    const decision = decisionFor(
      {
        sync: { namespace, name, uid: sync.metadata.uid ?? `${namespace}/${name}` },
        triggerId: trigger.id,
        source: trigger.source,
        cluster: this.config.CLUSTER_NAME,
        now: this.clock.now(),
        correlationId: randomUUID(),
      },
      outcome,
    );
    await this.bus.publish(decision);
    this.results.inc({ result: outcome.kind });
    this.logger.log(
      `${namespace}/${name} ${revision}: ${outcome.kind === 'applied' ? summarize(outcome.changeSet) : outcome.message}`,
    );
    return outcome;
  }

  private async phases(sync: Sync, trigger: ReconcileTrigger): Promise<ReconcileOutcome> {
    const { url, sha } = trigger.source;
    try {
      await this.timed('fetch', () => this.mirror.fetch(url));
    } catch (e) {
      return {
        kind: 'failed',
        reason: 'ArtifactFailed',
        message: messageOf(e),
        failures: [{ message: messageOf(e) }],
      };
    }
    let objects: SourcedObject[];
    try {
      objects = await this.timed('build', async () => {
        const files = await this.mirror.readTree(url, sha, sync.spec.path, isManifestPath);
        const parsed = parseManifests(files);
        assertUnique(parsed, inventoryId);
        return parsed;
      });
    } catch (e) {
      if (e instanceof ManifestError) {
        return {
          kind: 'failed',
          reason: 'BuildFailed',
          message: e.message,
          failures: [
            {
              file: e.file,
              ...(e.document === undefined ? {} : { document: e.document }),
              message: e.detail,
            },
          ],
        };
      }
      if (e instanceof GitContentError)
        return {
          kind: 'failed',
          reason: 'BuildFailed',
          message: e.message,
          failures: [{ file: e.file, message: e.detail }],
        };
      return {
        kind: 'failed',
        reason: 'ArtifactFailed',
        message: messageOf(e),
        failures: [{ message: messageOf(e) }],
      };
    }
    try {
      const result = await this.timed('apply', () =>
        this.applier.apply(objects, {
          fieldManager: this.config.FIELD_MANAGER,
          defaultNamespace: sync.spec.targetNamespace ?? 'default',
          labels: { [SYNC_NAME_LABEL]: sync.metadata.name, [SYNC_NAMESPACE_LABEL]: sync.metadata.namespace },
        }),
      );
      return { kind: 'applied', changeSet: result.changeSet };
    } catch (e) {
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
    const conditions = readyConditions(
      sync.status?.conditions ?? [],
      ok
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
      ...(ok
        ? {
            lastAppliedRevision: trigger.source.revision,
            inventory: {
              entries: outcome.changeSet.map((c) => ({
                id: inventoryId({
                  apiVersion: c.apiVersion,
                  kind: c.kind,
                  metadata: { name: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) },
                }),
                v: c.apiVersion.includes('/') ? (c.apiVersion.split('/')[1] ?? c.apiVersion) : c.apiVersion,
              })),
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
