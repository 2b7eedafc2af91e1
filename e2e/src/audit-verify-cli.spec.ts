import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startAudit } from '@capstan/audit';
import { run as capstan } from '@capstan/cli';
import {
  DEPLOY_DECISION_RECORDED_V1,
  parseEvent,
  topology,
  type DeployDecisionRecordedV1,
} from '@capstan/events';
import { connectBus, type Bus } from '@capstan/messaging';
import { createTestDatabase, testEventPrefix, testNatsUrl, type TestDatabase } from '@capstan/testing';
import { waitFor } from './support/wait.js';

// `capstan audit verify` against the real audit service, before and after a row is edited
// behind the append-only triggers' back.
function decision(n: number): DeployDecisionRecordedV1 {
  const at = new Date(Date.UTC(2026, 10, 22, 12, 0, n)).toISOString();
  const sha = n.toString(16).padStart(40, 'a');
  const who = { name: 'Ada', email: 'ada@example.com' };
  return parseEvent({
    specversion: '1.0',
    id: `verify-cli-${n}`,
    source: '/capstan/reconciler',
    type: DEPLOY_DECISION_RECORDED_V1,
    subject: 'Sync/shop/web',
    time: at,
    datacontenttype: 'application/json',
    data: {
      action: 'applied',
      outcome: 'succeeded',
      reason: 'ReconciliationSucceeded',
      message: `change ${n}`,
      decidedBy: { kind: 'Sync', namespace: 'shop', name: 'web' },
      cluster: 'local',
      actor: { kind: 'person', ...who, evidence: 'commit-author' },
      source: {
        repository: 'shop/app',
        url: 'https://git.example.com/app.git',
        ref: 'branch/main',
        revision: `main@sha1:${sha}`,
        sha,
        parents: [],
        message: `change ${n}`,
        author: { ...who, time: at },
        committer: { ...who, time: at },
      },
      decidedAt: at,
    },
  }) as DeployDecisionRecordedV1;
}

describe('capstan audit verify', () => {
  let db: TestDatabase;
  let bus: Bus;
  let audit: Awaited<ReturnType<typeof startAudit>>;
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const code = await capstan(
      ['audit', 'verify', '--server', `http://127.0.0.1:${audit.port}`, ...args],
      (s) => out.push(s),
      (s) => out.push(s),
      {},
    );
    return { code, text: out.join('\n') };
  };

  before(async () => {
    db = await createTestDatabase();
    const prefix = testEventPrefix();
    bus = await connectBus({ url: testNatsUrl(), topology: topology(prefix) });
    audit = await startAudit({
      DATABASE_URL: db.url,
      NATS_URL: testNatsUrl(),
      EVENT_PREFIX: prefix,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      AUDIT_AUTH: 'disabled',
    });
    for (let n = 1; n <= 5; n++) await bus.publish(decision(n));
  });
  after(async () => {
    await audit.close();
    await bus.close();
    await db.drop();
  });

  it('says the log is intact, then names the first link broken by an edit', async () => {
    await waitFor('5 decisions recorded', async () => {
      const { text } = await cli('-o', 'json');
      return (JSON.parse(text) as { checked: number }).checked === 5 ? true : undefined;
    });
    const intact = await cli();
    assert.equal(intact.code, 0);
    assert.match(intact.text, /intact: 5 decisions/);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      // A superuser edit that bypasses the append-only triggers, as an attacker with DB access would.
      await client.query('SET session_replication_role = replica');
      await client.query(`UPDATE decisions SET message = 'nothing happened' WHERE event_id = 'verify-cli-3'`);
      const { rows } = await client.query<{ seq: string }>(
        `SELECT seq::text FROM decisions WHERE event_id = 'verify-cli-3'`,
      );
      const broken = await cli();
      assert.equal(broken.code, 1);
      assert.match(broken.text, new RegExp(`BROKEN at seq ${rows[0]?.seq ?? '?'}`));
    } finally {
      await client.end();
    }
  });
});
