import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SyncFleet } from './support/sync-fleet.js';
import { intervals, overlapping } from './support/step-trace.js';
import { readObject } from './support/kube.js';
import { waitFor } from './support/wait.js';

// Three reconciler replicas as real processes on a 3-node NATS cluster (streams at 3 replicas)
// against the real API server: each Sync is owned by one replica, a replica that dies or joins
// moves Syncs, and no Sync is ever reconciled by two replicas at once.
const SYNCS = 24;

describe('reconciler replicas', () => {
  let fleet: SyncFleet;
  before(async () => {
    fleet = await SyncFleet.start({ syncs: SYNCS, natsCluster: true, env: { SHARD_LEASE_SECONDS: '3' } });
    await fleet.replicas.start('git-watcher');
    for (let i = 0; i < 3; i++) await fleet.replicas.start('reconciler');
  });
  after(() => fleet.stop());

  const runs = async (since: number) =>
    (await fleet.trace()).filter((e) => e.step === 'reconciler.run-start' && e.at >= since);
  const noOverlap = async () => {
    const spans = intervals(
      await fleet.trace(),
      'reconciler.run-start',
      'reconciler.run-end',
      fleet.killedAt(),
    );
    const both = overlapping(spans);
    assert.deepEqual(
      both.map(
        ([a, b]) => `${a.key}: pid ${a.pid} [${a.from}, ${a.to}] and pid ${b.pid} [${b.from}, ${b.to}]`,
      ),
      [],
      'no Sync reconciled by two replicas at once',
    );
  };

  it('splits the Syncs between the replicas: each commit reconciles each Sync on one of them', async () => {
    await fleet.allReady();
    const since = Date.now();
    await fleet.commit();
    await fleet.allReady();
    const byPid = new Map<number, Set<string>>();
    for (const r of await runs(since)) byPid.set(r.pid, (byPid.get(r.pid) ?? new Set()).add(r.key));
    const live = fleet.replicas.live('reconciler').map((r) => r.pid);
    assert.deepEqual([...byPid.keys()].sort(), [...live].sort(), 'every replica reconciled some Syncs');
    const owners = new Map<string, number[]>();
    for (const [pid, keys] of byPid) for (const k of keys) owners.set(k, [...(owners.get(k) ?? []), pid]);
    assert.equal(owners.size, SYNCS);
    for (const [k, pids] of owners) assert.equal(pids.length, 1, `${k} reconciled by one replica`);
    await noOverlap();
  });

  it("reconciles a killed replica's Syncs on the others", async () => {
    const since = Date.now();
    await fleet.commit();
    await fleet.allReady();
    const [victim] = fleet.replicas.live('reconciler');
    assert.ok(victim);
    const itsSyncs = new Set((await runs(since)).filter((r) => r.pid === victim.pid).map((r) => r.key));
    assert.ok(itsSyncs.size > 0);
    // Killed with a commit in flight: nothing is released, its shards move when its lease lapses.
    await fleet.commit();
    await fleet.replicas.kill(victim);
    await fleet.allReady();
    // Taken over when its lease lapses, every one of them is reconciled by its new owner.
    const after = await waitFor('its Syncs reconciled by the others', async () => {
      const taken = (await runs(victim.killedAt ?? 0)).filter((r) => itsSyncs.has(r.key));
      return new Set(taken.map((r) => r.key)).size === itsSyncs.size ? taken : undefined;
    });
    assert.ok(after.every((r) => r.pid !== victim.pid));
    await noOverlap();
  });

  it('never reconciles a Sync on two replicas at once while replicas die, join and leave', async () => {
    const start = Date.now();
    // Round 1: a replica joins while a commit is being applied (shards are handed over to it).
    await fleet.commit();
    await fleet.replicas.start('reconciler');
    // Round 2: kill -9 one in the middle of the next commit, start another.
    await fleet.commit();
    await new Promise((r) => setTimeout(r, 300));
    await fleet.replicas.kill(fleet.replicas.live('reconciler')[0]!);
    await fleet.replicas.start('reconciler');
    // Round 3: one leaves on purpose (SIGTERM) while the last commit arrives.
    const revision = await fleet.commit();
    await fleet.replicas.live('reconciler')[0]!.process.stop();
    await fleet.allReady(revision, 120_000);
    for (const name of fleet.names) {
      const cm = await readObject<{ data?: Record<string, string> }>(
        fleet.api,
        'v1',
        'ConfigMap',
        fleet.ns,
        name,
      );
      assert.equal(cm?.data?.['round'], String(fleet.round), `${name} at the last commit`);
    }
    await noOverlap();
    // The check was not vacuous: Syncs changed hands during the churn.
    const pidsPerSync = new Map<string, Set<number>>();
    for (const r of await runs(start))
      pidsPerSync.set(r.key, (pidsPerSync.get(r.key) ?? new Set()).add(r.pid));
    assert.ok(
      [...pidsPerSync.values()].some((p) => p.size > 1),
      'some Sync moved between replicas',
    );
  });
});
