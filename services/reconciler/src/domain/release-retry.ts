import type { ReleaseFailure } from './outcome.js';
import { retryDelay } from './retry-delay.js';

/**
 * A HelmRelease's own retry state, as Helm Operator kept one per release: failures in a row of
 * one spec, and when it may be tried again. Kept per release, so one release whose chart
 * repository does not answer neither slows the Sync's other work nor is asked every 5 s.
 */
export interface ReleaseRetry {
  /** The HelmRelease spec these failures are about; a new spec starts afresh. */
  specDigest: string;
  /** Retryable failures in a row. */
  failures: number;
  /** The last failure, repeated while the release waits (same message: no new decision). */
  failure: ReleaseFailure;
  /**
   * When the release may be attempted again (ms since the epoch); Infinity when it is held: rolled
   * back with no retries left, it waits for a new spec, as Helm Operator did.
   */
  nextAttemptAt: number;
}

/** What one reconcile did with a release, as far as retries go. */
export type ReleaseAttempt =
  | { kind: 'deployed' }
  | { kind: 'failed'; failure: ReleaseFailure }
  /** A failed upgrade went back to the last deployed release; `retries`: rollback.retry/maxRetries. */
  | { kind: 'rolled-back'; failure: ReleaseFailure; retries?: number }
  /** Not attempted: it was waiting out its backoff. */
  | { kind: 'deferred' };

/**
 * The release's retry state after an attempt. Success or a failure only a new commit can fix
 * (the commit's fault) clears it; a retryable failure counts and pushes the next attempt out,
 * doubling up to the Sync's interval (retryDelay). Pure.
 */
export function afterAttempt(
  previous: ReleaseRetry | undefined,
  specDigest: string,
  attempt: ReleaseAttempt,
  now: number,
  intervalMs: number,
): ReleaseRetry | undefined {
  switch (attempt.kind) {
    case 'deployed':
      return undefined;
    case 'deferred':
      return previous;
    case 'rolled-back': {
      const failures = previous?.specDigest === specDigest ? previous.failures + 1 : 1;
      // Retried (rollback.retry) until maxRetries upgrades failed, then held until the spec changes.
      const retry = attempt.retries !== undefined && failures <= attempt.retries;
      return {
        specDigest,
        failures,
        failure: attempt.failure,
        nextAttemptAt: retry ? now + retryDelay(failures, intervalMs) : Number.POSITIVE_INFINITY,
      };
    }
    case 'failed': {
      if (attempt.failure.terminal) return undefined;
      const failures = previous?.specDigest === specDigest ? previous.failures + 1 : 1;
      return {
        specDigest,
        failures,
        failure: attempt.failure,
        nextAttemptAt: now + retryDelay(failures, intervalMs),
      };
    }
  }
}

/**
 * Whether the release waits instead of being attempted now: only its own failures of this same
 * spec, not yet due. Returns the message it keeps meanwhile. Pure.
 */
export function deferral(
  state: ReleaseRetry | undefined,
  specDigest: string,
  now: number,
): string | undefined {
  if (!state || state.specDigest !== specDigest || now >= state.nextAttemptAt) return undefined;
  return state.failure.message;
}
