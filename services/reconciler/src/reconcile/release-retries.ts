import { Injectable } from '@nestjs/common';
import type { ReleaseFailure } from '../domain/outcome.js';
import { afterAttempt, deferral, type ReleaseAttempt, type ReleaseRetry } from '../domain/release-retry.js';

/** A HelmRelease by namespace and name (two dialects never share one name in one Sync's set). */
type ReleaseKey = { namespace: string; name: string };

/**
 * Each HelmRelease's retry state (see domain/release-retry.ts), in memory: the release's status
 * shows it (`retries`, `nextRetryAt`), and the scheduler runs the Sync again when the earliest
 * release is due. A restart forgets it, which costs one early attempt per failing release.
 */
@Injectable()
export class ReleaseRetries {
  private readonly states = new Map<string, ReleaseRetry>();

  /** The failure message to keep when the release should wait instead of being attempted now. */
  deferral(release: ReleaseKey, specDigest: string, now: Date): string | undefined {
    return deferral(this.states.get(keyOf(release)), specDigest, now.getTime());
  }

  /** The failure a deferred release keeps meanwhile (its phase, rollback and message). */
  failureOf(release: ReleaseKey): ReleaseFailure | undefined {
    return this.states.get(keyOf(release))?.failure;
  }

  record(
    release: ReleaseKey,
    specDigest: string,
    attempt: ReleaseAttempt,
    now: Date,
    intervalMs: number,
  ): ReleaseRetry | undefined {
    const key = keyOf(release);
    const next = afterAttempt(this.states.get(key), specDigest, attempt, now.getTime(), intervalMs);
    if (next) this.states.set(key, next);
    else this.states.delete(key);
    return next;
  }

  /** When the first of these releases is due again, if any waits (ms since the epoch). */
  earliest(releases: readonly ReleaseKey[]): number | undefined {
    const due = releases.flatMap((r) => {
      const state = this.states.get(keyOf(r));
      // A held release (Infinity) waits for a new spec, which arrives as a commit, not a timer.
      return state && Number.isFinite(state.nextAttemptAt) ? [state.nextAttemptAt] : [];
    });
    return due.length > 0 ? Math.min(...due) : undefined;
  }
}

function keyOf(r: ReleaseKey): string {
  return `${r.namespace}/${r.name}`;
}
