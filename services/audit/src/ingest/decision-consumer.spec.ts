import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { encodeEvent, topology, type Topology } from '@capstan/events';
import { connectBus, consumerName, DLQ_HEADERS, type Bus } from '@capstan/messaging';
import { startService, type StartedService } from '@capstan/platform';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import pg from 'pg';
import { AuditModule } from '../audit.module.js';
import { AUDIT_DURABLE } from '../messaging.js';
import { auditOnTestDatabase, type AuditOnTestDatabase } from '../testing/audit-database.js';
import { decisionEvent, deployment } from '../testing/decision-events.js';
import { testNatsUrl } from '../testing/env.js';
import { DecisionStreamConsumer } from './decision-stream.consumer.js';

/** Polls until `check` returns a value, or fails after the deadline; never a fixed sleep. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const privateTopology = () => topology(`t-audit-${randomBytes(4).toString('hex')}`);

void describe('decision events from JetStream', () => {
  let db: TestDatabase;
  let service: StartedService;
  let publisher: Bus;
  let t: Topology;

  const rows = async (eventId: string) => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query('SELECT seq FROM decisions WHERE event_id = $1', [eventId])).rowCount ?? 0;
    } finally {
      await client.end();
    }
  };

  before(async () => {
    db = await createTestDatabase();
    // A private stream prefix per run, so nothing else on the server is consumed or disturbed.
    t = privateTopology();
    const bus = await connectBus({ url: testNatsUrl(), topology: t, name: 'audit-test' });
    publisher = await connectBus({ url: testNatsUrl(), topology: t, name: 'audit-test-publisher' });
    service = await startService(
      AuditModule.forRoot({ databaseUrl: db.url, bus, auth: { mode: 'disabled' } }),
      { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    );
  });
  after(async () => {
    await service.close();
    for (const s of [t.streams.events.name, t.streams.deadLetter.name])
      await publisher.jsm.streams.delete(s).catch(() => undefined);
    await publisher.close();
    await db.drop();
  });

  void it('records a published decision', async () => {
    await publisher.publish(
      decisionEvent({ id: 'nats-1', changeSet: [{ ...deployment('web'), action: 'configured' }] }),
    );
    await eventually('decision nats-1 in the log', async () =>
      (await rows('nats-1')) === 1 ? true : undefined,
    );
  });

  void it('acks a redelivered event without recording it twice', async () => {
    const event = decisionEvent({ id: 'nats-2' });
    await publisher.publish(event);
    await eventually('decision nats-2 in the log', async () =>
      (await rows('nats-2')) === 1 ? true : undefined,
    );
    // A copy past JetStream's duplicate window (another message id): the consumer must see it and drop it.
    const copy = await publisher.js.publish(t.subjectFor(event), encodeEvent(event), {
      msgID: 'nats-2-copy',
    });
    const name = consumerName(AUDIT_DURABLE, 'decisions');
    await eventually('the copy to be acknowledged', async () => {
      const info = await publisher.jsm.consumers.info(t.streams.events.name, name);
      return info.ack_floor.stream_seq >= copy.seq ? true : undefined;
    });
    assert.equal(await rows('nats-2'), 1);
    const dlq = await publisher.jsm.streams.info(t.streams.deadLetter.name);
    assert.equal(dlq.state.messages, 0);
  });
});

void describe('batched ingest with a poison decision in the batch', () => {
  let audit: AuditOnTestDatabase;
  let bus: Bus;
  let t: Topology;
  let consumer: DecisionStreamConsumer;

  before(async () => {
    audit = await auditOnTestDatabase();
    t = privateTopology();
    bus = await connectBus({ url: testNatsUrl(), topology: t, name: 'audit-batch-test' });
  });
  after(async () => {
    await consumer.stop();
    for (const s of [t.streams.events.name, t.streams.deadLetter.name])
      await bus.jsm.streams.delete(s).catch(() => undefined);
    await bus.close();
    await audit.close();
  });

  void it('records the good ones together and dead-letters only the bad one', async () => {
    // Published before the consumer starts, so the first pull hands over all of them as one batch.
    const ids = Array.from({ length: 30 }, (_, i) => `batch-${i}`);
    for (const id of ids) {
      // Postgres refuses NUL in text: an event that passes validation but can never be stored.
      const poison = id === 'batch-13';
      await bus.publish(decisionEvent({ id, ...(poison ? { message: 'bad \u0000 byte' } : {}) }));
    }
    consumer = new DecisionStreamConsumer(bus, audit.ingest, {
      durable: 'audit-batch-test',
      maxBatch: 50,
      maxWaitMs: 50,
      retry: { maxDeliver: 3, backoffMs: [50] },
    });
    await consumer.start();

    const dlq = await bus.js.consumers.get(t.streams.deadLetter.name);
    const dead = await dlq.next({ expires: 20_000 });
    assert.ok(dead, 'the poison decision was dead-lettered');
    assert.match(dead.headers?.get(DLQ_HEADERS.reason) ?? '', /./);
    assert.equal(dead.headers?.get(DLQ_HEADERS.deliveries), '3');
    assert.equal(JSON.parse(dead.string()).id, 'batch-13');

    const recorded = await eventually('the 29 good decisions', async () => {
      const r = await audit.sql<{ event_id: string; seq: string }>(
        `SELECT event_id, seq FROM decisions ORDER BY seq`,
      );
      return r.length === 29 ? r : undefined;
    });
    assert.deepEqual(
      recorded.map((r) => r.event_id),
      ids.filter((id) => id !== 'batch-13'),
    );
    // Gapless: the rolled-back batch burned no sequence numbers.
    assert.deepEqual(
      recorded.map((r) => Number(r.seq)),
      Array.from({ length: 29 }, (_, i) => i + 1),
    );
    assert.deepEqual(await audit.verifier.verify(), { ok: true, checked: 29 });
  });
});
