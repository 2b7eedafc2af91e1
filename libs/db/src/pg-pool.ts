import pg from 'pg';
import type { PrismaClientOptions } from './client.js';

export type PgPool = pg.Pool;

/**
 * A plain `pg` pool beside the Prisma client, for the few hot statements where Prisma's own work
 * per statement shows: the audit log's appends spend ~30% of a 500-row batch in it (see
 * docs/benchmarks.md, audit-ingest). Everything else goes through Prisma.
 */
export function createPgPool(databaseUrl: string, options: PrismaClientOptions = {}): PgPool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    ...(options.maxConnections === undefined ? {} : { max: options.maxConnections }),
    ...(options.applicationName === undefined ? {} : { application_name: options.applicationName }),
  });
  // An idle connection dropped by the server (a restart, an outage) is an 'error' event; unheard,
  // it would crash the process. The pool replaces the connection; queries report their own errors.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Runs `work` in one transaction on one connection of `pool`: `begin` (which may also take a
 * lock in the same round trip), `work`, COMMIT; on any error ROLLBACK and rethrow. A connection
 * whose ROLLBACK fails is gone or unusable, so it is released as broken and the pool drops it
 * instead of handing it out again. So is one whose server end dropped while it was checked out:
 * pg reports that as an 'error' event on the client, which, unheard, would crash the process.
 */
export async function inTransaction<T>(
  pool: PgPool,
  work: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const dropped = (e: Error) => {
    broken ??= e;
  };
  client.on('error', dropped);
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (e) {
    await client.query('ROLLBACK').catch((rollback: unknown) => {
      broken = rollback instanceof Error ? rollback : new Error(String(rollback));
    });
    throw e;
  } finally {
    client.off('error', dropped);
    client.release(broken);
  }
}
