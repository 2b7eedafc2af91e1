import type { ChangeSetEntry } from '@capstan/events';
import { describeObject, type KubeObject } from '@capstan/gitops-core';
import {
  ApplyRejectedError,
  type HealthChecker,
  type ObjectApi,
  type ServerSideApplier,
  isNotFound,
  type ApplyOptions,
} from '@capstan/kube';
import type { HookObject } from '@capstan/render';
import type { Clock } from '@capstan/platform';

/** A hook Job (or Pod) failed or did not finish in time: Helm fails the release, so do we. */
export class HookFailedError extends Error {
  override readonly name = 'HookFailedError';
  constructor(
    readonly hook: HookObject,
    readonly detail: string,
  ) {
    // A test hook runs on no install/upgrade event: it is `helm test`'s.
    super(`helm hook ${describeObject(hook.object)} (${hook.hook.events.join(',') || 'test'}): ${detail}`);
  }
}

/** Kinds Helm waits on: their hooks must finish before the next one starts. */
const WAITED = new Set(['Job', 'Pod']);
const GONE_TIMEOUT_MS = 60_000;

/**
 * Runs Helm hooks the way `helm install/upgrade` does: one after another in weight order, each
 * Job or Pod waited on until it completes, delete policies honoured (before-hook-creation by
 * default, so a hook runs afresh each time). Hooks are applied like any object (server-side
 * apply, Capstan's labels) but stay out of the Sync's inventory: Helm never prunes them either.
 */
export class HookRunner {
  constructor(
    private readonly api: ObjectApi,
    private readonly applier: ServerSideApplier,
    private readonly health: HealthChecker,
    private readonly clock: Clock,
  ) {}

  /** Change set entries of the hooks run; throws HookFailedError at the first that fails. */
  async run(
    hooks: readonly HookObject[],
    options: ApplyOptions,
    timeoutMs: number,
  ): Promise<ChangeSetEntry[]> {
    const entries: ChangeSetEntry[] = [];
    for (const hook of hooks) entries.push(await this.runOne(hook, options, timeoutMs));
    return entries;
  }

  private async runOne(hook: HookObject, options: ApplyOptions, timeoutMs: number): Promise<ChangeSetEntry> {
    const object = await this.applier.resolve(hook.object, options);
    const policies = hook.hook.deletePolicies;
    if (policies.includes('before-hook-creation')) await this.deleteAndWait(object);
    try {
      await this.applier.apply([hook], options);
    } catch (e) {
      if (e instanceof ApplyRejectedError) throw new HookFailedError(hook, e.message);
      throw e;
    }
    let detail = 'applied';
    if (WAITED.has(object.kind)) {
      const report = await this.health.waitHealthy([object], timeoutMs);
      const health = report.unhealthy[0]?.health;
      if (!report.healthy) {
        if (policies.includes('hook-failed')) await this.deleteAndWait(object);
        throw new HookFailedError(
          hook,
          report.timedOut
            ? `not finished after ${timeoutMs} ms: ${health?.message ?? ''}`
            : (health?.message ?? ''),
        );
      }
      detail = 'completed';
    }
    if (policies.includes('hook-succeeded')) await this.deleteAndWait(object);
    return {
      apiVersion: object.apiVersion,
      kind: object.kind,
      namespace: object.metadata.namespace ?? '',
      name: object.metadata.name,
      action: 'created',
      message: `helm hook ${hook.hook.events.join(',') || 'test'}: ${detail}`,
    };
  }

  /** Deletes (pods of a Job too) and waits until the name is free, so the next create is new. */
  private async deleteAndWait(object: KubeObject): Promise<void> {
    try {
      await this.api.delete(object, undefined, undefined, undefined, undefined, 'Background');
    } catch (e) {
      if (isNotFound(e)) return;
      throw e;
    }
    const deadline = this.clock.now().getTime() + GONE_TIMEOUT_MS;
    for (;;) {
      try {
        await this.api.read(object);
      } catch (e) {
        if (isNotFound(e)) return;
        throw e;
      }
      if (this.clock.now().getTime() > deadline)
        throw new Error(`${describeObject(object)} still present after delete`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
