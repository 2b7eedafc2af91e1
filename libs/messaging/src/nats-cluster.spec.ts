import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMMIT_OBSERVED_V1, topology, type CapstanEvent } from '@capstan/events';
import { startNatsCluster, testEventPrefix, type NatsCluster } from '@capstan/testing';
import { Bus, startConsumer } from './index.js';

// A real 3-node NATS JetStream cluster on loopback, streams at 3 replicas: killing a node while
// events flow loses none and stores none twice.
const sig = { name: 'Ada', email: 'ada@example.com', time: '2026-12-04T10:00:00Z' };

function commitEvent(n: number): CapstanEvent {
  const sha = n.toString(16).padStart(40, '0');
  return {
    specversion: '1.0',
    id: `commit:default/ha@${sha}`,
    source: '/test',
    type: COMMIT_OBSERVED_V1,
    subject: 'default/ha',
    time: '2026-12-04T10:00:01Z',
    datacontenttype: 'application/json',
    data: {
      repository: { namespace: 'default', name: `ha-${n % 7}`, url: 'file:///x' },
      ref: 'branch/main',
      revision: `main@sha1:${sha}`,
      sha,
      parents: [],
      author: sig,
      committer: sig,
      message: `commit ${n}`,
      observedAt: '2026-12-04T10:00:01Z',
    },
  };
}

/** What a service does when a publish fails mid-failover: try again with the same id. */
async function publishUntilAcked(bus: Bus, event: CapstanEvent): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await bus.publish(event);
      return;
    } catch (e) {
      if (attempt >= 100) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function until(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('JetStream bus on a 3-node NATS cluster', () => {
  const topo = topology(testEventPrefix(), { replicas: 3 });
  let cluster: NatsCluster;
  let bus: Bus;
  before(async () => {
    cluster = await startNatsCluster({ nodes: 3 });
    bus = await Bus.connect({ url: cluster.servers.join(','), topology: topo });
  });
  after(async () => {
    await bus.close();
    await cluster.destroy();
  });

  it('keeps the streams at three replicas, one per node', async () => {
    const info = await bus.jsm.streams.info(topo.streams.events.name);
    assert.equal(info.config.num_replicas, 3);
    await until('both followers current', async () => {
      const i = await bus.jsm.streams.info(topo.streams.events.name);
      return (i.cluster?.replicas ?? []).filter((r) => r.current).length === 2;
    });
  });

  it('loses nothing and doubles nothing when the stream leader is killed mid-flow', async () => {
    const total = 300;
    const handled = new Map<string, number>();
    const consumer = await startConsumer(bus, {
      durable: 'ha',
      family: 'git',
      concurrency: 8,
      handler: async (e) => {
        handled.set(e.id, (handled.get(e.id) ?? 0) + 1);
      },
    });
    const leader = (await bus.jsm.streams.info(topo.streams.events.name)).cluster?.leader;
    const leaderIndex = cluster.nodes.findIndex((n) => n.name === leader);
    assert.ok(leaderIndex >= 0, `stream leader ${String(leader)} is one of the nodes`);

    for (let n = 1; n <= total; n++) {
      if (n === total / 3) await cluster.kill(leaderIndex);
      // Every event is published twice, as a retrying or second replica would.
      await publishUntilAcked(bus, commitEvent(n));
      await publishUntilAcked(bus, commitEvent(n));
    }
    const info = await bus.jsm.streams.info(topo.streams.events.name);
    assert.notEqual(info.cluster?.leader, leader, 'a new leader was elected');
    assert.equal(info.state.messages, total, 'the stream holds each event exactly once');
    await until(`all ${total} events handled`, () => handled.size === total);
    await consumer.stop();
    for (let n = 1; n <= total; n++) assert.ok(handled.has(commitEvent(n).id), `event ${n} handled`);

    // The killed node comes back with its store and catches up with what it missed.
    await cluster.start(leaderIndex);
    await until('the restarted node current again', async () => {
      const i = await bus.jsm.streams.info(topo.streams.events.name);
      const back = [...(i.cluster?.replicas ?? []), { name: i.cluster?.leader, current: true }];
      return back.some((r) => r.name === leader && r.current);
    });
  });
});
