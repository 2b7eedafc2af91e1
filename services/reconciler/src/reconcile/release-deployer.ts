import { Injectable, Logger } from '@nestjs/common';
import type { ChangeSetEntry, GitSource } from '@capstan/events';
import { parseRevision, type SourcedObject, type WatchedObject } from '@capstan/gitops-core';
import { type ObjectApi, isNotFound, type ApplyOptions, type ApplyResult, type Sync } from '@capstan/kube';
import {
  CommitRenderer,
  type CommitRenderRequest,
  HELMRELEASE_NAME_LABEL,
  HELMRELEASE_NAMESPACE_LABEL,
  type HookObject,
} from '@capstan/render';
import { describeError } from '@capstan/messaging';
import { HealthWaiter } from '../cluster/health-waiter.js';
import { DriftMonitor } from '../drift/drift-monitor.js';
import {
  describeUnhealthy,
  type ReleaseFailure,
  type ReleaseOutcome,
  type RollbackOutcome,
} from '../domain/outcome.js';
import type { SourceSettings } from '../sources/source-settings.js';
import type { Slot } from '../scheduling/keyed-queue.js';
import { HookFailedError } from './hooks/hook-runner.js';
import type { TenantClient } from '../cluster/tenant-clients.js';
import type { ReleasePhase } from './hooks/hook-selection.js';
import type { ReleaseSet } from './release-set.js';

/** What one reconcile applied, for the releases' own deploy steps. */
export interface ReleaseDeployment {
  sync: Sync;
  source: GitSource;
  settings: SourceSettings | undefined;
  options: ApplyOptions;
  releases: ReleaseSet;
  /** The set as rendered, for the drift monitor once a rollback replaced a release's objects. */
  objects: readonly SourcedObject[];
  applied: ApplyResult;
  /** Install, upgrade or unchanged, per release (`file#document`), from the plan. */
  phases: ReadonlyMap<string, ReleasePhase>;
  /** The `helm test` hooks of releases that enable tests. */
  tests: readonly HookObject[];
  /**
   * The identity a release acts as (its spec.serviceAccountName, else the Sync's): its waits,
   * tests, rollback writes and reads go through it, as its apply did.
   */
  clientOf: (release: ReleaseOutcome) => TenantClient;
  /** How the Sync's render reads valuesFrom and cross-namespace refs: a rollback renders the same way. */
  render: Pick<CommitRenderRequest, 'valuesFor' | 'allowCrossNamespaceRefs'>;
  /**
   * Whether a release is retrying an earlier failure of this spec: Helm Operator upgraded a
   * failed release again, so it is waited on and tested again even when nothing changed.
   */
  retrying: (release: ReleaseOutcome) => boolean;
  slot: Slot | undefined;
}

/** A release rolled back: what is now applied for it, and what the rollback wrote. */
interface RolledBack {
  release: ReleaseOutcome;
  objects: SourcedObject[];
  changeSet: ChangeSetEntry[];
}

export interface ReleaseDeployResult {
  /** Test Pods run, in order (the Sync's decision lists them with its hooks). */
  tests: ChangeSetEntry[];
  rollbacks: RollbackOutcome[];
}

/**
 * The deploy steps Helm Operator ran per release after `helm upgrade`, on Capstan's applied
 * objects: `wait` (healthy within `timeout`), `test.enable` (the chart's test Pods, after an
 * install or upgrade), and `rollback.enable` (a failed upgrade re-applies the release as it was
 * rendered at the revision it last deployed at, deletes what the upgrade added, and waits with
 * rollback.wait/timeout). A failure is the release's (ReleaseFailure on its outcome), never the
 * Sync's: the rest of the set stays applied.
 */
@Injectable()
export class ReleaseDeployer {
  private readonly logger = new Logger('ReleaseDeployer');

  constructor(
    private readonly health: HealthWaiter,
    private readonly renderer: CommitRenderer,
    private readonly drift: DriftMonitor,
  ) {}

