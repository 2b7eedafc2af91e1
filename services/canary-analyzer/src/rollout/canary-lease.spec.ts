import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { sharedCluster } from '@capstan/testing';
import { ObjectApi, createKubeConfig } from '@capstan/kube';
import { CanaryLeases } from './canary-lease.js';

/**
 * Two replicas' CanaryLeases (`a` started, `b` not) with leases of `seconds`, in a namespace of
 * their own on the shared API server, stopped and removed afterwards.
 */
async function withReplicas(
  seconds: number,
  test: (r: { kc: KubeConfig; namespace: string; a: CanaryLeases; b: CanaryLeases }) => Promise<void>,
): Promise<void> {
  const { kubeconfigPath } = await sharedCluster();
  const kc = createKubeConfig(kubeconfigPath);
  const namespace = `lease-${randomBytes(3).toString('hex')}`;
  const objects = ObjectApi.fromKubeConfig(kc);
  await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const now = () => new Date();
  const a = new CanaryLeases(kc, 'replica-a', seconds, now);
  const b = new CanaryLeases(kc, 'replica-b', seconds, now);
  a.start();
  try {
    await test({ kc, namespace, a, b });
  } finally {
    await a.stop();
    await b.stop();
    await objects.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  }
}

// Against the shared API server: Leases are what two replicas compare, so they are tested as written there.
describe('CanaryLeases', () => {
  it('keeps a held lease through background renewals: ticks racing them never lose it, another replica never gets it', async () => {
    // 4 s: an API server on a loaded test machine can take a second to answer a renewal.
    await withReplicas(4, async ({ kc, namespace, a, b }) => {
      assert.equal(await a.acquire(namespace, 'web', 500), true);
      // Three lease durations of ticks, many at once, while the renewals run beside them.
      const until = Date.now() + 12_000;
      while (Date.now() < until) {
        const ticks = await Promise.all(Array.from({ length: 5 }, () => a.acquire(namespace, 'web', 500)));
        assert.deepEqual(ticks, [true, true, true, true, true]);
        assert.equal(await b.acquire(namespace, 'web', 500), false);
        await new Promise((r) => setTimeout(r, 150));
      }
      const lease = await kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ namespace, name: 'canary-web' });
      assert.equal(lease.spec?.holderIdentity, 'replica-a');
      assert.equal(lease.spec.leaseTransitions ?? 0, 0);
    });
  });

  it('lets a lease nobody ticks any more go, and another replica takes it once it expired', async () => {
    await withReplicas(2, async ({ namespace, a, b }) => {
      assert.equal(await a.acquire(namespace, 'api'), true);
      assert.equal(await b.acquire(namespace, 'api'), false);
      // Not ticked for two durations: no longer renewed, expired a duration later.
      let taken = false;
      for (let i = 0; i < 40 && !taken; i++) {
        await new Promise((r) => setTimeout(r, 250));
        taken = await b.acquire(namespace, 'api');
      }
      assert.equal(taken, true);
      assert.equal(await a.acquire(namespace, 'api'), false);
    });
  });
});
