/**
 * Whether an error from the database path means "the database is not there right now" (down,
 * restarting, unreachable, out of connections) rather than "this message cannot be stored". The
 * consumer holds and retries the first kind forever and never dead-letters it; only the second
 * kind may make a message poison. Pure: it reads codes and messages along the `cause` chain of
 * what Prisma, its pg adapter and Node's sockets throw.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of causeChain(error)) {
    const code = stringField(e, 'code');
    if (code !== undefined && (UNAVAILABLE_CODES.has(code) || isUnavailableSqlState(code))) return true;
    const meta = (e as { meta?: unknown }).meta;
    const metaCode = stringField(meta, 'code');
    if (metaCode !== undefined && isUnavailableSqlState(metaCode)) return true;
    const text = [stringField(e, 'message'), stringField(meta, 'message')].filter(Boolean).join(' ');
    if (UNAVAILABLE_MESSAGE.test(text)) return true;
  }
  return false;
}

/** Prisma's connection-level codes and the socket errors underneath them. */
const UNAVAILABLE_CODES = new Set([
  'P1001', // can't reach database server
  'P1002', // server reached but timed out
  'P1008', // operations timed out
  'P1017', // server has closed the connection
  'P2024', // timed out fetching a connection from the pool
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs: class 08 connection exception; 57P01-57P03 admin/crash shutdown, cannot connect now
 * (starting up, in recovery); class 53 insufficient resources (too many connections, disk full).
 */
function isUnavailableSqlState(code: string): boolean {
  return /^(08[0-9A-Z]{3}|57P0[1-3]|53[0-9A-Z]{3})$/.test(code);
}

const UNAVAILABLE_MESSAGE =
  /can't reach database server|connection terminated|connection error and is not queryable|terminating connection due to administrator command|the database system is (starting up|shutting down|in recovery mode|not yet accepting connections)|server closed the connection unexpectedly|Connection closed|timed out fetching a new connection/i;

function* causeChain(error: unknown): Generator<object> {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

function stringField(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}
