import type { ChainedDecision } from '../domain/decision-record.js';
import type { SubscriptionFilter } from './subscription.js';

/**
 * Whether a subscription wants a decision. Each list is an OR of its entries; lists combine with
 * AND; an empty list matches everything. Namespaces and kinds match the deciding object or any
 * target, so "namespace shop" catches both the Sync in shop and a Sync elsewhere deploying into shop.
 */
export function matchesFilter(
  filter: SubscriptionFilter,
  subscriptionNamespace: string,
  decision: Pick<ChainedDecision, 'action' | 'decidedBy' | 'targets'>,
  scope: 'namespace' | 'cluster' = 'cluster',
): boolean {
  const { action, decidedBy, targets } = decision;
  // A tenant's Subscription hears its own namespace's decisions only: another tenant's commits,
  // authors and objects are theirs.
  if (scope === 'namespace' && decidedBy.namespace !== subscriptionNamespace) return false;
  if (filter.actions.length > 0 && !filter.actions.includes(action)) return false;
  if (
    filter.namespaces.length > 0 &&
    !filter.namespaces.some((ns) => ns === decidedBy.namespace || targets.some((t) => t.namespace === ns))
  )
    return false;
  if (
    filter.kinds.length > 0 &&
    !filter.kinds.some((k) => k === decidedBy.kind || targets.some((t) => t.kind === k))
  )
    return false;
  if (filter.syncs.length > 0) {
    if (decidedBy.kind !== 'Sync') return false;
    const wanted = filter.syncs.map((s) => (s.includes('/') ? s : `${subscriptionNamespace}/${s}`));
    if (!wanted.includes(`${decidedBy.namespace}/${decidedBy.name}`)) return false;
  }
  return true;
}

/**
 * Deliveries with the same key go out in decision order. The key is the deciding object: every
 * decision about an object comes from the Sync (or Canary...) that owns it, so ordering per
 * decider orders per object too, without splitting one decision across keys.
 */
export const subjectKeyOf = (decision: Pick<ChainedDecision, 'decidedBy'>): string =>
  `${decision.decidedBy.kind}/${decision.decidedBy.namespace}/${decision.decidedBy.name}`;
