import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPgPool, createPrismaClient } from '@capstan/db';
import { DecisionIngest } from '../ingest/decision-ingest.service.js';
import { DecisionRepository } from '../persistence/decision.repository.js';
import { decisionEvent, deployment, fixedIds } from '../testing/decision-events.js';
import { auditOnTestDatabase, manualClock, type AuditOnTestDatabase } from '../testing/audit-database.js';

void describe('hash chain in Postgres', () => {
  let audit: AuditOnTestDatabase;
  before(async () => {
    audit = await auditOnTestDatabase();
  });
  after(() => audit.close());

  const seqOf = async (eventId: string) =>
    BigInt(
      (await audit.sql<{ seq: string }>('SELECT seq FROM decisions WHERE event_id = $1', [eventId]))[0]!.seq,
    );

  /** Edits a row the way only a superuser can: with triggers off for this session. */
  const tamper = (sql: string, params: unknown[]) =>
    audit.sql(
      `SET session_replication_role = replica; ${sql}`.replace(
        /\$(\d)/g,
        (_m, i: string) => `'${String(params[Number(i) - 1])}'`,
      ),
    );

  void it('stays intact through awkward JSON: key order, unicode, numbers, nulls', async () => {
    await audit.ingest.ingest(
      decisionEvent({
        id: 'json',
        evidence: {
          z: 1,
          a: {
            ключ: 'значение ✓',
            n: [0.1, 1e21, -0, 5e-324, null],
            emptyObj: {},
            s: 'line\nbreak "quoted"',
          },
        },
        changeSet: [{ ...deployment('web'), action: 'configured', message: 'ok' }],
      }),
    );
    assert.deepEqual(await audit.verifier.verify(), { ok: true, checked: 1 });
  });

  void it('keeps one gap-free chain when two replicas append at the same time', async () => {
    // Two clients, two pools: the lock, not a shared connection, must serialize them.
    const replica = createPrismaClient(audit.url);
    const replicaPool = createPgPool(audit.url);
    const other = new DecisionIngest(
      new DecisionRepository(replica, replicaPool),
      manualClock(),
      fixedIds('01936f00-0000-7000-9000-'),
    );
    try {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? audit.ingest : other).ingest(
            decisionEvent({ id: `burst-${i}`, commit: i + 2, targets: [deployment(`svc-${i % 3}`)] }),
          ),
        ),
      );
    } finally {
      await replica.$disconnect();
      await replicaPool.end();
    }
    const report = await audit.verifier.verify();
    assert.deepEqual(report, { ok: true, checked: 21 });
    const forks = await audit.sql(`SELECT prev_hash FROM decisions GROUP BY prev_hash HAVING count(*) > 1`);
    assert.deepEqual(forks, []);
  });

  void it('reports exactly the seq of a row edited behind the triggers back', async () => {
    const seq = await seqOf('burst-7');
    await tamper(`UPDATE decisions SET message = 'nothing to see here' WHERE event_id = $1`, ['burst-7']);
    const [upTo] = await audit.sql<{ n: string }>('SELECT count(*) AS n FROM decisions WHERE seq <= $1', [
      seq.toString(),
    ]);
    assert.deepEqual(await audit.verifier.verify(), {
      ok: false,
      checked: Number(upTo!.n),
      firstBrokenSeq: seq,
      reason: 'hash-mismatch',
    });
  });

  void it('catches an edited target too, and a deleted row', async () => {
    // Repair the earlier edit first is impossible (that is the point), so use a fresh database.
    const fresh = await auditOnTestDatabase();
    try {
      for (let i = 1; i <= 4; i++) {
        await fresh.ingest.ingest(
          decisionEvent({
            id: `d${i}`,
            commit: i,
            changeSet: [{ ...deployment('web'), action: 'configured' }],
          }),
        );
      }
      const seq3 = BigInt(
        (await fresh.sql<{ seq: string }>(`SELECT seq FROM decisions WHERE event_id = 'd3'`))[0]!.seq,
      );
      await fresh.sql(
        `SET session_replication_role = replica;
         UPDATE decision_targets SET action = 'deleted' WHERE decision_id = (SELECT id FROM decisions WHERE event_id = 'd3')`,
      );
      assert.deepEqual(await fresh.verifier.verify(), {
        ok: false,
        checked: 3,
        firstBrokenSeq: seq3,
        reason: 'hash-mismatch',
      });

      const seq2 = BigInt(
        (await fresh.sql<{ seq: string }>(`SELECT seq FROM decisions WHERE event_id = 'd2'`))[0]!.seq,
      );
      await fresh.sql(
        `SET session_replication_role = replica;
         DELETE FROM decision_targets WHERE decision_id = (SELECT id FROM decisions WHERE event_id = 'd1');
         DELETE FROM decisions WHERE event_id = 'd1'`,
      );
      // The first remaining row now points at a predecessor that is gone.
      assert.deepEqual(await fresh.verifier.verify(), {
        ok: false,
        checked: 1,
        firstBrokenSeq: seq2,
        reason: 'prev-hash-mismatch',
      });
    } finally {
      await fresh.close();
    }
  });
});
