/** Parses Go/Kubernetes duration strings (`90s`, `1m30s`, `1h`, `500ms`) into milliseconds. */
export function parseDuration(value: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  const unit: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * (unit[m[2] ?? 's'] ?? 1);
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== value.length)
    throw new Error(`invalid duration "${value}" (expected e.g. 30s, 1m30s, 1h)`);
  return total;
}

/**
 * Delay before retry n (1-based) after a failure: doubling from `base`, capped at `max`.
 * Jitter comes in as a number in [0, 1) so the function stays pure.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, jitter = 0): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + 0.4 * jitter));
}
