import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startService, type StartedService } from '@capstan/platform';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import type { DeployDecisionRecordedV1 } from '@capstan/events';
import { AuditModule } from '../audit.module.js';
import { DecisionIngest } from '../ingest/decision-ingest.service.js';
import { ada, decisionEvent, deployment, fixedIds, grace, sha } from '../testing/decision-events.js';
import { manualClock } from '../testing/audit-database.js';
import { setupApiDocs } from './openapi.js';
import type { DecisionView, PageView, RunningObjectView, TimelineStepView } from './views.js';

void describe('audit HTTP API: running objects, timelines, exports, docs', () => {
  let db: TestDatabase;
  let service: StartedService;
  let base: string;
  let ingest: DecisionIngest;
  const clock = manualClock();

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, { headers });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  };
  const json = async <T>(path: string): Promise<T> => {
    const res = await get(path);
    assert.equal(res.status, 200, res.text);
    return JSON.parse(res.text) as T;
  };

  let n = 0;
  const record = async (
    spec: Omit<Parameters<typeof decisionEvent>[0], 'id' | 'decidedAt'>,
    extra: { correlationId?: string; decidedBy?: DeployDecisionRecordedV1['data']['decidedBy'] } = {},
  ) => {
    n++;
    clock.advance(1000);
    const event = decisionEvent({
      id: `ev-${n}`,
      decidedAt: new Date(Date.UTC(2026, 10, 22, 10, 0, n)).toISOString(),
      ...spec,
    });
    await ingest.ingest({
      ...event,
      ...(extra.correlationId ? { correlationid: extra.correlationId } : {}),
      data: { ...event.data, ...(extra.decidedBy ? { decidedBy: extra.decidedBy } : {}) },
    });
  };

  before(async () => {
    db = await createTestDatabase();
    service = await startService(
      AuditModule.forRoot({ databaseUrl: db.url, clock, ids: fixedIds(), auth: { mode: 'disabled' } }),
      { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      undefined,
      setupApiDocs,
    );
    base = `http://127.0.0.1:${service.port}`;
    ingest = service.app.get(DecisionIngest);

    const sync = { kind: 'Sync', namespace: 'flux-system', name: 'shop' } as const;
    const canary = { kind: 'Canary', namespace: 'shop', name: 'web' } as const;
    // ev-1: web, db, cache created by Ada.
    await record(
      {
        commit: 1,
        changeSet: ['web', 'db', 'cache'].map((name) => ({
          ...deployment(name),
          action: 'created' as const,
        })),
      },
      { correlationId: 'deploy-1', decidedBy: sync },
    );
    // ev-2: Grace configures web; db unchanged at the new commit; cache pruned.
    await record(
      {
        commit: 2,
        author: grace,
        changeSet: [
          { ...deployment('web'), action: 'configured' },
          { ...deployment('db'), action: 'unchanged' },
        ],
      },
      { correlationId: 'deploy-2', decidedBy: sync },
    );
    await record(
      { commit: 2, action: 'pruned', changeSet: [{ ...deployment('cache'), action: 'deleted' }] },
      { correlationId: 'deploy-2', decidedBy: sync },
    );
    // ev-4: a failed apply of commit 3 must not count as "running".
    await record(
      {
        commit: 3,
        action: 'failed',
        outcome: 'failed',
        changeSet: [{ ...deployment('web'), action: 'failed' }],
      },
      { correlationId: 'deploy-3', decidedBy: sync },
    );
    // ev-5, ev-6: a canary of the same deploy, in another namespace's Sync.
    await record(
      { commit: 2, action: 'canary.started', targets: [deployment('web')] },
      { correlationId: 'deploy-2', decidedBy: canary },
    );
    await record(
      { commit: 2, action: 'canary.promoted', targets: [deployment('web')] },
      { correlationId: 'deploy-2', decidedBy: canary },
    );
    // ev-7: another namespace, another Sync.
    await record(
      { commit: 7, changeSet: [{ ...deployment('api', 'payments'), action: 'created' }] },
      { correlationId: 'deploy-7', decidedBy: { kind: 'Sync', namespace: 'payments', name: 'api' } },
    );
  });
  after(async () => {
    await service.close();
    await db.drop();
  });

  const ids = (page: PageView<DecisionView>) => page.items.map((d) => d.eventId);

  void it('filters by deciding Sync or Canary and by correlation id', async () => {
    assert.deepEqual(ids(await json('/api/v1/decisions?sync=flux-system/shop')), [
      'ev-4',
      'ev-3',
      'ev-2',
      'ev-1',
    ]);
    assert.deepEqual(ids(await json('/api/v1/decisions?canary=shop/web')), ['ev-6', 'ev-5']);
    assert.deepEqual(ids(await json('/api/v1/decisions?correlationId=deploy-2&action=pruned')), ['ev-3']);
    assert.deepEqual(ids(await json('/api/v1/decisions?sync=payments/api&namespace=shop')), []);
  });

  void it('says what is running and who put it there, leaving out pruned objects and failed applies', async () => {
    const { items } = await json<{ items: RunningObjectView[] }>('/api/v1/running?namespace=shop');
    assert.deepEqual(
      items.map((o) => [
        o.name,
        o.revision,
        o.lastApplied.revision,
        o.lastApplied.objectAction,
        o.lastApplied.actor.name,
      ]),
      [
        // db was created at commit 1 and is unchanged at commit 2: it runs commit 2, put there by Ada.
        ['db', `main@sha1:${sha(2)}`, `main@sha1:${sha(1)}`, 'created', ada.name],
        ['web', `main@sha1:${sha(2)}`, `main@sha1:${sha(2)}`, 'configured', grace.name],
      ],
    );
    assert.equal(items[1]?.lastApplied.correlationId, 'deploy-2');
    const bySync = await json<{ items: RunningObjectView[] }>('/api/v1/running?sync=payments/api');
    assert.deepEqual(
      bySync.items.map((o) => `${o.namespace}/${o.kind}/${o.name}`),
      ['payments/Deployment/api'],
    );
    const missing = await get('/api/v1/running');
    assert.equal(missing.status, 400);
    assert.equal((JSON.parse(missing.text) as { parameter: string }).parameter, 'namespace');
  });

  void it('tells one deploy step by step, across deciders', async () => {
    const t = await json<{ correlationId: string; steps: TimelineStepView[] }>('/api/v1/timeline/deploy-2');
    assert.deepEqual(
      t.steps.map((s) => [s.step, s.action, s.decidedBy.kind]),
      [
        [1, 'applied', 'Sync'],
        [2, 'pruned', 'Sync'],
        [3, 'canary.started', 'Canary'],
        [4, 'canary.promoted', 'Canary'],
      ],
    );
    assert.deepEqual(await json('/api/v1/timeline/nope'), { correlationId: 'nope', steps: [] });
  });

  void it('streams every matching decision as NDJSON, by format or Accept header', async () => {
    const byFormat = await get('/api/v1/decisions?format=ndjson&namespace=shop');
    assert.equal(byFormat.status, 200);
    assert.match(byFormat.type, /application\/x-ndjson/);
    const lines = byFormat.text.trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as DecisionView).eventId),
      ['ev-6', 'ev-5', 'ev-4', 'ev-3', 'ev-2', 'ev-1'],
    );
    const byAccept = await get('/api/v1/decisions?namespace=shop', { accept: 'application/x-ndjson' });
    assert.equal(byAccept.text, byFormat.text);
  });

  void it('exports CSV with a header and RFC 4180 quoting', async () => {
    const res = await get('/api/v1/decisions?format=csv&correlationId=deploy-1');
    assert.equal(res.status, 200);
    assert.match(res.type, /text\/csv/);
    const records = res.text.split('\r\n');
    assert.equal(records[0]?.split(',')[0], 'seq');
    assert.equal(records.length, 3); // header, one decision, the empty string after the last CRLF
    assert.match(records[1] ?? '', /^1,2026-11-22T10:00:01.000Z,applied,succeeded,/);
    assert.match(
      records[1] ?? '',
      /,shop\/Deployment\/cache=created shop\/Deployment\/db=created shop\/Deployment\/web=created,deploy-1,/,
    );
  });

  void it('exports more rows than one keyset batch, each exactly once, newest first', async () => {
    const batch = Array.from({ length: 620 }, (_, i) => i);
    for (const i of batch) {
      await record({
        commit: 100 + i,
        changeSet: [{ ...deployment(`bulk-${i}`, 'bulk'), action: 'created' }],
      });
    }
    const res = await get('/api/v1/decisions?format=ndjson&namespace=bulk');
    const names = res.text
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as DecisionView).targets[0]?.name);
    assert.equal(names.length, 620);
    assert.deepEqual(names, batch.map((i) => `bulk-${i}`).reverse());
  });

  void it('serves an OpenAPI document generated from the controllers', async () => {
    const doc = await json<{
      openapi: string;
      paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
    }>('/api/docs-json');
    assert.match(doc.openapi, /^3\./);
    for (const path of [
      '/api/v1/decisions',
      '/api/v1/objects/{namespace}/{kind}/{name}/history',
      '/api/v1/running',
      '/api/v1/timeline/{correlationId}',
      '/api/v1/audit/verify',
    ]) {
      assert.ok(doc.paths[path]?.['get'], path);
    }
    const params = doc.paths['/api/v1/decisions']?.['get']?.parameters?.map((p) => p.name) ?? [];
    for (const p of ['sync', 'canary', 'correlationId', 'format', 'limit', 'cursor'])
      assert.ok(params.includes(p), p);
    const ui = await get('/api/docs');
    assert.equal(ui.status, 200);
    assert.match(ui.text, /swagger/i);
  });

  void it('finds the decisions about an image, by repository or by repository and tag', async () => {
    const automation = { kind: 'ImageUpdateAutomation', namespace: 'images', name: 'fleet' } as const;
    const repository = '127.0.0.1:5000/team/podinfo';
    for (const [tag, repo] of [
      ['3.0.1', repository],
      ['3.0.2', repository],
      ['1.0.0', '127.0.0.1:5000/team/other'],
    ] as const)
      await record(
        { commit: 40, action: 'image.updated', image: { repository: repo, tag }, withoutSource: true },
        { decidedBy: automation },
      );
    const found = async (image: string) =>
      (await json<PageView<DecisionView>>(`/api/v1/decisions?image=${encodeURIComponent(image)}`)).items.map(
        (d) => {
          const i = d.image as { repository: string; tag: string };
          return `${i.repository}:${i.tag}`;
        },
      );
    // A registry's port is not a tag; newest first.
    assert.deepEqual(await found(repository), [`${repository}:3.0.2`, `${repository}:3.0.1`]);
    assert.deepEqual(await found(`${repository}:3.0.1`), [`${repository}:3.0.1`]);
    assert.deepEqual(await found('127.0.0.1:5000/team'), []);
    const bad = await get(`/api/v1/decisions?image=${encodeURIComponent(`${repository}@sha256:abc`)}`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /image: must be <repository> or <repository>:<tag>, without a digest/);
  });
});
