import type { ReconcileTrigger } from '../reconcile/sync-reconciler.js';

/**
 * The newest commit seen per GitRepository, from commit events and artifacts alike, by when the
 * git-watcher observed it. Every replica reads every commit event, also for Syncs it does not own
 * yet, so a Sync it gains is reconciled at the newest commit even while the GitRepository's
 * status (written by the git-watcher just after the event) or our cache of it still names the
 * previous one. Ordered by observation time, not Git ancestry, so a branch reset to an older
 * commit, observed later, is the newest.
 */
export class LatestCommits {
  private readonly byRepository = new Map<string, { trigger: ReconcileTrigger; observedAt: number }>();

  note(repository: string, trigger: ReconcileTrigger, observedAt: number): void {
    const known = this.byRepository.get(repository);
    if (!known || known.observedAt < observedAt) this.byRepository.set(repository, { trigger, observedAt });
  }

  /** The newest commit of the repository if it was observed after `than`. */
  newerThan(repository: string, than: number): { trigger: ReconcileTrigger; observedAt: number } | undefined {
    const known = this.byRepository.get(repository);
    return known && known.observedAt > than ? known : undefined;
  }
}
