import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inventoryEntry, parseManifests, staleObjects } from '@capstan/gitops-core';
import { sharedCluster } from '@capstan/testing';
import {
  ApplyRejectedError,
  HealthChecker,
  ObjectApi,
  Pruner,
  ServerSideApplier,
  createKubeConfig,
  isNotFound,
  type ApplyOptions,
} from './index.js';

// Against the real kube-apiserver (kwok runs the pods): diff-based apply, immutable fields,
// opt-out annotations, targetNamespace, ownership-checked prune and health.
describe('apply policies', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `pol-${id}`;
  const other = `pol2-${id}`;
  const owner = { 'capstan.dev/sync-name': 's', 'capstan.dev/sync-namespace': 'default' };
  let api: ObjectApi;
  let applier: ServerSideApplier;
  const options: ApplyOptions = { fieldManager: 'capstan', defaultNamespace: ns, labels: owner };
  const apply = (yaml: string, extra: Partial<ApplyOptions> = {}) =>
    applier.apply(parseManifests([{ path: 'set.yaml', content: yaml }]), { ...options, ...extra });
  const read = async (kind: string, name: string, apiVersion = 'v1', namespace = ns) => {
    try {
      const o: unknown = await api.read({ apiVersion, kind, metadata: { name, namespace } });
      return o as {
        metadata: { uid: string; labels?: Record<string, string> };
        data?: Record<string, string>;
        spec?: { clusterIP?: string };
      };
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  const job = (image: string, annotations = '') => `apiVersion: batch/v1
kind: Job
metadata: {name: migrate${annotations}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: "${image}"}]
`;

  before(async () => {
    api = ObjectApi.fromKubeConfig(createKubeConfig((await sharedCluster()).kubeconfigPath));
    applier = new ServerSideApplier(api);
    await apply(
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ${other}}\n`,
    );
  });

  it('writes only objects whose dry-run differs from the live object', async () => {
    const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {v: "${v}"}\n`;
    assert.deepEqual(
      (await apply(cm('1'))).changeSet.map((c) => c.action),
      ['created'],
    );
    const rv = (
      await api.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: ns } })
    ).metadata?.resourceVersion;
    assert.deepEqual(
      (await apply(cm('1'))).changeSet.map((c) => c.action),
      ['unchanged'],
    );
    const after = await api.read({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', namespace: ns },
    });
    assert.equal(after.metadata?.resourceVersion, rv);
    assert.deepEqual(
      (await apply(cm('2'))).changeSet.map((c) => c.action),
      ['configured'],
    );
  });

  it('fails on an immutable field without force, and recreates with force or the annotation', async () => {
    await apply(job('busybox:1'));
    const uid = (await read('Job', 'migrate', 'batch/v1'))?.metadata.uid;
    const err = await apply(job('busybox:2')).catch((e: unknown) => e);
    assert.ok(err instanceof ApplyRejectedError, String(err));
    assert.match(err.message, /immutable/);
    assert.equal((await read('Job', 'migrate', 'batch/v1'))?.metadata.uid, uid);

    const forced = await apply(job('busybox:2'), { force: true });
    assert.deepEqual(
      forced.changeSet.map((c) => [c.kind, c.action]),
      [['Job', 'created']],
    );
    const uid2 = (await read('Job', 'migrate', 'batch/v1'))?.metadata.uid;
    assert.notEqual(uid2, uid);

    const annotated = await apply(job('busybox:3', `, annotations: {capstan.dev/force: enabled}`));
    assert.deepEqual(
      annotated.changeSet.map((c) => c.action),
      ['created'],
    );
    assert.notEqual((await read('Job', 'migrate', 'batch/v1'))?.metadata.uid, uid2);
  });

  it('recreates a Service whose clusterIP changed only when forced', async () => {
    const svc = (ip: string) =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: fixed}\nspec: {clusterIP: "${ip}", ports: [{port: 80}]}\n`;
    // Addresses picked from this run's id so parallel runs do not collide in the service range.
    const ip = (n: number) =>
      `10.96.${200 + (Number.parseInt(id.slice(0, 2), 16) % 50)}.${n + (Number.parseInt(id.slice(2, 4), 16) % 100)}`;
    await apply(svc(ip(1)));
    await assert.rejects(apply(svc(ip(2))), /may not change|immutable/);
    await apply(svc(ip(2)), { force: true });
    assert.equal((await read('Service', 'fixed'))?.spec?.clusterIP, ip(2));
  });

  it('skips objects opted out by annotation and overrides namespaces with targetNamespace', async () => {
    const result = await apply(
      `apiVersion: v1
kind: ConfigMap
metadata: {name: hands-off, annotations: {capstan.dev/reconcile: disabled}}
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: flux-ignored, annotations: {fluxcd.io/ignore: "true"}}
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: moved, namespace: somewhere-else}
data: {a: b}
`,
      { targetNamespace: other },
    );
    assert.deepEqual(
      result.changeSet.map((c) => [c.name, c.namespace, c.action]),
      [
        ['flux-ignored', other, 'skipped'],
        ['hands-off', other, 'skipped'],
        ['moved', other, 'created'],
      ],
    );
    assert.equal(await read('ConfigMap', 'hands-off', 'v1', other), undefined);
    assert.ok(await read('ConfigMap', 'moved', 'v1', other));
  });

  it('prunes only objects carrying this owner labels, and honours sync_only', async () => {
    const set = `apiVersion: v1
kind: ConfigMap
metadata: {name: gone}
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: keep-me, annotations: {fluxcd.io/ignore: sync_only}}
data: {a: b}
`;
    const first = await apply(set);
    // A ConfigMap someone else owns, listed in the inventory by mistake.
    await api.applyRaw(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'theirs', namespace: ns }, data: { a: 'b' } },
      { fieldManager: 'someone' },
    );
    const previous = [
      ...first.applied.map(inventoryEntry),
      { id: `${ns}_theirs__ConfigMap`, v: 'v1' },
      { id: `${ns}_never-existed__ConfigMap`, v: 'v1' },
    ];
    const deleted = await new Pruner(api).prune(staleObjects(previous, []), owner);
    assert.deepEqual(
      deleted.map((c) => [c.name, c.action]),
      [
        // Reverse apply order: within one kind, names in reverse.
        ['theirs', 'skipped'],
        ['keep-me', 'skipped'],
        ['gone', 'deleted'],
      ],
    );
    assert.equal(await read('ConfigMap', 'gone'), undefined);
    assert.ok(await read('ConfigMap', 'keep-me'));
    assert.ok(await read('ConfigMap', 'theirs'));
  });

  it('waits for a Deployment to become healthy', async () => {
    const result = await apply(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`);
    const report = await new HealthChecker(api).waitHealthy(result.applied, 120_000);
    assert.deepEqual(report, { healthy: true, timedOut: false, unhealthy: [] });
  });
});
