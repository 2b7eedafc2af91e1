import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FailedMigrationPendingError, MigrationChecksumMismatchError } from './errors.js';
import { checksumOf, migrationsHash, type MigrationFile } from './migration-files.js';
import { planMigrations, type AppliedMigrationRow } from './plan.js';

const file = (name: string, script: string): MigrationFile => ({
  name,
  script,
  checksum: checksumOf(script),
});
const done = (m: MigrationFile, over: Partial<AppliedMigrationRow> = {}): AppliedMigrationRow => ({
  migration_name: m.name,
  checksum: m.checksum,
  finished_at: new Date('2026-11-22T00:00:00Z'),
  rolled_back_at: null,
  logs: null,
  ...over,
});

const a = file('20260101000000_a', 'CREATE TABLE a (id int);\n');
const b = file('20260102000000_b', 'CREATE TABLE b (id int);\n');

void describe('planMigrations', () => {
  void it('applies everything on an empty history and nothing on a complete one', () => {
    assert.deepEqual(planMigrations([a, b], []).pending, [a, b]);
    assert.deepEqual(planMigrations([a, b], [done(a), done(b)]).pending, []);
  });

  void it('refuses an applied migration whose file changed, naming it', () => {
    const edited = file(a.name, 'CREATE TABLE a (id bigint);\n');
    assert.throws(
      () => planMigrations([edited, b], [done(a)]),
      (e: unknown) =>
        e instanceof MigrationChecksumMismatchError &&
        e.migrationName === a.name &&
        e.message.includes(a.name),
    );
  });

  void it('accepts a file whose only change is CRLF line endings, as Prisma does', () => {
    const crlf = file(a.name, a.script.replaceAll('\n', '\r\n'));
    assert.deepEqual(planMigrations([crlf, b], [done(a)]).pending, [b]);
  });

  void it('stops at an unresolved failed migration (P3009) and ignores rolled-back rows', () => {
    assert.throws(
      () => planMigrations([a, b], [done(a), done(b, { finished_at: null, logs: 'boom' })]),
      FailedMigrationPendingError,
    );
    const rolledBack = done(b, { finished_at: null, rolled_back_at: new Date() });
    assert.deepEqual(planMigrations([a, b], [done(a), rolledBack]).pending, [b]);
  });

  void it('tolerates migrations applied by a newer release', () => {
    const plan = planMigrations([a], [done(a), done(b)]);
    assert.deepEqual(plan, { pending: [], unknownApplied: [b.name] });
  });

  void it('hashes a set of migrations by names and contents', () => {
    assert.equal(migrationsHash([a, b]), migrationsHash([a, b]));
    assert.notEqual(migrationsHash([a, b]), migrationsHash([a]));
    assert.notEqual(migrationsHash([a]), migrationsHash([file(a.name, 'SELECT 1;')]));
  });
});
