import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPgPool, createPrismaClient } from '@capstan/db';
import { StepHooks } from '@capstan/platform';
import { DecisionIngest } from '../ingest/decision-ingest.service.js';
import type { ChainedDecision } from '../domain/decision-record.js';
import { cdeventOf } from '../subscriptions/payload.js';
import { OutboxRepository } from '../subscriptions/outbox.repository.js';
import { clusterRole, decisionEvent, deployment, fixedIds } from '../testing/decision-events.js';
import { auditOnTestDatabase, manualClock, type AuditOnTestDatabase } from '../testing/audit-database.js';
import { DecisionRepository } from './decision.repository.js';
import { fromRow } from './decision-row.js';
import { decisionsAfter, queryDecisionRows, type DecisionSelectRow } from './decision-select.sql.js';
import { RecentDecisions } from './recent-decisions.js';

// The relays (CDEvents, webhook fan-out) take what this process committed from memory instead of
// reading it back: that is only right if the decision in memory is the row, and if a relay still
// reads from Postgres whatever this process did not commit itself.
void describe('decisions handed to the relays in memory', () => {
  let audit: AuditOnTestDatabase;
  const recent = new RecentDecisions();
  let ingest: DecisionIngest;
  let outbox: OutboxRepository;
  before(async () => {
    audit = await auditOnTestDatabase();
    ingest = new DecisionIngest(
      new DecisionRepository(audit.prisma, audit.pool, StepHooks.none, recent),
      audit.clock,
      fixedIds('01936f00-0000-7000-a000-'),
    );
    outbox = new OutboxRepository(audit.prisma, audit.pool, recent);
  });
  after(() => audit.close());

  /** The decisions after `seq` as a relay reads them from Postgres. */
  const readBack = async (seq: bigint) =>
    (await queryDecisionRows<DecisionSelectRow>(audit.pool, decisionsAfter(seq, 100))).map(fromRow);

  /**
   * Runs each kind of relay once (the fan-out's in a Prisma transaction, the CDEvents publisher's
   * through pg, each with its own cursor) and gives what it handed on; both must agree.
   */
  const relayOnce = async (limit = 100) => {
    const inTransaction: ChainedDecision[] = [];
    const outward: ChainedDecision[] = [];
    await outbox.relay('in-transaction', limit, audit.clock.now(), async (decisions) => {
      inTransaction.push(...decisions);
    });
    await outbox.relayOutward('outward', limit, audit.clock.now(), async (decisions) => {
      outward.push(...decisions);
    });
    assert.deepEqual(outward, inTransaction);
    return outward;
  };

  void it('are exactly the rows a read gives back, and make the same CDEvents', async () => {
    await relayOnce(); // the cursors start at the head of the (empty) log
    await ingest.ingestBatch([
      decisionEvent({
        id: 'awkward',
        // Targets out of their stored order, a cluster-scoped one, a change set on top.
        targets: [deployment('web'), clusterRole('reader'), deployment('api', 'billing')],
        changeSet: [{ ...deployment('web'), action: 'configured' }],
        evidence: { z: 1, a: { ключ: 'значение ✓', n: [0.1, 1e21, null], s: 'line\nbreak "q"' } },
      }),
      decisionEvent({ id: 'no-source', withoutSource: true, commit: 3 }),
      decisionEvent({ id: 'image', commit: 4, image: { repository: 'ghcr.io/acme/web', tag: '1.2.3' } }),
    ]);
    const fromMemory = recent.after(0n, 10);
    assert.deepEqual(
      fromMemory.map((d) => d.eventId),
      ['awkward', 'no-source', 'image'],
    );
    const stored = await readBack(0n);
    assert.deepEqual(fromMemory, stored);
    assert.deepEqual(
      fromMemory.map((d) => JSON.stringify(cdeventOf(d))),
      stored.map((d) => JSON.stringify(cdeventOf(d))),
    );
    assert.deepEqual(await relayOnce(), fromMemory);
    assert.deepEqual(await relayOnce(), [], 'the cursor moved past them');
  });

  void it('are sent again after a failed send: the cursor stays', async () => {
    await ingest.ingest(decisionEvent({ id: 'retried', commit: 8 }));
    await assert.rejects(
      outbox.relayOutward('outward', 100, audit.clock.now(), () => Promise.reject(new Error('NATS down'))),
    );
    assert.deepEqual(
      (await relayOnce()).map((d) => d.eventId),
      ['retried'],
    );
  });

  void it('leave out a batch that was rolled back', async () => {
    const failing = new DecisionIngest(
      new DecisionRepository(audit.prisma, audit.pool, failAt('audit.batch-inserted'), recent),
      audit.clock,
      fixedIds('01936f00-0000-7000-b000-'),
    );
    await assert.rejects(failing.ingestBatch([decisionEvent({ id: 'rolled-back', commit: 9 })]));
    assert.deepEqual(recent.after(4n, 10), []);
    assert.deepEqual(await relayOnce(), []);
  });

  void it('read from Postgres what another replica committed, in seq order, without gaps', async () => {
    const otherPool = createPgPool(audit.url);
    const otherPrisma = createPrismaClient(audit.url);
    try {
      const other = new DecisionIngest(
        new DecisionRepository(otherPrisma, otherPool, StepHooks.none, new RecentDecisions()),
        manualClock(),
        fixedIds('01936f00-0000-7000-c000-'),
      );
      // Seqs 5-6 by the other replica, 7-8 here, 9 there, 10 here.
      await other.ingestBatch([
        decisionEvent({ id: 'o1', commit: 10 }),
        decisionEvent({ id: 'o2', commit: 11 }),
      ]);
      await ingest.ingestBatch([
        decisionEvent({ id: 'm1', commit: 12 }),
        decisionEvent({ id: 'm2', commit: 13 }),
      ]);
      await other.ingest(decisionEvent({ id: 'o3', commit: 14 }));
      await ingest.ingest(decisionEvent({ id: 'm3', commit: 15 }));

      const relayed: ChainedDecision[] = [];
      for (let step = 0; step < 10; step++) relayed.push(...(await relayOnce(2)));
      assert.deepEqual(
        relayed.map((d) => [d.seq, d.eventId]),
        [
          [5n, 'o1'],
          [6n, 'o2'],
          [7n, 'm1'],
          [8n, 'm2'],
          [9n, 'o3'],
          [10n, 'm3'],
        ],
      );
      assert.deepEqual(relayed, await readBack(4n));
      assert.deepEqual(await audit.verifier.verify(), { ok: true, checked: 10 });
    } finally {
      await otherPrisma.$disconnect();
      await otherPool.end();
    }
  });
});

