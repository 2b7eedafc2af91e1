import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseManifests } from '@capstan/gitops-core';
import { sharedCluster } from '@capstan/testing';
import { ApplyRejectedError, ObjectApi, ServerSideApplier, createKubeConfig } from './index.js';

// Against the real kube-apiserver: staged server-side apply and its typed change set.
describe('ServerSideApplier', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `apply-${id}`;
  const group = `t${id}.example.com`;
  let api: ObjectApi;
  let applier: ServerSideApplier;
  const options = {
    fieldManager: 'capstan',
    defaultNamespace: ns,
    labels: { 'capstan.dev/sync-name': 'test' },
  };
  const apply = (yaml: string) =>
    applier.apply(parseManifests([{ path: 'set.yaml', content: yaml }]), options);

  before(async () => {
    api = ObjectApi.fromKubeConfig(createKubeConfig((await sharedCluster()).kubeconfigPath));
    applier = new ServerSideApplier(api);
  });

  it('applies a CRD, its namespace and a custom resource of it in one set, in stages', async () => {
    const result = await apply(`apiVersion: ${group}/v1
kind: Widget
metadata: {name: w1, namespace: ${ns}}
spec: {size: 3}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: defaulted}
data: {a: b}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.${group}}
spec:
  group: ${group}
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer, default: 1}
              x-kubernetes-validations: [{rule: "self.size <= 10", message: "size at most 10"}]
---
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
`);
    assert.deepEqual(
      result.changeSet.map((c) => [c.kind, c.namespace, c.action]),
      [
        ['CustomResourceDefinition', '', 'created'],
        ['Namespace', '', 'created'],
        ['ConfigMap', ns, 'created'],
        ['Widget', ns, 'created'],
      ],
    );
    // The CRD arrived whole: its CEL rule is enforced by the API server.
    const crd = (await api.read({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
    })) as {
      spec: {
        versions: { schema: { openAPIV3Schema: { properties: { spec: Record<string, unknown> } } } }[];
      };
    };
    assert.ok(JSON.stringify(crd.spec.versions[0]?.schema).includes('size at most 10'));
  });

  it('reports unchanged and configured objects on the next apply', async () => {
    const result = await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: defaulted}
data: {a: changed}
---
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
`);
    assert.deepEqual(
      result.changeSet.map((c) => [c.kind, c.action]),
      [
        ['Namespace', 'unchanged'],
        ['ConfigMap', 'configured'],
      ],
    );
  });

  it('rejects the whole set when one object is invalid, naming it, its file and the server message', async () => {
    const err = await apply(`apiVersion: v1
kind: ConfigMap
metadata: {name: fine, namespace: ${ns}}
data: {a: b}
---
apiVersion: ${group}/v1
kind: Widget
metadata: {name: huge, namespace: ${ns}}
spec: {size: 50}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: typo, namespace: ${ns}}
dataa: {a: b}
`).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApplyRejectedError);
    const byObject = new Map(err.failures.map((f) => [f.object, f]));
    assert.match(byObject.get(`${ns}/Widget/huge`)?.message ?? '', /size at most 10/);
    assert.equal(byObject.get(`${ns}/Widget/huge`)?.origin?.document, 1);
    // Strict field validation: a typo is an error, not a silently dropped field.
    assert.match(byObject.get(`${ns}/ConfigMap/typo`)?.message ?? '', /dataa/);
    assert.equal(byObject.has(`${ns}/ConfigMap/fine`), false);
    await assert.rejects(
      api.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fine', namespace: ns } }),
      /404|not found/i,
    );
  });
});
