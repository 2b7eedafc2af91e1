import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, migrationsHash, readMigrations } from '@capstan/db';
import { testDatabaseServerUrl } from './env.js';

export interface TestDatabase {
  /** A private, fully migrated database. */
  url: string;
  /** Drops it, closing whatever connections are still open. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Any URL on the server to use; defaults to DATABASE_URL, then the local postgres. */
  serverUrl?: string;
  /** Another migrations folder (tests of the runner itself). */
  migrationsDir?: string;
}

// Arbitrary: namespaces our template-build locks away from other advisory-lock users.
const TEMPLATE_LOCK_CLASS = 0x0ca95a;

/**
 * A fresh migrated database per test (file), cloned from a template that is migrated once per
 * migrations content: CREATE DATABASE ... TEMPLATE copies files and takes milliseconds, where
 * running the migrations every time would dominate the suite. Test workers run in parallel
 * processes, so building the template is serialized with an advisory lock on the maintenance db.
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const serverUrl = options.serverUrl ?? testDatabaseServerUrl();
  const migrations = await readMigrations(...(options.migrationsDir ? [options.migrationsDir] : []));
  const hash = migrationsHash(migrations).slice(0, 12);
  const template = `capstan_tpl_${hash}`;
  const name = `capstan_test_${process.pid}_${randomBytes(4).toString('hex')}`;

  const admin = new pg.Client({
    connectionString: databaseUrl(serverUrl, 'postgres'),
    application_name: 'capstan-test-db',
  });
  await admin.connect();
  try {
    if (!(await databaseExists(admin, template))) {
      await buildTemplate(
        admin,
        serverUrl,
        template,
        Number.parseInt(hash.slice(0, 7), 16),
        options.migrationsDir,
      );
    }
    await retryWhileInUse(() => admin.query(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(template)}`));
  } finally {
    await admin.end();
  }

  return {
    url: databaseUrl(serverUrl, name),
    async drop() {
      const client = new pg.Client({ connectionString: databaseUrl(serverUrl, 'postgres') });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

async function buildTemplate(
  admin: pg.Client,
  serverUrl: string,
  template: string,
  lockId: number,
  dir?: string,
): Promise<void> {
  await admin.query('SELECT pg_advisory_lock($1, $2)', [TEMPLATE_LOCK_CLASS, lockId]);
  try {
    // Another worker may have built it while we waited for the lock.
    if (await databaseExists(admin, template)) return;
    // Build under a scratch name and rename when complete, so a worker killed half-way never
    // leaves a half-migrated template behind under the real name.
    const scratch = `${template}_build`;
    await admin.query(`DROP DATABASE IF EXISTS ${ident(scratch)} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${ident(scratch)}`);
    await migrate(databaseUrl(serverUrl, scratch), dir ? { dir } : {});
    await retryWhileInUse(() => admin.query(`ALTER DATABASE ${ident(scratch)} RENAME TO ${ident(template)}`));
  } finally {
    await admin.query('SELECT pg_advisory_unlock($1, $2)', [TEMPLATE_LOCK_CLASS, lockId]);
  }
}

/**
 * Cloning or renaming fails while anyone is connected to the source: a backend that is still
 * exiting after the migrator disconnected, or autovacuum for a moment. Both pass quickly.
 */
async function retryWhileInUse(operation: () => Promise<unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await operation();
      return;
    } catch (e) {
      const objectInUse = (e as { code?: string }).code === '55006';
      if (!objectInUse || attempt >= 20) throw e;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}

async function databaseExists(client: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return rowCount === 1;
}

export function databaseUrl(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
