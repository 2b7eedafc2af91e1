import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '@capstan/platform';
import {
  describeObject,
  healthOf,
  type Health,
  type LiveObject,
  type WatchedObject,
} from '@capstan/gitops-core';
import { HealthChecker, type HealthReport, type ObjectHealth } from '@capstan/kube';
import { objectKey } from '../drift/as-applied.js';
import { LiveObjectFeed, type LiveEvent } from './live-feed.js';

type Ref = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };

/** A safety net only: the watch brings every change; a read now and then covers a broken watch. */
const RECHECK_MS = 30_000;
const NOT_FOUND: Health = { status: 'InProgress', message: 'not found' };
/**
 * Most waits end within a second or two; saying "waiting for" in status only for longer ones
 * saves a status write per Sync when a thousand roll out at once.
 */
const PROGRESS_AFTER_MS = 2_000;

/**
 * Waits until objects are healthy, judging each from the watch events of the live object (one
 * read at the start, then events), not by polling: a thousand Syncs waiting at once cost the
 * API server nothing while they wait. Same verdicts as HealthChecker.waitHealthy: every object
 * Current, one Failed, or the timeout.
 */
@Injectable()
export class HealthWaiter {
  constructor(
    private readonly feed: LiveObjectFeed,
    private readonly checker: HealthChecker,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * `known`: live objects already in hand (what the apply got back); with the watch's latest
   * events they spare the first read, which at a thousand Syncs is thousands of GETs.
   */
  waitHealthy(
    refs: readonly Ref[],
    timeoutMs: number,
    onProgress?: (unhealthy: ObjectHealth[]) => Promise<void>,
    known: readonly WatchedObject[] = [],
    /** Reads as the Sync's account (the waiter's own checker when not given). */
    checker: HealthChecker = this.checker,
  ): Promise<HealthReport> {
    const keys = refs.map((r) =>
      objectKey({
        apiVersion: r.apiVersion,
        kind: r.kind,
        namespace: r.metadata.namespace ?? '',
        name: r.metadata.name,
      }),
    );
    const names = new Map(keys.map((k, i) => [k, describeObject(refs[i] as Ref)]));
    const judged = new Map<string, ObjectHealth>();
    return new Promise<HealthReport>((resolve, reject) => {
      let done = false;
      // While the known states are fed in, no verdict yet: the timers below do not exist yet.
      let seeding = true;
      let reported = '';
      const now = () => this.clock.now().getTime();
      const quietUntil = now() + PROGRESS_AFTER_MS;
      let quietTimer: NodeJS.Timeout | undefined;
      // Progress writes go one after another, and the verdict waits for the last one, so a
      // late "waiting for" can never land after the caller's final status.
      let progress = Promise.resolve();
      const unhealthyNow = (): ObjectHealth[] =>
        keys
          .map((k) => judged.get(k) ?? { object: names.get(k) ?? k, health: NOT_FOUND })
          .filter((h) => h.health.status !== 'Current')
          .map(({ object, health }) => ({ object, health }));
      const finish = (outcome: HealthReport | Error): void => {
        if (done) return;
        done = true;
        unsubscribe();
        clearTimeout(timer);
        clearInterval(recheck);
        clearTimeout(quietTimer);
        void progress.then(() => (outcome instanceof Error ? reject(outcome) : resolve(outcome)));
      };
      const evaluate = (): void => {
        if (done || seeding || judged.size < keys.length) return;
        const unhealthy = unhealthyNow();
        if (unhealthy.length === 0) return finish({ healthy: true, timedOut: false, unhealthy });
        if (unhealthy.some((h) => h.health.status === 'Failed'))
          return finish({ healthy: false, timedOut: false, unhealthy });
        const summary = unhealthy.map((u) => u.object).join(',');
        if (onProgress && now() < quietUntil) {
          quietTimer ??= setTimeout(evaluate, quietUntil - now());
          return;
        }
        if (onProgress && summary !== reported) {
          reported = summary;
          progress = progress.then(() => onProgress(unhealthy)).catch(() => undefined);
        }
      };
      const judge = (key: string, h: ObjectHealth): void => {
        const previous = judged.get(key);
        if (previous && isOlder(h.resourceVersion, previous.resourceVersion)) return;
        judged.set(key, h);
        evaluate();
      };
      const onEvent = (key: string, type: LiveEvent, object: WatchedObject): void => {
        const resourceVersion = object.metadata?.resourceVersion;
        const health = type === 'delete' ? NOT_FOUND : healthOf(object as LiveObject);
        judge(key, {
          object: names.get(key) ?? key,
          health,
          ...(resourceVersion ? { resourceVersion } : {}),
        });
      };
      const read = (only?: ReadonlySet<string>): Promise<void> => {
        const wanted = refs.filter((_, i) => !only || only.has(keys[i] as string));
        const wantedKeys = keys.filter((k) => !only || only.has(k));
        return checker.check(wanted).then((all) => all.forEach((h, i) => judge(wantedKeys[i] as string, h)));
      };
      // Subscribe before looking at anything: a change from here on is seen either way.
      const unsubscribe = this.feed.subscribe(keys, onEvent);
      for (const object of known) {
        const key = keyOf(object);
        if (names.has(key)) onEvent(key, 'upsert', object);
      }
      for (const key of keys) {
        const latest = this.feed.latest(key);
        if (latest) onEvent(key, 'upsert', latest);
      }
      const timer = setTimeout(
        () => finish({ healthy: false, timedOut: true, unhealthy: unhealthyNow() }),
        timeoutMs,
      );
      const recheck = setInterval(() => void read().catch(() => undefined), RECHECK_MS);
      seeding = false;
      const unknown = new Set(keys.filter((k) => !judged.has(k)));
      if (unknown.size > 0)
        read(unknown).catch((e: unknown) => finish(e instanceof Error ? e : new Error(String(e))));
      else evaluate();
    });
  }
}

function keyOf(o: WatchedObject): string {
  return objectKey({
    apiVersion: o.apiVersion ?? '',
    kind: o.kind ?? '',
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
  });
}

/** resourceVersions are opaque, but etcd's are integers; compare them only when both are. */
function isOlder(candidate: string | undefined, previous: string | undefined): boolean {
  if (candidate === undefined || previous === undefined) return false;
  if (!/^\d+$/.test(candidate) || !/^\d+$/.test(previous)) return false;
  return BigInt(candidate) < BigInt(previous);
}
