import pg from 'pg';
import { migrationsDir, readMigrations } from './migration-files.js';
import { planMigrations, type AppliedMigrationRow, type MigrationPlan } from './plan.js';

/** What `deploy` would do, without taking the lock or changing anything. Throws what `deploy` would throw. */
export async function migrationStatus(
  databaseUrl: string,
  dir: string = migrationsDir,
): Promise<MigrationPlan> {
  const local = await readMigrations(dir);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'capstan-migrate-status' });
  await client.connect();
  try {
    const { rows: exists } = await client.query<{ t: string | null }>(
      `SELECT to_regclass('_prisma_migrations')::text AS t`,
    );
    if (!exists[0]?.t) return { pending: local, unknownApplied: [] };
    const { rows } = await client.query<AppliedMigrationRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM _prisma_migrations ORDER BY started_at',
    );
    return planMigrations(local, rows);
  } finally {
    await client.end();
  }
}
