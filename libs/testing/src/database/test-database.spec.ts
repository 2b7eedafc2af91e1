import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrationsDir, migrationsHash, readMigrations } from '@capstan/db';
import { createTestDatabase, databaseUrl } from './test-database.js';
import { testDatabaseServerUrl } from './env.js';

async function query<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
const admin = () => databaseUrl(testDatabaseServerUrl(), 'postgres');
const exists = async (name: string) =>
  (await query(admin(), 'SELECT 1 FROM pg_database WHERE datname = $1', [name])).length === 1;

void describe('createTestDatabase', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  void it('hands out private, migrated databases cloned from one template', async () => {
    const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    cleanup.push(
      () => a.drop(),
      () => b.drop(),
    );
    assert.notEqual(a.url, b.url);
    for (const db of [a, b]) {
      const rows = await query<{ n: string }>(
        db.url,
        'SELECT count(*) AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL',
      );
      assert.equal(Number(rows[0]!.n), (await readMigrations()).length);
    }
    // Private: a write in one is invisible in the other.
    await query(a.url, `INSERT INTO processed_messages (consumer, message_id) VALUES ('t', '1')`);
    assert.deepEqual(await query(b.url, 'SELECT * FROM processed_messages'), []);

    const template = `capstan_tpl_${migrationsHash(await readMigrations()).slice(0, 12)}`;
    assert.ok(await exists(template));
  });

  void it('builds a template once per migrations content, even when workers race for it', async () => {
    // A migrations set nobody has built yet, so this run really builds (and races for) its template.
    const dir = await mkdtemp(join(tmpdir(), 'capstan-tpl-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    await cp(migrationsDir, dir, { recursive: true });
    const extra = '29991231000000_unique_to_this_run';
    await mkdir(join(dir, extra));
    await writeFile(
      join(dir, extra, 'migration.sql'),
      `CREATE TABLE marker (v text); INSERT INTO marker VALUES ('${randomBytes(8).toString('hex')}');\n`,
    );
    const template = `capstan_tpl_${migrationsHash(await readMigrations(dir)).slice(0, 12)}`;
    cleanup.push(() => query(admin(), `DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`));
    assert.equal(await exists(template), false);

    const dbs = await Promise.all(
      Array.from({ length: 4 }, () => createTestDatabase({ migrationsDir: dir })),
    );
    cleanup.push(...dbs.map((db) => () => db.drop()));
    assert.ok(await exists(template));
    assert.equal(await exists(`${template}_build`), false);
    for (const db of dbs) {
      const history = await query<{ migration_name: string }>(
        db.url,
        'SELECT migration_name FROM _prisma_migrations',
      );
      // Migrated exactly once: a second build would have left a second row per migration.
      assert.equal(history.filter((r) => r.migration_name === extra).length, 1);
    }
  });

  void it('drops the database, even with connections still open', async () => {
    const db = await createTestDatabase();
    const name = new URL(db.url).pathname.slice(1);
    const lingering = new pg.Client({ connectionString: db.url });
    await lingering.connect();
    lingering.on('error', () => undefined);
    await db.drop();
    assert.equal(await exists(name), false);
    await lingering.end().catch(() => undefined);
  });
});
