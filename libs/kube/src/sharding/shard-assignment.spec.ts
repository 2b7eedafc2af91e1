import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { assignShards, observeMembers, shardOf } from './shard-assignment.js';

const counts = (owners: (string | undefined)[]) => {
  const c = new Map<string, number>();
  for (const o of owners) if (o) c.set(o, (c.get(o) ?? 0) + 1);
  return c;
};

describe('shardOf', () => {
  it('is stable and spreads keys over the shards', () => {
    assert.equal(shardOf('apps/web', 32), shardOf('apps/web', 32));
    const used = new Set(Array.from({ length: 1000 }, (_, i) => shardOf(`ns/sync-${i}`, 32)));
    assert.equal(used.size, 32);
  });
});

describe('assignShards', () => {
  it('gives every shard to one member, ⌊S/N⌋ or ⌈S/N⌉ each', () => {
    for (const n of [1, 2, 3, 5, 7]) {
      const members = Array.from({ length: n }, (_, i) => `reconciler-${i}`);
      const owners = assignShards(32, members);
      assert.ok(owners.every((o) => o !== undefined));
      for (const c of counts(owners).values()) assert.ok(c === Math.floor(32 / n) || c === Math.ceil(32 / n));
      assert.equal(counts(owners).size, n);
    }
  });

  it('is the same answer whatever order the members are listed in', () => {
    assert.deepEqual(assignShards(32, ['c', 'a', 'b']), assignShards(32, ['b', 'c', 'a']));
  });

  it('moves few shards when a member joins or dies', () => {
    const before = assignShards(32, ['a', 'b', 'c']);
    const joined = assignShards(32, ['a', 'b', 'c', 'd']);
    const moved = before.filter((o, s) => joined[s] !== o && joined[s] !== 'd').length;
    assert.ok(moved <= 4, `${moved} shards moved between the old members`);
    const died = assignShards(32, ['a', 'b']);
    // The survivors share the dead one's shards and keep nearly all of their own.
    const reshuffled = before.filter((o, s) => o !== 'c' && died[s] !== o).length;
    assert.ok(reshuffled <= 4, `${reshuffled} shards moved between the survivors`);
    assert.ok(died.every((o) => o === 'a' || o === 'b'));
  });

  it('leaves every shard unowned without members', () => {
    assert.deepEqual(assignShards(3, []), [undefined, undefined, undefined]);
  });
});

describe('observeMembers', () => {
  const lease = 6_000;
  it('counts a member alive until its lease stays unchanged for a lease duration of our clock', () => {
    let seen = observeMembers(new Map(), [{ member: 'a', resourceVersion: '1', present: true }], 0, lease);
    assert.deepEqual(seen.alive, ['a']);
    seen = observeMembers(
      seen.sightings,
      [{ member: 'a', resourceVersion: '1', present: true }],
      5_999,
      lease,
    );
    assert.deepEqual(seen.alive, ['a']);
    seen = observeMembers(
      seen.sightings,
      [{ member: 'a', resourceVersion: '1', present: true }],
      6_000,
      lease,
    );
    assert.deepEqual(seen.alive, []);
    // A renewal brings it back, measured from when we saw it.
    seen = observeMembers(
      seen.sightings,
      [{ member: 'a', resourceVersion: '2', present: true }],
      9_000,
      lease,
    );
    assert.deepEqual(seen.alive, ['a']);
    assert.equal(seen.sightings.get('a')?.since, 9_000);
  });

  it('counts a member that left on purpose as gone at once', () => {
    const seen = observeMembers(new Map(), [{ member: 'a', resourceVersion: '1', present: false }], 0, lease);
    assert.deepEqual(seen.alive, []);
  });
});
