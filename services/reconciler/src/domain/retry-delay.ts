/** The first retry of a failure worth retrying (a network blip) comes after this long. */
export const FIRST_RETRY_MS = 5_000;

/**
 * How long to wait before retrying after `failures` retryable failures in a row: doubling from
 * FIRST_RETRY_MS, never longer than the Sync's interval (which would run it anyway). An
 * unreachable chart repository is then asked every few minutes, not every 5 s forever. Pure.
 */
export function retryDelay(failures: number, intervalMs: number): number {
  const exponent = Math.max(0, Math.min(failures - 1, 20));
  return Math.min(intervalMs, FIRST_RETRY_MS * 2 ** exponent);
}
