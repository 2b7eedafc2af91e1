import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startService, type StartedService } from '@capstan/platform';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { AuditModule } from '../audit.module.js';
import { DecisionIngest } from '../ingest/decision-ingest.service.js';
import {
  ada,
  clusterRole,
  decisionEvent,
  deployment,
  fixedIds,
  grace,
  sha,
} from '../testing/decision-events.js';
import { manualClock } from '../testing/audit-database.js';
import type { DecisionView, ObjectHistoryEntryView, PageView } from './views.js';

type History = { status: number; body: PageView<ObjectHistoryEntryView> };

void describe('audit HTTP API', () => {
  let db: TestDatabase;
  let service: StartedService;
  let base: string;
  let ingest: DecisionIngest;
  const clock = manualClock();

  const get = async (path: string): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(base + path);
    return { status: res.status, body: await res.json() };
  };
  const list = async (query: string) => {
    const { status, body } = await get(`/api/v1/decisions${query}`);
    assert.equal(status, 200, JSON.stringify(body));
    return body as PageView<DecisionView>;
  };
  const eventIds = (page: PageView<DecisionView>) => page.items.map((d) => d.eventId);

  let n = 0;
  const record = async (
    spec: Omit<Parameters<typeof decisionEvent>[0], 'id' | 'decidedAt'> & { id?: string },
  ) => {
    n++;
    clock.advance(1000);
    await ingest.ingest(
      decisionEvent({
        id: `ev-${n}`,
        decidedAt: new Date(Date.UTC(2026, 10, 22, 10, 0, n)).toISOString(),
        ...spec,
      }),
    );
  };

  before(async () => {
    db = await createTestDatabase();
    service = await startService(
      AuditModule.forRoot({ databaseUrl: db.url, clock, ids: fixedIds(), auth: { mode: 'disabled' } }),
      { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    );
    base = `http://127.0.0.1:${service.port}`;
    ingest = service.app.get(DecisionIngest);

    // ev-1 .. ev-6 at 10:00:01 .. 10:00:06
    await record({
      commit: 1,
      changeSet: [
        { ...deployment('web'), action: 'created' },
        { ...deployment('db'), action: 'created' },
      ],
    });
    await record({
      commit: 2,
      author: grace,
      message: 'scale web',
      changeSet: [{ ...deployment('web'), action: 'configured' }],
    });
    await record({
      commit: 3,
      action: 'drift.corrected',
      changeSet: [{ ...deployment('db'), action: 'configured' }],
    });
    await record({ commit: 4, changeSet: [{ ...clusterRole('reader'), action: 'created' }] });
    await record({ commit: 5, action: 'failed', outcome: 'failed', targets: [deployment('web')] });
    await record({
      commit: 6,
      author: grace,
      changeSet: [{ ...deployment('web', 'staging'), action: 'created' }],
    });
  });
  after(async () => {
    await service.close();
    await db.drop();
  });

  void it('lists decisions newest first with everything the log keeps', async () => {
    const page = await list('');
    assert.deepEqual(eventIds(page), ['ev-6', 'ev-5', 'ev-4', 'ev-3', 'ev-2', 'ev-1']);
    assert.equal(page.nextCursor, null);
    const first = page.items.at(-1)!;
    assert.equal(first.seq, 1);
    assert.equal(first.source?.sha, sha(1));
    assert.equal(first.actor.email, ada.email);
    assert.deepEqual(
      first.targets.map((t) => [t.name, t.action]),
      [
        ['db', 'created'],
        ['web', 'created'],
      ],
    );
    assert.match(first.hash, /^[0-9a-f]{64}$/);
    assert.equal(first.prevHash, '0'.repeat(64));
  });

  void it('filters by object, revision, actor, action and time', async () => {
    assert.deepEqual(eventIds(await list('?namespace=shop&kind=Deployment&name=web')), [
      'ev-5',
      'ev-2',
      'ev-1',
    ]);
    assert.deepEqual(eventIds(await list('?name=web')), ['ev-6', 'ev-5', 'ev-2', 'ev-1']);
    assert.deepEqual(eventIds(await list('?namespace=_')), ['ev-4']);
    assert.deepEqual(eventIds(await list(`?revision=${encodeURIComponent(`main@sha1:${sha(3)}`)}`)), [
      'ev-3',
    ]);
    assert.deepEqual(eventIds(await list(`?revision=${sha(2)}`)), ['ev-2']);
    assert.deepEqual(eventIds(await list(`?actor=${encodeURIComponent(grace.name)}`)), ['ev-6', 'ev-2']);
    // Emails match whatever their case; names exactly.
    assert.deepEqual(eventIds(await list(`?actor=${encodeURIComponent('grace@example.COM')}`)), [
      'ev-6',
      'ev-2',
    ]);
    assert.deepEqual(eventIds(await list(`?actor=${encodeURIComponent('grace hopper')}`)), []);
    assert.deepEqual(eventIds(await list(`?actor=${encodeURIComponent('ADA@example.com')}`)), [
      'ev-5',
      'ev-4',
      'ev-3',
      'ev-1',
    ]);
    assert.deepEqual(eventIds(await list('?action=drift.corrected')), ['ev-3']);
    assert.deepEqual(eventIds(await list('?since=2026-11-22T10:00:02Z&until=2026-11-22T10:00:04Z')), [
      'ev-3',
      'ev-2',
    ]);
    assert.deepEqual(eventIds(await list('?since=2026-11-22T11:00:05%2B01:00')), ['ev-6', 'ev-5']);
  });

  void it('pages with a cursor that later inserts do not disturb', async () => {
    const page1 = await list('?limit=2');
    assert.deepEqual(eventIds(page1), ['ev-6', 'ev-5']);
    assert.ok(page1.nextCursor);

    // New decisions arrive between page requests; they belong before page 1, not in page 2.
    await record({ commit: 7, changeSet: [{ ...deployment('web'), action: 'configured' }] });
    await record({ commit: 8, changeSet: [{ ...deployment('web'), action: 'configured' }] });

    const page2 = await list(`?limit=2&cursor=${page1.nextCursor}`);
    assert.deepEqual(eventIds(page2), ['ev-4', 'ev-3']);
    const page3 = await list(`?limit=2&cursor=${page2.nextCursor!}`);
    assert.deepEqual(eventIds(page3), ['ev-2', 'ev-1']);
    assert.equal(page3.nextCursor, null);
    // The same cursor gives the same page again.
    assert.deepEqual(eventIds(await list(`?limit=2&cursor=${page1.nextCursor}`)), ['ev-4', 'ev-3']);
    assert.equal((await list('?limit=500')).items.length, 8);
  });

  void it('answers a bad parameter with 400 naming it', async () => {
    const cases: [string, string][] = [
      ['?since=yesterday', 'since'],
      ['?until=2026-11-22', 'until'],
      ['?limit=501', 'limit'],
      ['?limit=0', 'limit'],
      ['?limit=ten', 'limit'],
      ['?cursor=bogus', 'cursor'],
      ['?namespac=shop', 'namespac'],
      ['?name=a&name=b', 'name'],
      ['?since=2026-11-22T10:00:05Z&until=2026-11-22T10:00:01Z', 'until'],
      ['?sync=shop', 'sync'],
      ['?canary=a/b/c', 'canary'],
      ['?correlationId=', 'correlationId'],
      ['?format=xml', 'format'],
      ['?format=csv&cursor=' + 'djE6NQ', 'cursor'],
      ['?name=web%00', 'name'],
      ['?actor=%00', 'actor'],
      ['?namespace=shop%00x', 'namespace'],
    ];
    for (const [query, parameter] of cases) {
      const { status, body } = (await get(`/api/v1/decisions${query}`)) as {
        status: number;
        body: { parameter: string; message: string };
      };
      assert.equal(status, 400, query);
      assert.equal(body.parameter, parameter, query);
      assert.ok(body.message.startsWith(`${parameter}:`), body.message);
    }
    const history = await get('/api/v1/objects/shop/Deployment/web%00/history');
    assert.deepEqual([history.status, (history.body as { parameter: string }).parameter], [400, 'name']);
    const { body } = await get('/api/v1/decisions?limit=501');
    assert.match((body as { message: string }).message, /at most 500/);
  });

  void it('tells the history of one object, newest first, with commit, author and its own change', async () => {
    const { status, body } = (await get('/api/v1/objects/shop/Deployment/web/history')) as History;
    assert.equal(status, 200);
    assert.deepEqual(
      body.items.map((e) => [e.revision, e.objectAction, e.action]),
      [
        [`main@sha1:${sha(8)}`, 'configured', 'applied'],
        [`main@sha1:${sha(7)}`, 'configured', 'applied'],
        [`main@sha1:${sha(5)}`, null, 'failed'],
        [`main@sha1:${sha(2)}`, 'configured', 'applied'],
        [`main@sha1:${sha(1)}`, 'created', 'applied'],
      ],
    );
    const scale = body.items[3]!;
    assert.deepEqual(scale.author, { name: grace.name, email: grace.email });
    assert.deepEqual(scale.committer, { name: grace.name, email: grace.email });
    assert.equal(scale.commitMessage, 'scale web');
    assert.equal(scale.time, '2026-11-22T10:00:02.000Z');
    assert.equal(scale.apiVersion, 'apps/v1');

    const paged = (await get('/api/v1/objects/shop/Deployment/web/history?limit=3')) as History;
    assert.equal(paged.body.items.length, 3);
    const rest = (await get(
      `/api/v1/objects/shop/Deployment/web/history?limit=3&cursor=${paged.body.nextCursor!}`,
    )) as History;
    assert.deepEqual(
      rest.body.items.map((e) => e.sha),
      [sha(2), sha(1)],
    );
    assert.equal(rest.body.nextCursor, null);
  });

  void it('uses _ for cluster-scoped objects and returns an empty history for unknown ones', async () => {
    const role = (await get('/api/v1/objects/_/ClusterRole/reader/history')) as History;
    assert.deepEqual(
      role.body.items.map((e) => [e.sha, e.objectAction]),
      [[sha(4), 'created']],
    );
    const none = await get('/api/v1/objects/shop/Deployment/nope/history');
    assert.deepEqual(none, { status: 200, body: { items: [], nextCursor: null } });
    const bad = (await get('/api/v1/objects/shop/Deployment/web/history?limit=501')) as {
      status: number;
      body: { parameter: string };
    };
    assert.deepEqual([bad.status, bad.body.parameter], [400, 'limit']);
  });

  void it('verifies the chain, and names the first row edited behind its back', async () => {
    assert.deepEqual((await get('/api/v1/audit/verify')).body, { ok: true, checked: 8 });
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(
        `SET session_replication_role = replica; UPDATE decisions SET actor_name = 'Mallory' WHERE seq = 4`,
      );
    } finally {
      await client.end();
    }
    assert.deepEqual((await get('/api/v1/audit/verify')).body, {
      ok: false,
      checked: 4,
      firstBrokenSeq: 4,
      reason: 'hash-mismatch',
    });
  });

  void it('is ready when the database answers', async () => {
    const { status, body } = (await get('/readyz')) as {
      status: number;
      body: { checks: Record<string, string> };
    };
    assert.equal(status, 200);
    assert.deepEqual(body.checks, { database: 'ok' });
  });
});
