import { FailedMigrationPendingError, MigrationChecksumMismatchError } from './errors.js';
import { matchesChecksum, type MigrationFile } from './migration-files.js';

/** A row of Prisma's `_prisma_migrations`, as far as deciding what to apply needs. */
export interface AppliedMigrationRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

export interface MigrationPlan {
  pending: MigrationFile[];
  /** Applied in the database but absent here: an older image running against a newer schema. */
  unknownApplied: string[];
}

/**
 * Decides what to apply, with Prisma's reading of `_prisma_migrations`: rolled-back rows do not
 * count, an unfinished row blocks everything (P3009), and unknown applied names are tolerated.
 * Stricter than `prisma migrate deploy` in one way: an applied file whose checksum changed is refused.
 */
export function planMigrations(
  local: readonly MigrationFile[],
  rows: readonly AppliedMigrationRow[],
): MigrationPlan {
  const live = rows.filter((r) => r.rolled_back_at === null);
  const failed = live.find((r) => r.finished_at === null);
  if (failed) throw new FailedMigrationPendingError(failed.migration_name, failed.logs);

  const applied = new Map(live.map((r) => [r.migration_name, r]));
  const localNames = new Set(local.map((m) => m.name));
  const pending: MigrationFile[] = [];
  for (const migration of local) {
    const row = applied.get(migration.name);
    if (!row) {
      pending.push(migration);
    } else if (!matchesChecksum(migration.script, row.checksum)) {
      throw new MigrationChecksumMismatchError(migration.name, row.checksum, migration.checksum);
    }
  }
  const unknownApplied = [...applied.keys()].filter((name) => !localNames.has(name)).sort();
  return { pending, unknownApplied };
}
