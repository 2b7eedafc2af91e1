import { createHash } from 'node:crypto';
import type { Clock } from '@capstan/platform';
import type { AccessReviewer, Caller, Scope } from './access.js';
import { TtlCache } from './ttl-cache.js';

/**
 * Reuses TokenReview and SubjectAccessReview answers for a short while: a CLI or dashboard
 * paging through history would otherwise cost two API-server round trips per page. Short
 * enough that a revoked token or a removed RoleBinding stops working within the TTL.
 * Tokens are keyed by their hash so the cache never holds a usable credential.
 */
export class CachingReviewer implements AccessReviewer {
  private readonly callers: TtlCache<Caller | null>;
  private readonly decisions: TtlCache<boolean>;

  constructor(
    private readonly inner: AccessReviewer,
    clock: Clock,
    ttlMs: number,
  ) {
    this.callers = new TtlCache(clock, ttlMs);
    this.decisions = new TtlCache(clock, ttlMs);
  }

  async authenticate(token: string): Promise<Caller | null> {
    const key = createHash('sha256').update(token).digest('hex');
    const hit = this.callers.get(key);
    if (hit !== undefined) return hit;
    const caller = await this.inner.authenticate(token);
    this.callers.set(key, caller);
    return caller;
  }

  async allowed(caller: Caller, scope: Scope): Promise<boolean> {
    const key = JSON.stringify([caller.uid, caller.username, caller.groups, scope]);
    const hit = this.decisions.get(key);
    if (hit !== undefined) return hit;
    const allowed = await this.inner.allowed(caller, scope);
    this.decisions.set(key, allowed);
    return allowed;
  }
}
