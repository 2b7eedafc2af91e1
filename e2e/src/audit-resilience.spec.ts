import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startAudit } from '@capstan/audit';
import { decisionEvent, deployment } from '@capstan/audit/testing';
import { topology, type DeployDecisionRecordedV1, type Topology } from '@capstan/events';
import { connectBus, consumerName, type Bus } from '@capstan/messaging';
import type { StartedService } from '@capstan/platform';
import {
  createTestDatabase,
  startPrivatePostgres,
  testNatsUrl,
  type PrivatePostgres,
} from '@capstan/testing';
import { waitFor } from './support/wait.js';

// The scenario: the database is gone for two minutes while decisions keep coming.
const OUTAGE_MS = 2 * 60_000;

/** A valid decision event, as the reconciler publishes it. */
function decision(id: string, n: number): DeployDecisionRecordedV1 {
  return decisionEvent({
    id,
    commit: n,
    decidedAt: new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + n * 1_000).toISOString(),
    sync: { namespace: 'apps', name: `app-${n % 7}` },
    changeSet: [{ ...deployment(`web-${n % 11}`, 'apps'), action: 'configured' }],
    evidence: { n },
  });
}

async function query<R extends pg.QueryResultRow>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function http(service: StartedService, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${service.port}${path}`);
  return { status: res.status, body: await res.json().catch(() => undefined) };
}

/** A private stream prefix, a fresh database on the private server, audit replicas on both. */
async function auditSetup(server: PrivatePostgres) {
  const db = await createTestDatabase({ serverUrl: server.url });
  const prefix = `t-resil-${randomBytes(4).toString('hex')}`;
  const t: Topology = topology(prefix);
  const publisher: Bus = await connectBus({ url: testNatsUrl(), topology: t, name: 'audit-resilience' });
  const replicas: StartedService[] = [];
  const env = {
    DATABASE_URL: db.url,
    NATS_URL: testNatsUrl(),
    EVENT_PREFIX: prefix,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    AUDIT_AUTH: 'disabled',
  };
  return {
    db,
    t,
    publisher,
    async replica() {
      const service = await startAudit(env);
      replicas.push(service);
      return service;
    },
    async publish(ids: string[], first: number) {
      // In parallel, as reconciler replicas would: stream order is whatever JetStream makes it.
      for (let i = 0; i < ids.length; i += 100) {
        await Promise.all(
          ids.slice(i, i + 100).map((id, j) => publisher.publish(decision(id, first + i + j))),
        );
      }
    },
    async deadLetters() {
      return (await publisher.jsm.streams.info(t.streams.deadLetter.name)).state.messages;
    },
    async close() {
      for (const r of replicas) await r.close();
      for (const s of [t.streams.events.name, t.streams.deadLetter.name])
        await publisher.jsm.streams.delete(s).catch(() => undefined);
      await publisher.close();
      await db.drop();
    },
  };
}
type AuditSetup = Awaited<ReturnType<typeof auditSetup>>;

/** Every expected event id exactly once, seq 1..n without a gap. */
async function assertLogHoldsExactly(url: string, ids: readonly string[]) {
  const rows = await query<{ event_id: string; seq: string }>(
    url,
    'SELECT event_id, seq FROM decisions ORDER BY seq',
  );
  assert.equal(rows.length, ids.length, 'one row per decision');
  assert.deepEqual(new Set(rows.map((r) => r.event_id)), new Set(ids));
  assert.deepEqual(
    rows.map((r) => Number(r.seq)),
    rows.map((_, i) => i + 1),
    'seq has no gaps',
  );
}

void describe('audit log resilience', () => {
  let server: PrivatePostgres;
  before(async () => {
    server = await startPrivatePostgres();
  });
  after(() => server.destroy());

  void describe('a two-minute Postgres outage', () => {
    let setup: AuditSetup;
    before(async () => {
      setup = await auditSetup(server);
    });
    after(() => setup.close());

    void it('loses nothing: every decision lands exactly once, the chain verifies, nothing is dead-lettered', async () => {
      const audit = await setup.replica();
      const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => `outage-${from + i}`);
      const before = ids(0, 50);
      await setup.publish(before, 0);
      await waitFor('the first decisions in the log', async () => {
        const [row] = await query<{ n: string }>(setup.db.url, 'SELECT count(*) AS n FROM decisions');
        return Number(row?.n) === before.length ? true : undefined;
      });

      await server.stop();
      const outageEnds = Date.now() + OUTAGE_MS;
      await waitFor('/readyz to report the database', async () => {
        const r = await http(audit, '/readyz');
        return r.status === 503 ? r : undefined;
      });
      // Decisions keep coming all through the outage, in waves.
      const during: string[] = [];
      for (let wave = 0; Date.now() < outageEnds; wave++) {
        const next = ids(1_000 + wave * 100, 40);
        await setup.publish(next, 1_000 + wave * 100);
        during.push(...next);
        await new Promise((r) => setTimeout(r, Math.min(15_000, Math.max(0, outageEnds - Date.now()))));
        // Still alive and honest about it, and nothing given up on.
        assert.equal((await http(audit, '/healthz')).status, 200);
        assert.equal((await http(audit, '/readyz')).status, 503);
        assert.equal(await setup.deadLetters(), 0);
      }
      await server.start();

      const all = [...before, ...during];
      await waitFor(
        'every decision in the log',
        async () => {
          const [row] = await query<{ n: string }>(setup.db.url, 'SELECT count(*) AS n FROM decisions');
          return Number(row?.n) >= all.length ? true : undefined;
        },
        60_000,
      );
      await waitFor('/readyz to be ready again', async () =>
        (await http(audit, '/readyz')).status === 200 ? true : undefined,
      );
      const name = consumerName('audit', 'decisions');
      await waitFor('every message acknowledged', async () => {
        const info = await setup.publisher.jsm.consumers.info(setup.t.streams.events.name, name);
        return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
      });
      await assertLogHoldsExactly(setup.db.url, all);
      assert.deepEqual((await http(audit, '/api/v1/audit/verify')).body, { ok: true, checked: all.length });
      assert.equal(await setup.deadLetters(), 0);
    });
  });

  void describe('three replicas on one database and one durable consumer', () => {
    let setup: AuditSetup;
    before(async () => {
      setup = await auditSetup(server);
    });
    after(() => setup.close());

    void it('ingest 2,000 decisions together: no duplicates, no gaps in seq, the chain verifies', async () => {
      const [a] = await Promise.all([setup.replica(), setup.replica(), setup.replica()]);
      assert.ok(a);
      const ids = Array.from({ length: 2_000 }, (_, i) => `pair-${i}`);
      await setup.publish(ids, 0);
      await waitFor(
        'all 2,000 decisions in the log',
        async () => {
          const [row] = await query<{ n: string }>(setup.db.url, 'SELECT count(*) AS n FROM decisions');
          return Number(row?.n) >= ids.length ? true : undefined;
        },
        120_000,
      );
      await assertLogHoldsExactly(setup.db.url, ids);
      assert.deepEqual((await http(a, '/api/v1/audit/verify')).body, { ok: true, checked: ids.length });
      assert.equal(await setup.deadLetters(), 0);
    });
  });
});
