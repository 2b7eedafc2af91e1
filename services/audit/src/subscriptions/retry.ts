/** What happens to a delivery after a failed attempt. */
export type AfterFailure = { status: 'dead' } | { status: 'pending'; retryInMs: number };

export interface RetryPolicy {
  maxAttempts: number;
  baseMs: number;
  maxMs: number;
}

/**
 * Exponential backoff: attempt n (1-based) that failed waits base * 2^(n-1), capped; after
 * maxAttempts the delivery is dead-lettered. Jitter comes in as a number in [0, 1) so this
 * stays pure; it spreads retries of many subscriptions that failed together.
 */
export function afterFailure(attempt: number, policy: RetryPolicy, jitter = 0): AfterFailure {
  if (attempt >= policy.maxAttempts) return { status: 'dead' };
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return { status: 'pending', retryInMs: Math.round(exp * (0.8 + 0.4 * jitter)) };
}