  async deploy(d: ReleaseDeployment): Promise<ReleaseDeployResult> {
    const result: { tests: ChangeSetEntry[]; rolledBack: RolledBack[] } = { tests: [], rolledBack: [] };
    for (const release of d.releases.releases) {
      const options = release.options;
      if (release.failure || !options) continue;
      const planned = d.phases.get(`${release.file}#${release.document}`) ?? 'unchanged';
      const phase = planned === 'unchanged' && d.retrying(release) ? 'upgrade' : planned;
      let failure = options.wait ? await this.waitFor(d, release, options.timeoutMs) : undefined;
      if (!failure && options.test && phase !== 'unchanged') {
        const tests = d.tests.filter((h) => h.hook.release === release.releaseName);
        try {
          result.tests.push(...(await this.runTests(d, release, tests, options.test)));
        } catch (e) {
          if (!(e instanceof HookFailedError)) throw e;
          if (!options.test.ignoreFailures)
            failure = { message: `test failed: ${e.message}`, terminal: false, stage: 'test' };
          else this.logger.warn(`${release.namespace}/${release.name}: ${e.message} (test.ignoreFailures)`);
        }
      }
      if (!failure) continue;
      // Helm rolls back upgrades only: a failed install has nothing to go back to.
      if (options.rollback && phase === 'upgrade') {
        // The drift monitor lets go of the release's objects before the rollback touches them: it
        // would otherwise see the upgrade's additions deleted and "correct" them back into being.
        // followRollbacks below hands it the rolled-back objects once they are written.
        this.followRollbacks(d, [...result.rolledBack, { release, objects: [], changeSet: [] }]);
        const rolled = await this.rollback(d, release, options.rollback).catch((e: unknown) =>
          describeError(e),
        );
        if (typeof rolled === 'string') failure = { ...failure, terminal: true, rollbackFailure: rolled };
        else {
          failure = { ...failure, terminal: true, rolledBackTo: rolled.revision };
          result.rolledBack.push({ release, objects: rolled.objects, changeSet: rolled.changeSet });
        }
      }
      d.releases.fail(release, withRollback(failure));
    }
    if (result.rolledBack.length > 0) this.followRollbacks(d, result.rolledBack);
    return {
      tests: result.tests,
      rollbacks: result.rolledBack.map((r) => ({
        namespace: r.release.namespace,
        name: r.release.name,
        changeSet: r.changeSet,
      })),
    };
  }

  /**
   * A rollback changed what is live: the drift monitor follows the rolled-back objects instead of
   * the ones Git asked for, or it would "correct" them back to the failed upgrade.
   */
  private followRollbacks(d: ReleaseDeployment, rolledBack: readonly RolledBack[]): void {
    const replaced = new Set(rolledBack.map((r) => `${r.release.namespace}/${r.release.name}`));
    const labels = (o: { metadata: { labels?: Record<string, string> } }) =>
      `${o.metadata.labels?.[HELMRELEASE_NAMESPACE_LABEL] ?? ''}/${o.metadata.labels?.[HELMRELEASE_NAME_LABEL] ?? ''}`;
    const ofRolledBack = (c: ChangeSetEntry) =>
      rolledBack.some((r) => d.releases.entriesOf(r.release, [c]).length > 0);
    this.drift.track(
      d.sync,
      [...d.objects.filter((o) => !replaced.has(labels(o.object))), ...rolledBack.flatMap((r) => r.objects)],
      [...d.applied.changeSet.filter((c) => !ofRolledBack(c)), ...rolledBack.flatMap((r) => r.changeSet)],
    );
  }

  private async waitFor(
    d: ReleaseDeployment,
    release: ReleaseOutcome,
    timeoutMs: number,
    refs = refsOf(d.releases.entriesOf(release, d.applied.changeSet)),
  ): Promise<ReleaseFailure | undefined> {
    const wait = () =>
      this.health.waitHealthy(
        refs,
        timeoutMs,
        undefined,
        d.applied.observed as WatchedObject[],
        d.clientOf(release).health,
      );
    const report = await (d.slot ? d.slot.aside(wait) : wait());
    if (report.healthy) return undefined;
    const unhealthy = report.unhealthy.map((u) => ({
      object: u.object,
      status: u.health.status,
      message: u.health.message,
    }));
    return {
      message: `${report.timedOut ? `not ready within ${timeoutMs / 1000} s (spec.timeout)` : 'failed'}: ${describeUnhealthy({ healthy: false, timedOut: report.timedOut, unhealthy })}`,
      terminal: false,
      stage: 'wait',
    };
  }

  /** Test Pods one after another; `cleanup` deletes each once it finished, as Helm Operator did. */
  private runTests(
    d: ReleaseDeployment,
    release: ReleaseOutcome,
    tests: readonly HookObject[],
    test: NonNullable<ReleaseOutcome['options']>['test'] & object,
  ): Promise<ChangeSetEntry[]> {
    const run = tests.map((h) => ({
      ...h,
      hook: {
        ...h.hook,
        deletePolicies: test.cleanup
          ? [...new Set([...h.hook.deletePolicies, 'hook-succeeded' as const, 'hook-failed' as const])]
          : h.hook.deletePolicies,
      },
    }));
    const go = () => d.clientOf(release).hooks.run(run, d.options, test.timeoutMs);
    return d.slot ? d.slot.aside(go) : go();
  }

