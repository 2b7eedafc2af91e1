import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sharedCluster } from '@capstan/testing';
import { createKubeConfig } from '../index.js';
import { ShardLeases } from './shard-leases.js';

const waitUntil = async (what: string, check: () => boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

// Against the real kube-apiserver: two replicas' ShardLeases in one group.
describe('ShardLeases', () => {
  let kubeconfigPath: string;
  before(async () => ({ kubeconfigPath } = await sharedCluster()));

  const replica = (group: string, identity: string, busy: (shard: number) => boolean) =>
    new ShardLeases(createKubeConfig(kubeconfigPath), {
      namespace: 'default',
      group,
      identity,
      shards: 4,
      leaseMs: 3_000,
      renewMs: 500,
      busy,
    });

  const running: ShardLeases[] = [];
  after(async () => {
    await Promise.all(running.map((r) => r.stop()));
  });

  it('a handover called off while draining keeps the shard and announces it again', async () => {
    const group = `t${randomBytes(3).toString('hex')}-leases`;
    // Work that never ends on every shard: a handover waits (drainMs, 30 s) instead of freeing it.
    const holder = replica(group, 'holder', () => true);
    running.push(holder);
    const gained: number[][] = [];
    holder.onGained((shards) => gained.push([...shards]));
    await holder.start();
    await waitUntil('the holder holding every shard', () => holder.heldShards().length === 4);
    const keyOf = (shard: number) => {
      for (let i = 0; ; i++) if (holder.shardOf(`ns/k${i}`) === shard) return `ns/k${i}`;
    };

    // A second member joins: some shards are now assigned to it, and the holder starts draining them.
    const joiner = replica(group, 'joiner', () => false);
    running.push(joiner);
    await joiner.start();
    let draining: number[] = [];
    await waitUntil('the holder draining the joiner’s shards', () => {
      draining = holder.heldShards().filter((s) => !holder.owns(keyOf(s)));
      return draining.length > 0;
    });
    assert.deepEqual(joiner.heldShards(), [], 'nothing taken while the holder drains');

    // It leaves before the drain ends: the assignment turns back, the handover is called off.
    gained.length = 0;
    await joiner.stop();
    running.pop();
    await waitUntil('the drained shards announced again', () =>
      draining.every((s) => gained.some((g) => g.includes(s))),
    );
    for (const s of draining) assert.ok(holder.owns(keyOf(s)), `shard ${s} owned again`);
    assert.equal(holder.heldShards().length, 4);
  });
});
