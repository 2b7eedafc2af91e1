import { z } from 'zod';
import { ChangeSetEntry } from '@capstan/events';

/**
 * A reconcile attempt in flight, kept durably (JetStream KV, one key per Sync) from its start to
 * its decision. Found at the start of the next attempt, it means the last one never finished:
 * the reconciler crashed or was killed during it. Two things follow, both decided here, purely:
 * - the Sync is quarantined for a while (growing with crashes in a row) instead of being run at
 *   once, so a commit that kills the reconciler does not kill it again on every restart;
 * - the objects the interrupted attempt planned to write are credited by the next decision of the
 *   same commit: the re-run finds them already there (`unchanged`), but they were this commit's
 *   doing, and "who created this object" must not lose its answer.
 */
export const AttemptRecord = z.object({
  /**
   * The reconciler instance running it (its pod name: a container restarted after a crash keeps
   * it). Only an instance's own leftover is a crash: another replica's may still be running.
   */
  owner: z.string(),
  revision: z.string(),
  sha: z.string(),
  startedAt: z.string(),
  /** Attempts in a row that never finished. */
  crashes: z.number().int().nonnegative(),
  /** Set while quarantined: no attempt before then. */
  quarantinedUntil: z.string().optional(),
  /** What attempts of this commit planned to create or change (the plan, before applying). */
  planned: z.array(ChangeSetEntry).default([]),
});
export type AttemptRecord = z.infer<typeof AttemptRecord>;

/** The first quarantine's length; each further crash in a row doubles it, up to MAX_QUARANTINE_MS. */
export const MAX_QUARANTINE_MS = 3_600_000;

export type AttemptVerdict =
  | { kind: 'run'; record: AttemptRecord }
  | { kind: 'quarantined'; record: AttemptRecord; until: Date; message: string };

/**
 * Whether an attempt may start now, given the record the last one left (none when it finished),
 * and the record to keep while it runs. Pure: time comes in.
 */
export function judgeAttempt(
  previous: AttemptRecord | undefined,
  next: { owner: string; revision: string; sha: string },
  now: Date,
  quarantineMs: number,
): AttemptVerdict {
  const carried = previous && previous.sha === next.sha ? previous.planned : [];
  const start = (crashes: number): AttemptVerdict => ({
    kind: 'run',
    record: { ...next, startedAt: now.toISOString(), crashes, planned: carried },
  });
  if (!previous) return start(0);
  // Another replica's attempt, running or not: not this instance's crash to judge.
  if (previous.owner !== next.owner && previous.quarantinedUntil === undefined) return start(0);
  if (previous.quarantinedUntil !== undefined) {
    const until = new Date(previous.quarantinedUntil);
    if (now.getTime() >= until.getTime()) return start(previous.crashes);
    return { kind: 'quarantined', record: previous, until, message: quarantineMessage(previous, until) };
  }
  // The last attempt started and never finished: it crashed (or was killed) during it.
  const crashes = previous.crashes + 1;
  const until = new Date(now.getTime() + Math.min(MAX_QUARANTINE_MS, quarantineMs * 2 ** (crashes - 1)));
  const record = { ...previous, crashes, quarantinedUntil: until.toISOString() };
  return { kind: 'quarantined', record, until, message: quarantineMessage(record, until) };
}

function quarantineMessage(record: AttemptRecord, until: Date): string {
  const times = record.crashes === 1 ? 'once' : `${record.crashes} times in a row`;
  return (
    `quarantined until ${until.toISOString()}: the reconciler stopped during the last attempt at ` +
    `${record.revision} (started ${record.startedAt}), ${times}; a commit that crashes the ` +
    `reconciler is retried only after a growing delay`
  );
}

/** The record once the plan is known: what this attempt will write joins what earlier ones planned. */
export function withPlan(record: AttemptRecord, plan: readonly ChangeSetEntry[]): AttemptRecord {
  const writes = plan.filter((c) => c.action === 'created' || c.action === 'configured');
  const known = new Set(record.planned.map(refKey));
  return { ...record, planned: [...record.planned, ...writes.filter((c) => !known.has(refKey(c)))] };
}

/**
 * The change set with the interrupted attempt's writes credited: an object this run found
 * `unchanged` that an interrupted attempt of the same commit planned to create or change was
 * written by that attempt, so by this commit. Pure.
 */
export function creditInterrupted(
  changeSet: readonly ChangeSetEntry[],
  record: AttemptRecord | undefined,
): ChangeSetEntry[] {
  if (!record || record.planned.length === 0) return [...changeSet];
  const planned = new Map(record.planned.map((c) => [refKey(c), c.action]));
  return changeSet.map((c) => {
    const action = c.action === 'unchanged' ? planned.get(refKey(c)) : undefined;
    return action ? { ...c, action } : c;
  });
}

function refKey(c: ChangeSetEntry): string {
  return `${c.apiVersion}|${c.kind}|${c.namespace}|${c.name}`;
}
