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
