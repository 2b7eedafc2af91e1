import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMMIT_OBSERVED_V1, topology, type CapstanEvent } from '@capstan/events';
import { testEventPrefix, testNatsUrl } from '@capstan/testing';
import { Bus, DLQ_HEADERS, startConsumer } from './index.js';

// Real NATS JetStream: the machine's server, or NATS_URL. Each test file gets its own prefix.
const url = testNatsUrl();
const sig = { name: 'Ada', email: 'ada@example.com', time: '2026-11-22T10:00:00Z' };

function commitEvent(repo: string, n: number): CapstanEvent {
  const sha = n.toString(16).padStart(40, '0');
  return {
    specversion: '1.0',
    id: `commit:default/${repo}@${sha}`,
    source: '/test',
    type: COMMIT_OBSERVED_V1,
    subject: `default/${repo}`,
    time: '2026-11-22T10:00:01Z',
    datacontenttype: 'application/json',
    data: {
      repository: { namespace: 'default', name: repo, url: 'file:///x' },
      ref: 'branch/main',
      revision: `main@sha1:${sha}`,
      sha,
      parents: [],
      author: sig,
      committer: sig,
      message: `commit ${n}`,
      observedAt: '2026-11-22T10:00:01Z',
    },
  };
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('JetStream bus', () => {
  const topo = topology(testEventPrefix());
  let bus: Bus;
  before(async () => {
    bus = await Bus.connect({ url, topology: topo });
  });
  after(async () => {
    for (const s of [topo.streams.events.name, topo.streams.deadLetter.name]) await bus.jsm.streams.delete(s);
    await bus.close();
  });

  it('creates streams idempotently and drops a republished event id', async () => {
    await bus.ensureTopology();
    const first = await bus.publish(commitEvent('dedupe', 1));
    const again = await bus.publish(commitEvent('dedupe', 1));
    assert.equal(first.duplicate, false);
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, first.seq);
  });

  it('delivers in order per subject across a durable consumer', async () => {
    const seen: string[] = [];
    const c = await startConsumer(bus, {
      durable: 'order',
      family: 'git',
      concurrency: 4,
      handler: async (e) => {
        if (e.type !== COMMIT_OBSERVED_V1 || !e.data.repository.name.startsWith('ord')) return;
        // A slow first message must not be overtaken by the next one of the same repo.
        if (e.data.message === 'commit 1') await new Promise((r) => setTimeout(r, 100));
        seen.push(`${e.data.repository.name}:${e.data.message}`);
      },
    });
    for (let i = 1; i <= 3; i++) await bus.publish(commitEvent('ord-a', i));
    await until('3 events', () => (seen.length >= 3 ? true : undefined));
    await c.stop();
    assert.deepEqual(seen, ['ord-a:commit 1', 'ord-a:commit 2', 'ord-a:commit 3']);
  });

  it('retries a failing handler with backoff, then dead-letters it with the reason', async () => {
    let attempts = 0;
    const c = await startConsumer(bus, {
      durable: 'flaky',
      family: 'git',
      retry: { maxDeliver: 3, backoffMs: [50] },
      handler: async (e) => {
        if (e.type === COMMIT_OBSERVED_V1 && e.data.repository.name === 'poison') {
          attempts++;
          throw new Error('boom at apply');
        }
      },
    });
    await bus.publish(commitEvent('poison', 7));
    const dlq = await bus.js.consumers.get(topo.streams.deadLetter.name);
    const msg = await dlq.next({ expires: 10_000 });
    await c.stop();
    assert.ok(msg, 'a dead letter arrived');
    assert.equal(attempts, 3);
    const h = msg.headers!;
    assert.equal(h.get(DLQ_HEADERS.reason), 'boom at apply');
    assert.equal(h.get(DLQ_HEADERS.consumer), 'flaky');
    assert.equal(h.get(DLQ_HEADERS.deliveries), '3');
  });

  it('dead-letters a message that is not a valid event without calling the handler or stopping', async () => {
    const handled: string[] = [];
    const c = await startConsumer(bus, {
      durable: 'strict',
      family: 'registry',
      handler: async (e) => {
        handled.push(e.type);
      },
    });
    await bus.js.publish(`${topo.prefix}.registry.pushed.bad`, new TextEncoder().encode('{"type":"nope"}'));
    const dlq = await bus.js.consumers.get(topo.streams.deadLetter.name);
    // The earlier test's dead letter may still be first; find ours.
    let reason: string | undefined;
    for (let i = 0; i < 5 && !reason?.includes('nope'); i++) {
      const m = await dlq.next({ expires: 5_000 });
      reason = m?.headers?.get(DLQ_HEADERS.reason);
      m?.ack();
    }
    await c.stop();
    assert.match(reason ?? '', /invalid event of type nope/);
    assert.deepEqual(handled, []);
  });

  it('splits work between two replicas sharing a durable, each event handled once', async () => {
    const byReplica = [0, 0];
    const ids = new Set<string>();
    const make = (i: 0 | 1) =>
      startConsumer(bus, {
        durable: 'shared',
        family: 'git',
        handler: async (e) => {
          if (e.type !== COMMIT_OBSERVED_V1 || !e.data.repository.name.startsWith('rep')) return;
          byReplica[i] = (byReplica[i] ?? 0) + 1;
          ids.add(e.id);
        },
      });
    const [a, b] = await Promise.all([make(0), make(1)]);
    for (let i = 0; i < 40; i++) await bus.publish(commitEvent(`rep-${i % 8}`, i));
    await until('40 events', () => (ids.size >= 40 ? true : undefined));
    await Promise.all([a.stop(), b.stop()]);
    assert.equal(ids.size, 40);
    assert.equal((byReplica[0] ?? 0) + (byReplica[1] ?? 0), 40);
  });
});
