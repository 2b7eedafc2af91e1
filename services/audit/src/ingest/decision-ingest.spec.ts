import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decisionEvent, deployment } from '../testing/decision-events.js';
import { auditOnTestDatabase, type AuditOnTestDatabase } from '../testing/audit-database.js';

void describe('DecisionIngest', () => {
  let audit: AuditOnTestDatabase;
  before(async () => {
    audit = await auditOnTestDatabase();
  });
  after(() => audit.close());

  const counts = async () => {
    const [row] = await audit.sql<{ decisions: string; targets: string }>(
      'SELECT (SELECT count(*) FROM decisions) AS decisions, (SELECT count(*) FROM decision_targets) AS targets',
    );
    return { decisions: Number(row!.decisions), targets: Number(row!.targets) };
  };

  void it('records an event once: the same event again is a success that writes nothing', async () => {
    const event = decisionEvent({ id: 'once', changeSet: [{ ...deployment('web'), action: 'configured' }] });
    const first = await audit.ingest.ingest(event);
    assert.equal(first.status, 'recorded');
    const before = await counts();
    const again = await audit.ingest.ingest(event);
    assert.deepEqual(again, { status: 'duplicate', seq: first.seq });
    assert.deepEqual(await counts(), before);
    assert.deepEqual(before, { decisions: 1, targets: 1 });
  });

  void it('records racing deliveries of one event exactly once', async () => {
    const event = decisionEvent({ id: 'race', changeSet: [{ ...deployment('api'), action: 'created' }] });
    const results = await Promise.all(Array.from({ length: 6 }, () => audit.ingest.ingest(event)));
    assert.equal(results.filter((r) => r.status === 'recorded').length, 1);
    const rows = await audit.sql(`SELECT 1 FROM decisions WHERE event_id = 'race'`);
    assert.equal(rows.length, 1);
  });

  void it('stores the decision with its targets, chained to the previous one', async () => {
    const event = decisionEvent({
      id: 'stored',
      commit: 9,
      targets: [deployment('db')],
      changeSet: [{ ...deployment('web'), action: 'configured' }],
    });
    const result = await audit.ingest.ingest(event);
    assert.equal(result.status, 'recorded');
    const [row] = await audit.sql<{
      prev_hash: string;
      hash: string;
      actor_email: string;
      source_commit_message: string;
      recorded_at: Date;
    }>(
      `SELECT prev_hash, hash, actor_email, source_commit_message, recorded_at FROM decisions WHERE event_id = 'stored'`,
    );
    const [previous] = await audit.sql<{ hash: string }>(
      `SELECT hash FROM decisions WHERE seq < $1 ORDER BY seq DESC LIMIT 1`,
      [result.seq.toString()],
    );
    assert.equal(row!.prev_hash, previous!.hash);
    assert.equal(row!.actor_email, 'ada@example.com');
    assert.equal(row!.source_commit_message, 'change 9');
    assert.deepEqual(row!.recorded_at, audit.clock.now());
    const targets = await audit.sql<{ name: string; action: string | null; decision_seq: string }>(
      `SELECT t.name, t.action, t.decision_seq FROM decision_targets t JOIN decisions d ON d.id = t.decision_id
        WHERE d.event_id = 'stored' ORDER BY t.name`,
    );
    assert.deepEqual(
      targets.map((t) => [t.name, t.action, t.decision_seq]),
      [
        ['db', null, result.seq.toString()],
        ['web', 'configured', result.seq.toString()],
      ],
    );
  });

  void it('records a batch in one go: chained in order, duplicates within and across batches written once', async () => {
    const earlier = await audit.ingest.ingest(decisionEvent({ id: 'batch-earlier' }));
    const results = await audit.ingest.ingestBatch([
      decisionEvent({ id: 'batch-a', changeSet: [{ ...deployment('a'), action: 'created' }] }),
      decisionEvent({ id: 'batch-earlier' }),
      decisionEvent({ id: 'batch-b', targets: [deployment('b'), deployment('c')] }),
      decisionEvent({ id: 'batch-a' }),
    ]);
    assert.equal(earlier.status, 'recorded');
    const [a, again, b, aAgain] = results;
    assert.equal(a?.status, 'recorded');
    assert.deepEqual(again, { status: 'duplicate', seq: earlier.seq });
    assert.equal(b?.status, 'recorded');
    assert.deepEqual(aAgain, { status: 'duplicate', seq: a.seq });
    // Consecutive numbers right after the head, b linked to a.
    assert.equal(a.seq, earlier.seq + 1n);
    assert.equal(b.seq, earlier.seq + 2n);
    const [row] = await audit.sql<{ prev_hash: string }>(
      `SELECT prev_hash FROM decisions WHERE event_id = 'batch-b'`,
    );
    assert.equal(row?.prev_hash, a.hash);
    const targets = await audit.sql<{ name: string }>(
      `SELECT name FROM decision_targets WHERE decision_seq IN ($1, $2) ORDER BY name`,
      [a.seq.toString(), (earlier.seq + 2n).toString()],
    );
    assert.deepEqual(
      targets.map((t) => t.name),
      ['a', 'b', 'c'],
    );
    const verdict = await audit.verifier.verify();
    assert.equal(verdict.ok, true);
  });
});
