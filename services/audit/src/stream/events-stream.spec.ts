import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startService, type StartedService } from '@capstan/platform';
import { createTestDatabase, type TestDatabase } from '@capstan/testing';
import { AuditModule } from '../audit.module.js';
import { DecisionIngest } from '../ingest/decision-ingest.service.js';
import { decisionEvent, deployment } from '../testing/decision-events.js';
import { resumePoint, sseFrame } from './sse.js';

/** Reads SSE frames from a live stream until `count` decisions arrived, then disconnects. */
async function readDecisions(url: string, count: number, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const decoder = new TextDecoder();
  let buffer = '';
  let heartbeats = 0;
  const events: { id: string; eventId: string }[] = [];
  const reader = res.body!.getReader();
  while (events.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value as Uint8Array | undefined, { stream: true });
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (frame.startsWith(':')) heartbeats++;
      const id = /^id: (.*)$/m.exec(frame)?.[1];
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      if (id && data) events.push({ id, eventId: (JSON.parse(data) as { id: string }).id });
    }
  }
  controller.abort();
  return { events, heartbeats };
}

void describe('decision event stream (SSE)', () => {
  let db: TestDatabase;
  let service: StartedService;
  let base: string;
  let ingest: DecisionIngest;
  let n = 0;
  const record = async (name: string) => {
    n++;
    await ingest.ingest(
      decisionEvent({ id: `sse-${n}`, changeSet: [{ ...deployment(name), action: 'configured' }] }),
    );
    return `sse-${n}`;
  };

  before(async () => {
    db = await createTestDatabase();
    service = await startService(
      AuditModule.forRoot({
        databaseUrl: db.url,
        auth: { mode: 'disabled' },
        stream: { pollMs: 20, heartbeatMs: 100 },
      }),
      { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    );
    base = `http://127.0.0.1:${service.port}`;
    ingest = service.app.get(DecisionIngest);
  });
  after(async () => {
    await service.close();
    await db.drop();
  });

  void it('formats frames and resume points', () => {
    assert.equal(
      sseFrame({ id: '7', event: 'decision', data: 'a\nb' }),
      'id: 7\nevent: decision\ndata: a\ndata: b\n\n',
    );
    assert.equal(resumePoint(undefined), 'none');
    assert.equal(resumePoint('42'), 42n);
    assert.equal(resumePoint('x'), null);
  });

  void it('streams live decisions, filtered, and resumes after Last-Event-ID without missing any', async () => {
    const first = await record('web');
    const live = readDecisions(`${base}/api/v1/events/stream?name=web&since=2026-01-01T00:00:00Z`, 2);
    await record('db'); // filtered out
    const second = await record('web');
    const { events } = await live;
    assert.deepEqual(
      events.map((e) => e.eventId),
      [first, second],
    );
    // Disconnected: these happen while nobody listens.
    const missed = [await record('web'), await record('db'), await record('web')];
    const resumed = await readDecisions(`${base}/api/v1/events/stream?name=web`, 2, {
      'Last-Event-ID': events.at(-1)!.id,
    });
    assert.deepEqual(
      resumed.events.map((e) => e.eventId),
      [missed[0], missed[2]],
    );
    assert.ok(Number(resumed.events[0]!.id) > Number(events.at(-1)!.id));
  });

  void it('sends heartbeats on an idle stream and rejects a foreign Last-Event-ID', async () => {
    const controller = new AbortController();
    const res = await fetch(`${base}/api/v1/events/stream?name=nothing-here`, { signal: controller.signal });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes(': heartbeat'))
      text += new TextDecoder().decode((await reader.read()).value as Uint8Array | undefined);
    controller.abort();
    const bad = await fetch(`${base}/api/v1/events/stream`, { headers: { 'Last-Event-ID': 'abc' } });
    assert.equal(bad.status, 400);
  });
});
