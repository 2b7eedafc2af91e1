import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { migrate } from './migrations/index.js';
import { createScratchDatabase } from './testing/scratch-database.js';

// The audit tables refuse every change but INSERT, whoever asks (the triggers run for the owner too).
void describe('append-only audit tables', () => {
  let db: { url: string; drop(): Promise<void> };
  let client: pg.Client;
  const hash = (c: string) => c.repeat(64);

  before(async () => {
    db = await createScratchDatabase();
    await migrate(db.url);
    client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query(
      `INSERT INTO decisions (id, event_id, event_source, time, recorded_at, action, outcome, reason, message,
         actor_kind, actor_name, actor_evidence, cluster, decided_by_kind, decided_by_namespace, decided_by_name, prev_hash, hash)
       VALUES ('0193a1b2-0000-7000-8000-000000000001', 'e1', '/test', now(), now(), 'applied', 'succeeded', 'R', 'm',
         'person', 'Ada', 'commit-author', 'local', 'Sync', 'default', 'app', $1, $2)`,
      [hash('0'), hash('a')],
    );
    await client.query(
      `INSERT INTO decision_targets (decision_id, decision_seq, namespace, kind, api_version, name, action)
       SELECT id, seq, 'default', 'Deployment', 'apps/v1', 'web', 'created' FROM decisions`,
    );
  });
  after(async () => {
    await client.end();
    await db.drop();
  });

  const refused = (sql: string) =>
    assert.rejects(
      client.query(sql),
      (e: unknown) => (e as { code?: string }).code === '23001' && /append-only/.test((e as Error).message),
    );

  void it('refuses UPDATE, DELETE and TRUNCATE of decisions', async () => {
    await refused(`UPDATE decisions SET message = 'rewritten'`);
    await refused(`DELETE FROM decisions`);
    await refused(`TRUNCATE decisions CASCADE`);
  });

  void it('refuses UPDATE, DELETE and TRUNCATE of decision_targets', async () => {
    await refused(`UPDATE decision_targets SET action = 'deleted'`);
    await refused(`DELETE FROM decision_targets`);
    await refused(`TRUNCATE decision_targets`);
  });

  void it('still accepts inserts and leaves the rows as they were', async () => {
    const { rows } = await client.query<{ message: string; n: string }>(
      `SELECT message, (SELECT count(*) FROM decision_targets) AS n FROM decisions`,
    );
    assert.deepEqual(rows, [{ message: 'm', n: '1' }]);
  });
});
