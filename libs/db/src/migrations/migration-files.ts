import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationsFolderError } from './errors.js';

/** One `prisma/migrations/<timestamp>_<name>/migration.sql`. */
export interface MigrationFile {
  name: string;
  script: string;
  /** sha256 hex of the file's bytes: what Prisma stores in `_prisma_migrations.checksum`. */
  checksum: string;
}

/** The same folder from `src/migrations` and `dist/migrations`, so tests and the CLI agree. */
export const migrationsDir = fileURLToPath(new URL('../../prisma/migrations/', import.meta.url));

const MIGRATION_NAME = /^\d{14}_[a-z0-9_]+$/;

export function checksumOf(script: string | Uint8Array): string {
  return createHash('sha256').update(script).digest('hex');
}

/**
 * Prisma accepts a checksum computed with either line ending, because git may rewrite them on
 * checkout; we do the same so a Windows clone never looks like edited history.
 */
export function matchesChecksum(script: string, checksum: string): boolean {
  const lf = script.replaceAll('\r\n', '\n');
  return [script, lf, lf.replaceAll('\n', '\r\n')].some((variant) => checksumOf(variant) === checksum);
}

/** Migrations in apply order (their names start with a timestamp). */
export async function readMigrations(dir: string = migrationsDir): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw new MigrationsFolderError(`cannot read migrations folder ${dir}: ${(e as Error).message}`);
  }
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      if (!MIGRATION_NAME.test(name)) {
        throw new MigrationsFolderError(
          `migration folder ${name} is not named <yyyymmddhhmmss>_<snake_name>`,
          name,
        );
      }
      const bytes = await readFile(join(dir, name, 'migration.sql')).catch((e: unknown) => {
        throw new MigrationsFolderError(
          `migration ${name} has no readable migration.sql: ${(e as Error).message}`,
          name,
        );
      });
      return { name, script: bytes.toString('utf8'), checksum: checksumOf(bytes) };
    }),
  );
}

/** Identifies a set of migrations by content, e.g. to reuse a migrated template database. */
export function migrationsHash(migrations: readonly MigrationFile[]): string {
  const h = createHash('sha256');
  for (const m of migrations) h.update(m.name).update('\0').update(m.checksum).update('\0');
  return h.digest('hex');
}
