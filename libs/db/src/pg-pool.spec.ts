import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPgPool, inTransaction, type PgPool } from './pg-pool.js';
import { createScratchDatabase } from './testing/scratch-database.js';

void describe('inTransaction', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: PgPool;
  before(async () => {
    db = await createScratchDatabase();
    pool = createPgPool(db.url, { maxConnections: 2 });
    await pool.query('CREATE TABLE t (v text PRIMARY KEY)');
  });
  after(async () => {
    await pool.end();
    await db.drop();
  });
  const values = async () =>
    (await pool.query<{ v: string }>('SELECT v FROM t ORDER BY v')).rows.map((r) => r.v);

  void it('commits what the work wrote and returns its result', async () => {
    const result = await inTransaction(pool, async (c) => {
      await c.query("INSERT INTO t VALUES ('committed')");
      return 42;
    });
    assert.equal(result, 42);
    assert.deepEqual(await values(), ['committed']);
  });

  void it('rolls back everything when the work throws, and rethrows its error', async () => {
    await assert.rejects(
      inTransaction(pool, async (c) => {
        await c.query("INSERT INTO t VALUES ('rolled-back')");
        throw new Error('work failed');
      }),
      /work failed/,
    );
    assert.deepEqual(await values(), ['committed']);
  });

  void it('runs a custom BEGIN, such as one that takes a transaction lock in the same round trip', async () => {
    const held = await inTransaction(
      pool,
      async (c) =>
        (
          await c.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
          )
        ).rows[0]?.n,
      'BEGIN; SELECT pg_advisory_xact_lock(7)',
    );
    assert.equal(held, '1');
    // Released with the transaction: another session takes it at once.
    assert.equal(
      (await pool.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(7) AS ok, pg_advisory_unlock(7)'))
        .rows[0]?.ok,
      true,
    );
  });

  void it('drops a connection that died inside the transaction instead of handing it out again', async () => {
    const dead = new Set<number>();
    await assert.rejects(
      inTransaction(pool, async (c) => {
        const pid = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        dead.add(pid);
        await pool.query('SELECT pg_terminate_backend($1)', [pid]);
        await c.query('SELECT 1');
      }),
    );
    // Every connection the pool hands out now is alive, and none is the terminated one.
    for (let i = 0; i < 3; i++) {
      const pid = await inTransaction(
        pool,
        async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid,
      );
      assert.ok(!dead.has(pid));
    }
    assert.deepEqual(await values(), ['committed']);
  });
});
