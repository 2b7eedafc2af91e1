import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { MigrationFailedError, MigrationLockTimeoutError } from './errors.js';
import { migrationsDir, readMigrations } from './migration-files.js';
import { planMigrations, type AppliedMigrationRow } from './plan.js';

/**
 * The key `prisma migrate` itself locks; taking the same one means our runner and a
 * `prisma migrate deploy` can never run at the same time either.
 */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

/** Prisma's own DDL for the history table (schema engine, PostgreSQL flavour), byte for byte in meaning. */
const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`;

export interface MigrateOptions {
  /** Defaults to libs/db/prisma/migrations. */
  dir?: string;
  /** How long to wait for another migrator before giving up. */
  lockTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
  unknownApplied: string[];
}

/**
 * Applies pending migrations in order, keeping `_prisma_migrations` as Prisma keeps it so that
 * `prisma migrate deploy`/`status` can take over at any time. Serialized across processes by a
 * session advisory lock; each migration file runs as one simple-protocol query, i.e. in one
 * implicit transaction, exactly as Prisma runs it.
 */
export async function migrate(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const log = options.log ?? (() => undefined);
  const local = await readMigrations(options.dir ?? migrationsDir);
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'capstan-migrate' });
  await client.connect();
  try {
    await acquireLock(client, options.lockTimeoutMs ?? 5 * 60_000, log);
    try {
      await client.query(CREATE_HISTORY_TABLE);
      const { rows } = await client.query<AppliedMigrationRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM _prisma_migrations ORDER BY started_at',
      );
      const plan = planMigrations(local, rows);
      for (const name of plan.unknownApplied)
        log(`warning: ${name} is applied in the database but not present locally`);
      for (const migration of plan.pending) {
        log(`applying ${migration.name}`);
        await applyOne(client, migration.name, migration.script, migration.checksum);
      }
      if (plan.pending.length === 0) log('no pending migrations');
      return {
        applied: plan.pending.map((m) => m.name),
        alreadyApplied: local.length - plan.pending.length,
        unknownApplied: plan.unknownApplied,
      };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

/** Row first, then the script, then the finish mark: the same three steps Prisma takes, so a crash looks the same. */
async function applyOne(client: pg.Client, name: string, script: string, checksum: string): Promise<void> {
  const id = randomUUID();
  await client.query(
    'INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
    [id, checksum, name],
  );
  try {
    await client.query(script);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const code = (e as { code?: string }).code;
    const logs = `Migration failed to apply.\n\n${code ? `Database error code: ${code}\n\n` : ''}Database error:\n${message}`;
    await client.query('UPDATE _prisma_migrations SET logs = $2 WHERE id = $1', [id, logs]);
    throw new MigrationFailedError(name, e);
  }
  await client.query(
    'UPDATE _prisma_migrations SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
    [id],
  );
}

async function acquireLock(client: pg.Client, timeoutMs: number, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  let announced = false;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      PRISMA_MIGRATE_LOCK_KEY,
    ]);
    if (rows[0]?.locked) return;
    const waited = Date.now() - started;
    if (waited >= timeoutMs) throw new MigrationLockTimeoutError(waited);
    if (!announced) {
      log('waiting for another migrator to finish');
      announced = true;
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, timeoutMs - waited)));
  }
}
