// `capstan events` run in-process against the real audit service (JetStream -> Postgres -> SSE),
// including a follow that survives the service restarting. It lives in e2e because the CLI's own
// tests may not depend on a service (module boundaries).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startAudit } from '@capstan/audit';
import { decisionEvent, deployment } from '@capstan/audit/testing';
import { run as capstan } from '@capstan/cli';
import { topology, type DeployDecisionRecordedV1 } from '@capstan/events';
import { connectBus, type Bus } from '@capstan/messaging';
import type { StartedService } from '@capstan/platform';
import {
  createTestDatabase,
  sharedCluster,
  testEventPrefix,
  testNatsUrl,
  type TestDatabase,
} from '@capstan/testing';
import { kubeconfigToken } from './support/platform.js';
import { waitFor } from './support/wait.js';

/** A decision of Sync shop/<object> that changed Deployment shop/<object>, as the reconciler publishes it. */
function decision(id: string, n: number, object: string): DeployDecisionRecordedV1 {
  return decisionEvent({
    id,
    commit: n,
    decidedAt: new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + n * 1_000).toISOString(),
    sync: { namespace: 'shop', name: object },
    changeSet: [{ ...deployment(object), action: 'configured' }],
    evidence: { n },
  });
}

/** A port nobody listens on now, so a restarted service can come back at the same URL. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('capstan events against the real audit service', () => {
  const prefix = testEventPrefix();
  let db: TestDatabase;
  let bus: Bus;
  let audit: StartedService | undefined;
  let env: Record<string, string>;
  let cliEnv: Record<string, string>;
  let n = 0;
  const ids: Record<string, string> = {};
  /** Publishes decision `label` (changing Deployment shop/<object>) and remembers its event id. */
  const publish = async (label: string, object: string) => {
    n++;
    ids[label] = `${prefix}-${label}`;
    await bus.publish(decision(ids[label], n, object));
  };
  const auditUrl = () => `http://127.0.0.1:${env['HTTP_PORT']}`;
  /** Waits until the audit log holds `count` decisions (ingest is asynchronous). */
  const recorded = (count: number) =>
    waitFor(`${count} decisions recorded`, async () => {
      const res = await fetch(`${auditUrl()}/api/v1/decisions?limit=500`, {
        headers: { authorization: `Bearer ${cliEnv['CAPSTAN_TOKEN']}` },
      });
      const page = (await res.json()) as { items: unknown[] };
      return page.items.length >= count ? true : undefined;
    });

  before(async () => {
    const { kubeconfigPath } = await sharedCluster();
    db = await createTestDatabase();
    bus = await connectBus({ url: testNatsUrl(), topology: topology(prefix), name: 'events-cli-test' });
    env = {
      DATABASE_URL: db.url,
      NATS_URL: testNatsUrl(),
      EVENT_PREFIX: prefix,
      HTTP_PORT: String(await freePort()),
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      KUBECONFIG: kubeconfigPath,
      // As in production: the CLI's CAPSTAN_TOKEN is checked with TokenReview.
      AUDIT_AUTH: 'kubernetes',
      EVENTS_POLL_MS: '50',
      EVENTS_HEARTBEAT_MS: '500',
    };
    audit = await startAudit(env);
    cliEnv = { CAPSTAN_AUDIT_URL: auditUrl(), CAPSTAN_TOKEN: kubeconfigToken(kubeconfigPath) };
  });
  after(async () => {
    await audit?.close();
    await bus.close();
    await db.drop();
  });

  it('prints the matching decisions up to now and exits, as a table or one JSON object per line', async () => {
    await publish('web-1', 'web');
    await publish('db-1', 'db');
    await publish('web-2', 'web');
    await recorded(3);

    const lines: string[] = [];
    const errors: string[] = [];
    const code = await capstan(
      ['events', '--name', 'web', '-o', 'json'],
      (s) => lines.push(s),
      (s) => errors.push(s),
      cliEnv,
    );
    assert.equal(code, 0, errors.join('\n'));
    const events = lines.map(
      (l) => JSON.parse(l) as { id: string; capstanseq: number; data: { action: string } },
    );
    assert.deepEqual(
      events.map((e) => e.id),
      [ids['web-1'], ids['web-2']],
    );
    assert.ok(events[0]!.capstanseq < events[1]!.capstanseq);

    const table: string[] = [];
    assert.equal(
      await capstan(
        ['events', '--namespace', 'shop'],
        (s) => table.push(s),
        (s) => errors.push(s),
        cliEnv,
      ),
      0,
    );
    assert.match(table[0] ?? '', /^TIME\s+ACTION\s+OBJECTS\s+REVISION\s+ACTOR$/);
    assert.equal(table.length, 4);
    assert.match(
      table[2] ?? '',
      /applied\s+shop\/Deployment\/db\s+main@sha1:0{12}\s+Ada Lovelace <ada@example.com>$/,
    );

    const none: string[] = [];
    assert.equal(
      await capstan(
        ['events', '--name', 'nothing'],
        (s) => none.push(s),
        (s) => errors.push(s),
        cliEnv,
      ),
      0,
    );
    assert.deepEqual(none, ['No decisions match.']);
    // Without the token the API refuses, and the CLI says so instead of retrying.
    const refused: string[] = [];
    assert.equal(
      await capstan(
        ['events', '--follow'],
        () => undefined,
        (s) => refused.push(s),
        { CAPSTAN_AUDIT_URL: auditUrl() },
      ),
      1,
    );
    assert.match(refused.join('\n'), /401/);
  });

  it('follows new decisions and resumes after a server restart with no gap and no repeat', async () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const stop = new AbortController();
    const seen = () => lines.map((l) => (JSON.parse(l) as { id: string }).id);
    const following = capstan(
      ['events', '--follow', '--name', 'web', '-o', 'json'],
      (s) => lines.push(s),
      (s) => errors.push(s),
      cliEnv,
      stop.signal,
    );
    try {
      // The follow starts at now: the earlier decisions are not printed again.
      await publish('web-3', 'web');
      await waitFor('web-3 followed', () => (seen().includes(ids['web-3']!) ? true : undefined));

      await audit?.close();
      audit = undefined;
      // Recorded by nobody yet: they wait in JetStream while the service is down.
      await publish('web-4', 'web');
      await publish('db-2', 'db');
      await publish('web-5', 'web');
      await waitFor('the CLI noticing the disconnect', () =>
        errors.some((e) => e.startsWith('reconnecting')) ? true : undefined,
      );
      audit = await startAudit(env);
      await publish('web-6', 'web');

      await waitFor('web-6 followed', () => (seen().includes(ids['web-6']!) ? true : undefined), 60_000);
      assert.deepEqual(seen(), [ids['web-3'], ids['web-4'], ids['web-5'], ids['web-6']]);
    } finally {
      stop.abort();
    }
    assert.equal(await following, 0, errors.join('\n'));
  });
});
