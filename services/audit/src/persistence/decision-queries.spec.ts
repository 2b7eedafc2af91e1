import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChainedDecision } from '../domain/decision-record.js';
import type { DecisionFilter } from '../domain/decision-query.js';
import { auditOnTestDatabase, type AuditOnTestDatabase } from '../testing/audit-database.js';
import { ada, decisionEvent, deployment } from '../testing/decision-events.js';
import { DecisionQueries } from './decision-queries.repository.js';

// The hand-written page queries (decisionPageSql) against a real Postgres: the cases its shapes
// make special (several targets per decision, name-or-email, cursors inside each shape).
void describe('DecisionQueries.list', () => {
  let audit: AuditOnTestDatabase;
  let queries: DecisionQueries;

  const sameNameAndEmail = { name: 'a_b@example.com', email: 'a_b@example.com' };
  // Would match "a_b@example.com" if `_` were a LIKE wildcard.
  const lookalike = { name: 'Axb', email: 'axb@example.com' };
  const shouting = { name: 'Someone', email: 'A_B@EXAMPLE.COM' };
  const late = { name: 'Late Comer', email: 'late@example.com' };

  before(async () => {
    audit = await auditOnTestDatabase();
    queries = new DecisionQueries(audit.prisma, audit.pool);
    const events = [
      decisionEvent({
        id: 'ev-1',
        decidedAt: '2026-01-10T00:00:00Z',
        author: sameNameAndEmail,
        changeSet: [
          { ...deployment('web'), action: 'created' },
          { ...deployment('db'), action: 'created' },
        ],
      }),
      decisionEvent({
        id: 'ev-2',
        decidedAt: '2026-02-10T00:00:00Z',
        action: 'pruned',
        author: lookalike,
        targets: [deployment('web')],
      }),
      decisionEvent({
        id: 'ev-3',
        decidedAt: '2026-02-15T00:00:00Z',
        action: 'pruned',
        targets: [deployment('web', 'other')],
      }),
      decisionEvent({
        id: 'ev-4',
        decidedAt: '2026-02-20T00:00:00Z',
        action: 'pruned',
        author: shouting,
        targets: [deployment('cache')],
      }),
      decisionEvent({
        id: 'ev-5',
        decidedAt: '2026-03-05T00:00:00Z',
        action: 'pruned',
        targets: [deployment('web')],
      }),
      // Recorded after ev-5 but decided in February: a late arrival, highest seq, mid-window.
      decisionEvent({
        id: 'ev-6',
        decidedAt: '2026-02-12T12:00:00Z',
        action: 'pruned',
        author: late,
        targets: [deployment('late', 'edge')],
      }),
      // The last millisecond of February, and the first of March (outside a February window).
      decisionEvent({
        id: 'ev-7',
        decidedAt: '2026-02-28T23:59:59.999Z',
        action: 'pruned',
        author: late,
        targets: [deployment('late', 'edge')],
      }),
      decisionEvent({
        id: 'ev-8',
        decidedAt: '2026-03-01T00:00:00Z',
        action: 'pruned',
        author: late,
        targets: [deployment('late', 'edge')],
      }),
    ];
    for (const event of events) await audit.ingest.ingest(event);
  });
  after(async () => {
    await audit.close();
  });

  const ids = (rows: ChainedDecision[]) => rows.map((d) => d.eventId);
  const list = async (filter: DecisionFilter) => ids(await queries.list(filter, { limit: 10 }));
  /** Every match, one decision per page: exercises the cursor inside each query shape. */
  const pageByPage = async (filter: DecisionFilter) => {
    const all: ChainedDecision[] = [];
    for await (const d of queries.stream(filter, 1)) all.push(d);
    return ids(all);
  };

  void it('lists a decision of a namespace once, however many of its objects it touched', async () => {
    assert.deepEqual(await list({ namespace: 'shop' }), ['ev-5', 'ev-4', 'ev-2', 'ev-1']);
    assert.deepEqual(await pageByPage({ namespace: 'shop' }), ['ev-5', 'ev-4', 'ev-2', 'ev-1']);
    assert.deepEqual(await list({ namespace: 'shop', kind: 'Deployment', name: 'web' }), [
      'ev-5',
      'ev-2',
      'ev-1',
    ]);
    assert.deepEqual(await list({ kind: 'Deployment', name: 'web' }), ['ev-5', 'ev-3', 'ev-2', 'ev-1']);
    assert.deepEqual(await pageByPage({ name: 'web' }), ['ev-5', 'ev-3', 'ev-2', 'ev-1']);
    assert.deepEqual(await list({ namespace: 'shop', action: 'pruned', actor: ada.email }), ['ev-5']);
  });

  void it('matches a person by exact name or by email in any case, with no wildcards', async () => {
    // ev-1 matches by name and by email and is listed once; ev-4's email differs only in case;
    // ev-2's "axb@example.com" would match if `_` were a wildcard.
    assert.deepEqual(await list({ actor: 'a_b@example.com' }), ['ev-4', 'ev-1']);
    assert.deepEqual(await pageByPage({ actor: 'a_b@example.com' }), ['ev-4', 'ev-1']);
    assert.deepEqual(await list({ actor: 'a%' }), []);
    assert.deepEqual(await list({ actor: 'Axb' }), ['ev-2']);
    assert.deepEqual(await list({ actor: 'axb' }), []);
    assert.deepEqual(await list({ actor: 'ADA@example.com' }), ['ev-5', 'ev-3']);
  });

  void it('lists an action within a time window, newest first, page by page', async () => {
    const pruned = {
      action: 'pruned',
      since: new Date('2026-02-01T00:00:00Z'),
      until: new Date('2026-03-01T00:00:00Z'),
    };
    // By seq, not by time: ev-6 was recorded last though decided mid-February.
    assert.deepEqual(await list(pruned), ['ev-7', 'ev-6', 'ev-4', 'ev-3', 'ev-2']);
    assert.deepEqual(await pageByPage(pruned), ['ev-7', 'ev-6', 'ev-4', 'ev-3', 'ev-2']);
    const page = await queries.list(pruned, { limit: 2 });
    assert.deepEqual(ids(page), ['ev-7', 'ev-6']);
    assert.deepEqual(ids(await queries.list(pruned, { limit: 2, beforeSeq: page.at(-1)!.seq })), [
      'ev-4',
      'ev-3',
    ]);
  });

  void it('keeps a window to its exact bounds inside a day: since inclusive, until exclusive', async () => {
    const midDay = {
      action: 'pruned',
      since: new Date('2026-02-12T12:00:00Z'),
      until: new Date('2026-02-20T00:00:00Z'),
    };
    assert.deepEqual(await list(midDay), ['ev-6', 'ev-3']);
    assert.deepEqual(await pageByPage(midDay), ['ev-6', 'ev-3']);
    const oneMs = {
      action: 'pruned',
      since: new Date('2026-02-28T23:59:59.999Z'),
      until: new Date('2026-03-01T00:00:00Z'),
    };
    assert.deepEqual(await list(oneMs), ['ev-7']);
    assert.deepEqual(await list({ ...oneMs, action: 'applied' }), []);
  });

  void it('lists an action in an open window, with only since or only until', async () => {
    assert.deepEqual(await list({ action: 'pruned', since: new Date('2026-02-15T00:00:00Z') }), [
      'ev-8',
      'ev-7',
      'ev-5',
      'ev-4',
      'ev-3',
    ]);
    assert.deepEqual(await pageByPage({ action: 'pruned', until: new Date('2026-02-12T12:00:00Z') }), [
      'ev-2',
    ]);
    // A window longer than the day-by-day walk takes goes as one range, with the same answer.
    const years = {
      action: 'pruned',
      since: new Date('2024-01-01T00:00:00Z'),
      until: new Date('2026-03-01T00:00:00Z'),
    };
    assert.deepEqual(await list(years), ['ev-7', 'ev-6', 'ev-4', 'ev-3', 'ev-2']);
  });
});