  /**
   * The release as rendered at the revision it last deployed at (its status says which), applied
   * again; objects this upgrade created that it did not have are deleted. Returns why not when
   * there is nothing to go back to or the rollback itself fails.
   */
  private async rollback(
    d: ReleaseDeployment,
    release: ReleaseOutcome,
    rollback: NonNullable<NonNullable<ReleaseOutcome['options']>['rollback']>,
  ): Promise<{ revision: string; objects: SourcedObject[]; changeSet: ChangeSetEntry[] } | string> {
    const client = d.clientOf(release);
    const live = await client.api
      .read<{
        apiVersion: string;
        kind: string;
        metadata: { name: string };
        status?: { lastDeployedRevision?: string };
      }>({
        apiVersion: release.apiVersion,
        kind: 'HelmRelease',
        metadata: { namespace: release.namespace, name: release.name },
      })
      .catch(() => undefined);
    const revision = live?.status?.lastDeployedRevision;
    const sha = parseRevision(revision ?? '')?.sha;
    if (!revision || !sha) return 'nothing to roll back to: the release never deployed';
    const rendered = await this.renderer.render({
      url: d.source.url,
      sha,
      path: d.sync.spec.path,
      defaultNamespace: d.sync.spec.targetNamespace ?? 'default',
      ...(d.settings?.ignore ? { ignore: d.settings.ignore } : {}),
      revision,
      ...(d.settings?.fetch.credentials ? { credentials: d.settings.fetch.credentials } : {}),
      isolateReleases: true,
      ...d.render,
    });
    const then = rendered.releases.find((r) => r.namespace === release.namespace && r.name === release.name);
    if (!then || then.failure)
      return `the release at ${revision} does not render${then?.failure ? `: ${then.failure.message}` : ''}`;
    const objects = rendered.objects.filter(
      (o) =>
        o.object.metadata.labels?.[HELMRELEASE_NAME_LABEL] === release.name &&
        o.object.metadata.labels[HELMRELEASE_NAMESPACE_LABEL] === release.namespace,
    );
    const applied = await client.applier.apply(objects, d.options);
    const kept = new Set(applied.changeSet.map(entryKey));
    const deleted: ChangeSetEntry[] = [];
    // Everything the upgrade's render holds that the deployed revision's does not, as Helm
    // compares manifests: not only what this attempt created, since an earlier attempt at the
    // same commit (interrupted, or retried after a transient error) may have created it.
    for (const added of d.releases.entriesOf(release, d.applied.changeSet)) {
      if (!LIVE_ACTIONS.has(added.action) || kept.has(entryKey(added))) continue;
      try {
        await client.api.delete(
          {
            apiVersion: added.apiVersion,
            kind: added.kind,
            metadata: { name: added.name, namespace: added.namespace },
          },
          undefined,
          undefined,
          undefined,
          undefined,
          'Background',
        );
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      deleted.push({
        ...added,
        action: 'deleted',
        message: `rollback of HelmRelease ${release.namespace}/${release.name}`,
      });
    }
    if (rollback.recreate) await this.recreatePods(client.api, applied);
    if (rollback.wait) {
      const failure = await this.waitFor(
        { ...d, applied },
        release,
        rollback.timeoutMs,
        refsOf(applied.changeSet),
      );
      if (failure)
        return `rolled back to ${revision}, but ${failure.message.replace('spec.timeout', 'spec.rollback.timeout')}`;
    }
    return {
      revision,
      objects,
      changeSet: [...applied.changeSet.filter((c) => c.action !== 'unchanged'), ...deleted],
    };
  }

  /** rollback.recreate (Helm's --recreate-pods): the Pods of rolled-back workloads start afresh. */
  private async recreatePods(api: ObjectApi, applied: ApplyResult): Promise<void> {
    for (const o of applied.applied) {
      if (!['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind)) continue;
      const labels = (o['spec'] as { selector?: { matchLabels?: Record<string, string> } } | undefined)
        ?.selector?.matchLabels;
      if (!labels || !o.metadata.namespace) continue;
      const selector = Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      // (pretty, exact, export, fieldSelector, then labelSelector)
      const pods = await api.list(
        'v1',
        'Pod',
        o.metadata.namespace,
        undefined,
        undefined,
        undefined,
        undefined,
        selector,
      );
      // Items of a list carry no kind or apiVersion, which delete needs.
      for (const pod of pods.items)
        await api
          .delete(
            {
              apiVersion: 'v1',
              kind: 'Pod',
              metadata: { name: pod.metadata?.name, namespace: o.metadata.namespace },
            },
            undefined,
            undefined,
            undefined,
            undefined,
            'Background',
          )
          .catch((e: unknown) => {
            if (!isNotFound(e)) throw e;
          });
    }
  }
}

/** Change-set actions after which the object exists in the cluster as the upgrade rendered it. */
const LIVE_ACTIONS: ReadonlySet<string> = new Set(['created', 'configured', 'unchanged']);

/** The failure's message says what the rollback did, so status and decision carry it. */
function withRollback(failure: ReleaseFailure): ReleaseFailure {
  if (failure.rolledBackTo)
    return { ...failure, message: `${failure.message}; rolled back to ${failure.rolledBackTo}` };
  if (failure.rollbackFailure)
    return { ...failure, message: `${failure.message}; rollback failed: ${failure.rollbackFailure}` };
  return failure;
}

function refsOf(entries: readonly ChangeSetEntry[]) {
  return entries
    .filter((c) => c.action !== 'skipped' && c.action !== 'deleted')
    .map((c) => ({
      apiVersion: c.apiVersion,
      kind: c.kind,
      metadata: { name: c.name, ...(c.namespace ? { namespace: c.namespace } : {}) },
    }));
}

function entryKey(c: Pick<ChangeSetEntry, 'apiVersion' | 'kind' | 'namespace' | 'name'>): string {
  return `${c.apiVersion}/${c.kind}/${c.namespace}/${c.name}`;
}
