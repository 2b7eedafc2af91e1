import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { registerHooks } from 'node:module';
import { loadApiGroupsLazily } from './lazy-api-groups.js';

// The hooks must be in place before anything loads the client, so everything else is imported
// after registering them, as a service's main does.
loadApiGroupsLazily();
const loadedModels: string[] = [];
registerHooks({
  load(url, context, next) {
    if (url.includes('/@kubernetes/client-node/dist/gen/models/'))
      loadedModels.push(url.slice(url.lastIndexOf('/') + 1));
    return next(url, context);
  },
});
const k = await import('@kubernetes/client-node');
const { sharedCluster } = await import('@capstan/testing');
const { createKubeConfig, SecretReader, SecretNotFoundError } = await import('./index.js');

// The API groups the index exports, loaded on first use from the generated code, against a real
// API server: requests, typed answers (dates), patch content types and errors as before.
describe('lazily loaded API groups of @kubernetes/client-node', () => {
  let kc: InstanceType<typeof k.KubeConfig>;
  const ns = `lazy-${randomBytes(3).toString('hex')}`;

  before(async () => {
    kc = createKubeConfig((await sharedCluster()).kubeconfigPath);
  });

  it('reads, creates and patches through the core and coordination groups', async () => {
    const core = kc.makeApiClient(k.CoreV1Api);
    const leases = kc.makeApiClient(k.CoordinationV1Api);
    const def = await core.readNamespace({ name: 'default' });
    assert.ok(def.metadata?.creationTimestamp instanceof Date, 'answers are deserialized to their types');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    try {
      await leases.createNamespacedLease({
        namespace: ns,
        body: { metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 6 } },
      });
      await leases.patchNamespacedLease(
        { namespace: ns, name: 'l', body: { spec: { holderIdentity: 'b' } } },
        k.setHeaderOptions('Content-Type', k.PatchStrategy.MergePatch),
      );
      const lease = await leases.readNamespacedLease({ namespace: ns, name: 'l' });
      assert.equal(lease.spec?.holderIdentity, 'b');
      assert.equal(lease.spec.leaseDurationSeconds, 6);
      assert.ok(lease.metadata?.creationTimestamp instanceof Date);
      await assert.rejects(
        leases.readNamespacedLease({ namespace: ns, name: 'missing' }),
        (e: unknown) => e instanceof k.ApiException && e.code === 404,
      );
      await assert.rejects(new SecretReader(kc).read(ns, 'missing'), SecretNotFoundError);
    } finally {
      await core.deleteNamespace({ name: ns });
    }
  });

  it('loads the model classes as one module, exported as before', () => {
    assert.deepEqual([...new Set(loadedModels)].sort(), ['ObjectSerializer.js', 'all.js']);
    assert.equal(typeof k.V1Pod, 'function');
    assert.deepEqual(
      k.V1Lease.getAttributeTypeMap().map((a) => a.name),
      ['apiVersion', 'kind', 'metadata', 'spec'],
    );
  });

  it('lists through the custom objects group', async () => {
    const custom = kc.makeApiClient(k.CustomObjectsApi);
    const list = (await custom.listClusterCustomObject({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      plural: 'customresourcedefinitions',
    })) as { items: unknown[] };
    assert.ok(Array.isArray(list.items));
  });
});
