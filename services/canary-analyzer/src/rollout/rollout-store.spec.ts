import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { topology, type RolloutEvent } from '@capstan/events';
import { connectBus, type Bus } from '@capstan/messaging';
import { testEventPrefix, testNatsUrl } from '@capstan/testing';
import { ConcurrentAppendError, RolloutStore } from './rollout-store.js';

// The rollout stream on the machine's real JetStream: replay, and the optimistic append that
// keeps two writers from both taking a step.
describe('RolloutStore', () => {
  let bus: Bus;
  before(async () => {
    bus = await connectBus({ url: testNatsUrl(), topology: topology(testEventPrefix()) });
  });
  after(async () => {
    await bus.close();
  });

  const at = '2026-12-04T10:00:00Z';
  const init: RolloutEvent = { type: 'Initialized', at, revision: 'r1', trackedConfigs: {} };
  const start: RolloutEvent = {
    type: 'RolloutStarted',
    at,
    revision: 'r2',
    trackedConfigs: {},
    hooks: [],
    restart: false,
  };

  it("replays a Canary's steps in order, only of its own uid", async () => {
    const store = new RolloutStore(bus);
    const key = { namespace: 'prod', name: 'podinfo', uid: 'uid-1' };
    assert.deepEqual(await store.load(key), { steps: [], lastSubjectSeq: 0 });
    const s1 = await store.append(key, 1, [init], 0, at);
    const s2 = await store.append(key, 2, [start], s1, at);
    // The same name re-created (new uid) continues on the subject but starts its own history.
    const other = { ...key, uid: 'uid-2' };
    const s3 = await store.append(other, 1, [init], s2, at);
    const h = await store.load(key);
    assert.deepEqual(
      h.steps.map((s) => [s.step, s.events[0]?.type]),
      [
        [1, 'Initialized'],
        [2, 'RolloutStarted'],
      ],
    );
    assert.equal(h.lastSubjectSeq, s3);
    assert.equal((await store.load(other)).steps.length, 1);
  });

  it('of two writers deciding from the same history, only one appends', async () => {
    const store = new RolloutStore(bus);
    const key = { namespace: 'prod', name: 'race', uid: 'uid-r' };
    const s1 = await store.append(key, 1, [init], 0, at);
    await store.append(key, 2, [start], s1, at);
    await assert.rejects(
      store.append(key, 2, [{ ...start, revision: 'r3' }], s1, at),
      (e: unknown) => e instanceof ConcurrentAppendError,
    );
    const steps = (await store.load(key)).steps;
    assert.equal(steps.length, 2);
    assert.equal(steps[1]?.events[0]?.type === 'RolloutStarted' && steps[1].events[0].revision, 'r2');
  });
});
