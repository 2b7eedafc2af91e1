import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planStages, compareForDelete, type KubeObject } from './index.js';

const o = (kind: string, name: string, namespace?: string): { object: KubeObject } => ({
  object: { apiVersion: 'v1', kind, metadata: { name, ...(namespace ? { namespace } : {}) } },
});

describe('apply order', () => {
  it('puts CRDs and Namespaces first, classes next, webhooks last, a stable kind order in between', () => {
    const plan = planStages([
      o('ValidatingWebhookConfiguration', 'hook'),
      o('Deployment', 'web', 'app'),
      o('Widget', 'w1', 'app'),
      o('Service', 'web', 'app'),
      o('ClusterRole', 'reader'),
      o('Namespace', 'app'),
      o('CustomResourceDefinition', 'widgets.example.com'),
      o('ConfigMap', 'cfg', 'app'),
    ]);
    assert.deepEqual(
      plan.map((s) => [s.stage, s.items.map((i) => i.object.kind)]),
      [
        ['definitions', ['CustomResourceDefinition', 'Namespace']],
        ['classes', ['ClusterRole']],
        ['resources', ['ConfigMap', 'Service', 'Deployment', 'Widget']],
        ['webhooks', ['ValidatingWebhookConfiguration']],
      ],
    );
  });

  it('deletes in reverse order', () => {
    const items = [o('Namespace', 'app').object, o('Deployment', 'web', 'app').object];
    assert.deepEqual(
      items.sort(compareForDelete).map((x) => x.kind),
      ['Deployment', 'Namespace'],
    );
  });
});
