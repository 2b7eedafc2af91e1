import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../main.js';
import {
  eventLine,
  eventsHeader,
  eventsQuery,
  parseDecisionEvent,
  type DecisionCloudEvent,
} from './events.js';
import { feedSse, initialSseState, type SseEvent, type SseState } from './sse.js';

/** Feeds chunks one after another, collecting every event and the state after the last. */
function feedAll(chunks: readonly string[], state: SseState = initialSseState()) {
  const events: SseEvent[] = [];
  let retry: number | undefined;
  let comments = 0;
  for (const chunk of chunks) {
    const r = feedSse(state, chunk);
    state = r.state;
    events.push(...r.events);
    retry = r.retry ?? retry;
    comments += r.comments;
  }
  return { events, state, retry, comments };
}

const stream =
  'retry: 2000\n\n' +
  'id: 7\nevent: decision\ndata: {"a":1}\n\n' +
  ': heartbeat\n\n' +
  'id: 9\r\nevent: decision\r\ndata: line one\r\ndata:line two\r\n\r\n';

const decision: DecisionCloudEvent = {
  id: 'evt-1',
  type: 'dev.capstan.audit.decision.v1',
  subject: 'Sync/flux-system/shop',
  capstanseq: 12,
  data: {
    seq: 12,
    time: '2026-11-22T10:00:00.123Z',
    action: 'applied',
    outcome: 'succeeded',
    message: 'applied',
    actor: { kind: 'person', name: 'Ada Lovelace', email: 'ada@example.com' },
    source: { revision: `main@sha1:${'c'.repeat(40)}` },
    decidedBy: { kind: 'Sync', namespace: 'flux-system', name: 'shop' },
    targets: [
      { namespace: 'shop', kind: 'Deployment', name: 'web' },
      { namespace: 'shop', kind: 'Service', name: 'web' },
    ],
  },
};

void describe('capstan events', () => {
  void describe('SSE parsing (pure)', () => {
    void it('parses ids, event types, multi-line data, CRLF, retry and comments', () => {
      const { events, retry, comments, state } = feedAll([stream]);
      assert.deepEqual(events, [
        { id: '7', event: 'decision', data: '{"a":1}' },
        { id: '9', event: 'decision', data: 'line one\nline two' },
      ]);
      assert.equal(retry, 2000);
      assert.equal(comments, 1);
      assert.equal(state.lastEventId, '9');
    });

    void it('gives the same events however the network splits the bytes', () => {
      const whole = feedAll([stream]).events;
      for (let size = 1; size <= 7; size++) {
        const chunks: string[] = [];
        for (let i = 0; i < stream.length; i += size) chunks.push(stream.slice(i, i + size));
        assert.deepEqual(feedAll(chunks).events, whole, `chunks of ${size}`);
      }
      // A CR ending one chunk and its LF starting the next are one line break, not two.
      assert.deepEqual(feedAll(['id: 1\r', '\ndata: x\r', '\n\r', '\n']).events, [
        { id: '1', event: 'message', data: 'x' },
      ]);
    });

    void it('keeps an unfinished event for the next chunk and drops events without data', () => {
      const first = feedSse(initialSseState('3'), 'event: decision\nid: 4\ndata: par');
      assert.deepEqual(first.events, []);
      const second = feedSse(first.state, 'tial\n\nid: 5\n\n');
      assert.deepEqual(second.events, [{ id: '4', event: 'decision', data: 'partial' }]);
      // An id-only block dispatches nothing but still moves the last event id.
      assert.equal(second.state.lastEventId, '5');
      // Without an id field, an event carries the last id seen (or the starting one).
      assert.deepEqual(feedSse(initialSseState('3'), 'data: x\n\n').events, [
        { id: '3', event: 'message', data: 'x' },
      ]);
      // Unknown fields and ids with NUL are ignored; "data" alone is an empty line of data.
      assert.deepEqual(feedSse(initialSseState(), 'foo: bar\nid: a\0b\ndata\n\n').events, [
        { id: '', event: 'message', data: '' },
      ]);
      assert.equal(feedSse(initialSseState(), 'retry: soon\n\n').retry, undefined);
    });
  });

  void it('turns flags into the stream filters, without a limit', () => {
    assert.deepEqual(
      eventsQuery(
        { server: '', output: 'table', namespace: 'shop', action: 'applied', since: '30m' },
        new Date('2026-11-22T12:00:00Z'),
      ),
      { namespace: 'shop', action: 'applied', since: '2026-11-22T11:30:00.000Z' },
    );
  });

  void it('renders a decision as one readable line under a fixed header', () => {
    assert.match(eventsHeader(), /^TIME\s+ACTION\s+OBJECTS\s+REVISION\s+ACTOR$/);
    assert.match(
      eventLine(decision),
      /^2026-11-22T10:00:00Z\s+applied\s+shop\/Deployment\/web \(\+1\)\s+main@sha1:cccccccccccc\s+Ada Lovelace <ada@example.com>$/,
    );
    const failedBuild = eventLine({
      ...decision,
      data: {
        ...decision.data,
        action: 'failed',
        outcome: 'failed',
        targets: [],
        source: null,
        actor: { kind: 'capstan', name: 'reconciler' },
      },
    });
    assert.match(failedBuild, /\s+failed\s+Sync\/flux-system\/shop\s+-\s+reconciler \(capstan\)$/);
    // Columns line up whatever the values' lengths.
    assert.equal(eventLine(decision).indexOf('applied'), eventsHeader().indexOf('ACTION'));
    assert.equal(eventLine(decision).indexOf('main@'), eventsHeader().indexOf('REVISION'));
  });

  void it('names the seq of a frame that is not a decision', () => {
    assert.deepEqual(
      parseDecisionEvent({ id: '12', event: 'decision', data: JSON.stringify(decision) }),
      decision,
    );
    assert.throws(
      () => parseDecisionEvent({ id: '13', event: 'decision', data: '{' }),
      /event 13: data is not JSON/,
    );
    assert.throws(
      () => parseDecisionEvent({ id: '14', event: 'decision', data: '{"data":{}}' }),
      /event 14: data is not a decision/,
    );
  });

  void it('exits 2 on bad flags and 1 when the API cannot be reached', async () => {
    const errors: string[] = [];
    const err = (s: string) => errors.push(s);
    assert.equal(await run(['events', '--since', 'soon'], () => undefined, err, {}), 2);
    assert.equal(await run(['events', '-o', 'yaml'], () => undefined, err, {}), 1);
    assert.equal(
      await run(['events', '--follow', '--server', 'http://127.0.0.1:1'], () => undefined, err, {}),
      1,
    );
    assert.match(errors.join('\n'), /--since "soon"/);
    assert.match(errors.join('\n'), /argument 'yaml' is invalid/);
    assert.match(errors.join('\n'), /cannot reach the audit API/);
  });
});
