import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startAudit } from '@capstan/audit';
import { decisionEvent } from '@capstan/audit/testing';
import { run as capstan } from '@capstan/cli';
import { topology, type DeployDecisionRecordedV1 } from '@capstan/events';
import { connectBus, type Bus } from '@capstan/messaging';
import { createTestDatabase, testEventPrefix, testNatsUrl, type TestDatabase } from '@capstan/testing';
import { waitFor } from './support/wait.js';

// `capstan audit verify` against the real audit service, before and after a row is edited
// behind the append-only triggers' back.
function decision(n: number): DeployDecisionRecordedV1 {
  return decisionEvent({
    id: `verify-cli-${n}`,
    commit: n,
    decidedAt: new Date(Date.UTC(2026, 10, 22, 12, 0, n)).toISOString(),
    sync: { namespace: 'shop', name: 'web' },
  });
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