void describe('RecentDecisions', () => {
  const decision = (seq: number) => ({ seq: BigInt(seq) }) as ChainedDecision;
  const seqs = (ds: ChainedDecision[]) => ds.map((d) => Number(d.seq));

  void it('gives the run after a seq up to the first one it lacks, at most the limit', () => {
    const recent = new RecentDecisions();
    recent.add([decision(5), decision(6), decision(7)]);
    recent.add([decision(9)]);
    assert.deepEqual(seqs(recent.after(4n, 10)), [5, 6, 7]);
    assert.deepEqual(seqs(recent.after(5n, 1)), [6]);
    assert.deepEqual(seqs(recent.after(8n, 10)), [9]);
    assert.deepEqual(seqs(recent.after(3n, 10)), [], 'seq 4 is not held: read it from Postgres');
  });

  void it('keeps the newest 2,000 and tells its listeners of each add', () => {
    const recent = new RecentDecisions();
    let told = 0;
    const stop = recent.onAdded(() => told++);
    recent.add(Array.from({ length: 2_500 }, (_, i) => decision(i + 1)));
    assert.deepEqual(recent.after(0n, 10), []);
    assert.deepEqual(seqs(recent.after(500n, 2)), [501, 502]);
    assert.equal(recent.after(500n, 5_000).length, 2_000);
    stop();
    recent.add([decision(2_501)]);
    assert.equal(told, 1);
  });
});

/** StepHooks that throw at one step, as a crash there would end the transaction. */
function failAt(step: 'audit.batch-inserted'): StepHooks {
  const hooks = new StepHooks({ TEST_PAUSE_AT: [], TEST_PAUSE_MS: 0 });
  hooks.step = (s) => {
    if (s === step) throw new Error(`failing at ${s}`);
  };
  return hooks;
}
