import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createScratchDatabase } from '../testing/scratch-database.js';
import {
  FailedMigrationPendingError,
  MigrationChecksumMismatchError,
  MigrationFailedError,
} from './errors.js';
import { migrate } from './migrate.js';
import { migrationsDir } from './migration-files.js';
import { migrationStatus } from './status.js';

interface HistoryRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

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

const history = (url: string) =>
  query<HistoryRow>(url, 'SELECT * FROM _prisma_migrations ORDER BY started_at, migration_name');

/** A private copy of the real migrations that a test may edit. */
async function copyOfMigrations(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'capstan-migrations-'));
  await cp(migrationsDir, dir, { recursive: true });
  return dir;
}

void describe('migrate', () => {
  const dbs: { drop(): Promise<void> }[] = [];
  const dirs: string[] = [];
  const scratch = async () => {
    const db = await createScratchDatabase();
    dbs.push(db);
    return db.url;
  };
  const editableMigrations = async () => {
    const dir = await copyOfMigrations();
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  let names: string[];
  before(async () => {
    names = (await readdir(migrationsDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
    assert.ok(names.length >= 2);
  });

  void it('applies every migration to a fresh database, in order, and records them as Prisma does', async () => {
    const url = await scratch();
    const result = await migrate(url);
    assert.deepEqual(result.applied, names);

    const rows = await history(url);
    assert.deepEqual(
      rows.map((r) => r.migration_name),
      names,
    );
    for (const row of rows) {
      // The checksum Prisma would compute: sha256 of the file's bytes, as sha256sum prints it.
      const expected = execFileSync('sha256sum', [join(migrationsDir, row.migration_name, 'migration.sql')], {
        encoding: 'utf8',
      }).split(' ')[0];
      assert.equal(row.checksum, expected);
      assert.match(row.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(row.applied_steps_count, 1);
      assert.equal(row.logs, null);
      assert.equal(row.rolled_back_at, null);
      assert.ok(row.finished_at && row.finished_at >= row.started_at);
    }

    const tables = await query<{ table_name: string }>(
      url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`,
    );
    const tableNames = tables.map((t) => t.table_name);
    for (const t of ['processed_messages', 'decisions', 'decision_targets', '_prisma_migrations'])
      assert.ok(tableNames.includes(t), t);
  });

  void it('creates _prisma_migrations with exactly the columns and types of Prisma', async () => {
    const url = await scratch();
    await migrate(url);
    const columns = await query<{
      column_name: string;
      data_type: string;
      char_len: number | null;
      is_nullable: string;
      column_default: string | null;
    }>(
      url,
      `SELECT column_name, data_type, character_maximum_length AS char_len, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    assert.deepEqual(columns, [
      {
        column_name: 'id',
        data_type: 'character varying',
        char_len: 36,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'checksum',
        data_type: 'character varying',
        char_len: 64,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'finished_at',
        data_type: 'timestamp with time zone',
        char_len: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'migration_name',
        data_type: 'character varying',
        char_len: 255,
        is_nullable: 'NO',
        column_default: null,
      },
      { column_name: 'logs', data_type: 'text', char_len: null, is_nullable: 'YES', column_default: null },
      {
        column_name: 'rolled_back_at',
        data_type: 'timestamp with time zone',
        char_len: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'started_at',
        data_type: 'timestamp with time zone',
        char_len: null,
        is_nullable: 'NO',
        column_default: 'now()',
      },
      {
        column_name: 'applied_steps_count',
        data_type: 'integer',
        char_len: null,
        is_nullable: 'NO',
        column_default: '0',
      },
    ]);
  });

  void it('is idempotent: a second run applies nothing and records nothing', async () => {
    const url = await scratch();
    await migrate(url);
    const before = await history(url);
    const again = await migrate(url);
    assert.deepEqual(again.applied, []);
    assert.equal(again.alreadyApplied, names.length);
    assert.deepEqual(await history(url), before);
    assert.deepEqual((await migrationStatus(url)).pending, []);
  });

  void it('applies only what is new when a migration is added later', async () => {
    const url = await scratch();
    const dir = await editableMigrations();
    await migrate(url, { dir });
    const added = '29991231000000_later_change';
    await mkdir(join(dir, added));
    await writeFile(join(dir, added, 'migration.sql'), 'CREATE TABLE later_change (id int);\n');
    assert.deepEqual(
      (await migrationStatus(url, dir)).pending.map((m) => m.name),
      [added],
    );
    assert.deepEqual((await migrate(url, { dir })).applied, [added]);
  });

  void it('refuses to run when an applied migration was edited, naming it, and applies nothing else', async () => {
    const url = await scratch();
    const dir = await editableMigrations();
    await migrate(url, { dir });
    const edited = names[0]!;
    await writeFile(join(dir, edited, 'migration.sql'), '-- sneaky edit\nSELECT 1;\n', { flag: 'a' });
    const added = '29991231000000_after_edit';
    await mkdir(join(dir, added));
    await writeFile(join(dir, added, 'migration.sql'), 'CREATE TABLE after_edit (id int);\n');

    await assert.rejects(
      () => migrate(url, { dir }),
      (e: unknown) =>
        e instanceof MigrationChecksumMismatchError &&
        e.migrationName === edited &&
        e.message.includes(edited),
    );
    const rows = await history(url);
    assert.ok(!rows.some((r) => r.migration_name === added));
  });

  void it('records a failing migration like Prisma and refuses to continue until it is resolved', async () => {
    const url = await scratch();
    const dir = await editableMigrations();
    const broken = '29991231000000_broken';
    await mkdir(join(dir, broken));
    await writeFile(
      join(dir, broken, 'migration.sql'),
      'CREATE TABLE half_done (id int);\nSELECT * FROM no_such_table;\n',
    );

    await assert.rejects(
      () => migrate(url, { dir }),
      (e: unknown) => e instanceof MigrationFailedError && e.migrationName === broken,
    );
    const failed = (await history(url)).find((r) => r.migration_name === broken)!;
    assert.equal(failed.finished_at, null);
    assert.equal(failed.applied_steps_count, 0);
    assert.match(failed.logs ?? '', /no_such_table/);
    // The file ran as one implicit transaction: nothing of it stayed behind.
    assert.deepEqual(await query(url, `SELECT to_regclass('half_done') AS t`), [{ t: null }]);

    await assert.rejects(() => migrate(url, { dir }), FailedMigrationPendingError);

    // What `prisma migrate resolve --rolled-back` does; then a fixed file applies.
    await query(url, 'UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = $1', [
      broken,
    ]);
    await writeFile(join(dir, broken, 'migration.sql'), 'CREATE TABLE half_done (id int);\n');
    assert.deepEqual((await migrate(url, { dir })).applied, [broken]);
  });

  void it('lets concurrent migrators through one at a time: each migration is applied exactly once', async () => {
    const url = await scratch();
    const results = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    assert.equal(
      results.reduce((n, r) => n + r.applied.length, 0),
      names.length,
    );
    const rows = await history(url);
    assert.deepEqual(
      rows.map((r) => r.migration_name),
      names,
    );
  });
});
