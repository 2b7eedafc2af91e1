import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SyncFleet } from './support/sync-fleet.js';
import { applyYaml, readObject } from './support/kube.js';
import { waitFor } from './support/wait.js';
import type { Replica } from './support/replicas.js';

// Three git-watcher replicas as processes: each GitRepository is polled by one of them, and a
// push webhook received by any replica makes the owner poll.
const REPOS = 9;
const TOKEN = 'fleet-token';

describe('git-watcher replicas', () => {
  let fleet: SyncFleet;
  let watchers: Replica[];
  const names = Array.from({ length: REPOS }, (_, i) => `repo-${i}`);
  const fetches = async (since: number) =>
    (await fleet.trace()).filter((e) => e.step === 'git-watcher.fetched' && e.at >= since);
  const ownerOf = async (key: string) => {
    const last = (await fetches(0)).filter((e) => e.key === key).at(-1);
    return fleet.replicas.live('git-watcher').find((r) => r.pid === last?.pid);
  };

  before(async () => {
    fleet = await SyncFleet.start({ syncs: 0, env: { SHARD_LEASE_SECONDS: '3' } });
    await applyYaml(
      fleet.api,
      [
        `apiVersion: v1\nkind: Secret\nmetadata: {name: hook, namespace: ${fleet.ns}}\nstringData: {token: ${TOKEN}}\n`,
        ...names.map(
          (n) =>
            `apiVersion: capstan.dev/v1alpha1\nkind: GitRepository\nmetadata: {name: ${n}, namespace: ${fleet.ns}}\nspec: {url: "${fleet.repo.url}", ref: {branch: main}, interval: 10m}\n`,
        ),
        ...names.map(
          (n) =>
            `apiVersion: capstan.dev/v1alpha1\nkind: Receiver\nmetadata: {name: ${n}, namespace: ${fleet.ns}}\nspec: {type: generic, secretRef: {name: hook}, resources: [{kind: GitRepository, name: ${n}}]}\n`,
        ),
      ].join('---\n'),
    );
    watchers = [];
    for (let i = 0; i < 3; i++) watchers.push(await fleet.replicas.start('git-watcher'));
  });
  after(() => fleet.stop());

  const push = async (replica: Replica, name: string) => {
    const path = await waitFor(`Receiver ${name} path`, async () => {
      const r = await readObject<{ status?: { webhookPath?: string } }>(
        fleet.api,
        'capstan.dev/v1alpha1',
        'Receiver',
        fleet.ns,
        name,
      );
      return r?.status?.webhookPath;
    });
    const sha = fleet.repo.commit(`push for ${name}`, { name: 'Fleet', email: 'fleet@example.com' });
    const body = JSON.stringify({ ref: 'refs/heads/main', after: sha });
    const res = await fetch(new URL(path, replica.url), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature': `sha256=${createHmac('sha256', TOKEN).update(body).digest('hex')}`,
      },
      body,
    });
    assert.equal(res.status, 202, await res.text());
    return sha;
  };

  it('polls each repository on one replica, and all replicas take a share', async () => {
    await waitFor('every repository polled', async () => {
      const keys = new Set((await fetches(0)).map((e) => e.key));
      return names.every((n) => keys.has(fleet.key(n))) ? true : undefined;
    });
    // Once all three hold their share, each repository's polls come from one replica.
    await fleet.shardsSettled('git-watcher', watchers);
    const joined = Date.now();
    for (const n of names) await push(watchers[0]!, n);
    await waitFor('the pushes polled', async () => {
      const keys = new Set((await fetches(joined)).map((e) => e.key));
      return names.every((n) => keys.has(fleet.key(n))) ? true : undefined;
    });
    const pidsOf = new Map<string, Set<number>>();
    for (const e of await fetches(joined)) pidsOf.set(e.key, (pidsOf.get(e.key) ?? new Set()).add(e.pid));
    // Every replica holds a share of the shards; which repositories fall in whose shards depends
    // on the namespace's random name, so each is checked against the holder of its own shard.
    const holders = await fleet.shardHolders('git-watcher');
    assert.deepEqual(
      [...new Set(holders.values())].sort(),
      watchers.map((w) => w.identity).sort(),
      'every replica holds shards',
    );
    for (const [key, pids] of pidsOf) {
      assert.equal(pids.size, 1, `${key} polled by one replica`);
      const holder = watchers.find((w) => w.identity === holders.get(fleet.shardOf(key)));
      assert.deepEqual([...pids], [holder?.pid], `${key} polled by the holder of its shard`);
    }
  });

  it('makes the owner poll when the webhook reaches another replica', async () => {
    const key = fleet.key(names[0]!);
    const owner = await ownerOf(key);
    assert.ok(owner);
    const other = watchers.find((w) => w !== owner)!;
    const since = Date.now();
    const sha = await push(other, names[0]!);
    const polled = await waitFor('the owner polls', async () =>
      (await fetches(since)).find((e) => e.key === key),
    );
    assert.equal(polled.pid, owner.pid);
    await waitFor('the artifact at the pushed commit', async () =>
      (await fleet.resources.get('GitRepository', fleet.ns, names[0]!)).status?.artifact?.sha === sha
        ? true
        : undefined,
    );
  });

  it("polls a killed replica's repositories on the others", async () => {
    const key = fleet.key(names[1]!);
    const owner = await ownerOf(key);
    assert.ok(owner);
    await fleet.replicas.kill(owner);
    const survivor = fleet.replicas.live('git-watcher')[0]!;
    const sha = await push(survivor, names[1]!);
    await waitFor('the artifact at the pushed commit', async () =>
      (await fleet.resources.get('GitRepository', fleet.ns, names[1]!)).status?.artifact?.sha === sha
        ? true
        : undefined,
    );
    const after = (await fetches(owner.killedAt ?? 0)).filter((e) => e.key === key);
    assert.ok(after.length > 0 && after.every((e) => e.pid !== owner.pid));
  });
});
