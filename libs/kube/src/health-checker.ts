import { backoffDelay, describeObject, healthOf, type Health, type LiveObject } from '@capstan/gitops-core';
import { isNotFound } from './errors.js';
import type { ObjectApi } from './object-api.js';

export interface ObjectHealth {
  object: string;
  health: Health;
  /** Of the object judged, so a newer judgement from a watch is not overwritten by an older read. */
  resourceVersion?: string;
}

export interface HealthReport {
  healthy: boolean;
  timedOut: boolean;
  /** Objects not Current at the end, with their kstatus status and message. */
  unhealthy: ObjectHealth[];
}

type Ref = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

/** Reads objects and judges their health (pure judgement in gitops-core's healthOf). */
export class HealthChecker {
  constructor(private readonly api: ObjectApi) {}

  async check(objects: readonly Ref[]): Promise<ObjectHealth[]> {
    return Promise.all(
      objects.map(async (o) => {
        try {
          const live = (await this.api.read(o)) as unknown as LiveObject;
          const resourceVersion = (live.metadata as { resourceVersion?: string }).resourceVersion;
          return {
            object: describeObject(o),
            health: healthOf(live),
            ...(resourceVersion === undefined ? {} : { resourceVersion }),
          };
        } catch (e) {
          if (isNotFound(e))
            return {
              object: describeObject(o),
              health: { status: 'InProgress', message: 'not found' } as const,
            };
          throw e;
        }
      }),
    );
  }

  /**
   * Polls with backoff until every object is Current, one is Failed, or the timeout passes.
   * `onProgress` hears the unhealthy ones after each round, so status can name them while waiting.
   */
  async waitHealthy(
    objects: readonly Ref[],
    timeoutMs: number,
    onProgress?: (unhealthy: ObjectHealth[]) => Promise<void>,
  ): Promise<HealthReport> {
    const deadline = Date.now() + timeoutMs;
    let reported = '';
    for (let attempt = 1; ; attempt++) {
      const all = await this.check(objects);
      const unhealthy = all.filter((h) => h.health.status !== 'Current');
      if (unhealthy.length === 0) return { healthy: true, timedOut: false, unhealthy };
      if (unhealthy.some((h) => h.health.status === 'Failed'))
        return { healthy: false, timedOut: false, unhealthy };
      const summary = unhealthy.map((u) => u.object).join(',');
      if (onProgress && summary !== reported) {
        reported = summary;
        await onProgress(unhealthy);
      }
      const left = deadline - Date.now();
      if (left <= 0) return { healthy: false, timedOut: true, unhealthy };
      await new Promise((r) =>
        setTimeout(r, Math.min(left, backoffDelay(attempt, 250, 5_000, Math.random()))),
      );
    }
  }
}
