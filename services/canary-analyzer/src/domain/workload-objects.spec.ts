import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCanary } from '@capstan/canary-core';
import {
  apexForTarget,
  configRefsOf,
  primaryDeployment,
  services,
  selectorOf,
  WorkloadError,
} from './workload-objects.js';
import { affinityCookie, httpRoute, revertedHttpRoute, trafficSplit } from './routes.js';
import { revisionOf } from './revision.js';

const owner = { apiVersion: 'flagger.app/v1beta1', kind: 'Canary', name: 'podinfo', uid: 'u1' };
const target = {
  metadata: { name: 'podinfo', namespace: 'prod', labels: { app: 'podinfo' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'podinfo' } },
    template: {
      metadata: { labels: { app: 'podinfo' } },
      spec: {
        containers: [
          {
            name: 'podinfod',
            image: 'ghcr.io/stefanprodan/podinfo:6.0.1',
            envFrom: [{ configMapRef: { name: 'podinfo-env' } }],
            env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'podinfo-token' } } }],
          },
        ],
        volumes: [{ name: 'cfg', configMap: { name: 'podinfo-config' } }],
      },
    },
  },
};
const model = parseCanary({
  apiVersion: 'flagger.app/v1beta1',
  metadata: { name: 'podinfo', namespace: 'prod' },
  spec: {
    targetRef: { kind: 'Deployment', name: 'podinfo' },
    service: { port: 9898 },
    analysis: { stepWeight: 10 },
  },
});

describe('workload objects', () => {
  it('finds every ConfigMap and Secret a pod template reads', () => {
    assert.deepEqual(configRefsOf(target.spec.template), {
      configMaps: ['podinfo-config', 'podinfo-env'],
      secrets: ['podinfo-token'],
    });
  });

  it('builds the -primary Deployment: selector value -primary, tracked configs renamed to their -primary copies', () => {
    const tracked = configRefsOf(target.spec.template);
    const p = primaryDeployment(model, target, tracked, owner, 2) as unknown as {
      metadata: { name: string };
      spec: { selector: { matchLabels: Record<string, string> }; template: typeof target.spec.template };
    };
    assert.equal(p.metadata.name, 'podinfo-primary');
    assert.deepEqual(p.spec.selector.matchLabels, { app: 'podinfo-primary' });
    const c = p.spec.template.spec.containers[0];
    assert.equal(c?.envFrom[0]?.configMapRef.name, 'podinfo-env-primary');
    assert.equal(c.env[0]?.valueFrom.secretKeyRef.name, 'podinfo-token-primary');
    assert.equal(p.spec.template.spec.volumes[0]?.configMap.name, 'podinfo-config-primary');
    // The target is not touched.
    assert.equal(target.spec.template.spec.volumes[0]?.configMap.name, 'podinfo-config');
  });

  it('the apex and -primary Services select the primary, -canary the target', () => {
    const svcs = services(model, target, owner).map((s) => [
      s.metadata.name,
      (s['spec'] as { selector: Record<string, string> }).selector['app'],
    ]);
    assert.deepEqual(svcs, [
      ['podinfo', 'podinfo-primary'],
      ['podinfo-primary', 'podinfo-primary'],
      ['podinfo-canary', 'podinfo'],
    ]);
  });

  it('a target without a selector label Flagger knows is an error naming the field', () => {
    assert.throws(
      () => selectorOf({ spec: { selector: { matchLabels: { tier: 'web' } } } }, 'Deployment prod/x'),
      (e: unknown) => e instanceof WorkloadError && /matchLabels has none of app, name/.test(e.message),
    );
  });

  it('routes: a TrafficSplit and an HTTPRoute carry the weights; the revision moves with a config checksum', () => {
    assert.deepEqual((trafficSplit(model, 30, owner)['spec'] as { backends: unknown }).backends, [
      { service: 'podinfo-canary', weight: 30 },
      { service: 'podinfo-primary', weight: 70 },
    ]);
    const rules = (
      httpRoute(model, { canaryWeight: 30, abActive: false, mirror: false }, owner)['spec'] as {
        rules: { backendRefs: { name: string; weight: number }[] }[];
      }
    ).rules;
    assert.deepEqual(
      rules.map((r) => r.backendRefs.map((b) => [b.name, b.weight])),
      [
        [
          ['podinfo-primary', 70],
          ['podinfo-canary', 30],
        ],
      ],
    );
    assert.notEqual(
      revisionOf(target.spec.template, { 'configmap/podinfo-env': 'a' }),
      revisionOf(target.spec.template, { 'configmap/podinfo-env': 'b' }),
    );
    assert.equal(revisionOf(target.spec.template, {}), revisionOf(structuredClone(target.spec.template), {}));
  });

  it('Gateway API extras: mirroring copies requests to the canary; session affinity sets and follows a cookie', () => {
    const gw = (analysis: Record<string, unknown>) =>
      parseCanary({
        apiVersion: 'flagger.app/v1beta1',
        metadata: { name: 'podinfo', namespace: 'prod' },
        spec: {
          provider: 'gatewayapi:v1',
          targetRef: { kind: 'Deployment', name: 'podinfo' },
          service: { port: 9898 },
          analysis: { stepWeight: 10, ...analysis },
        },
      });
    const mirrored = gw({
      stepWeight: undefined,
      maxWeight: undefined,
      iterations: 3,
      mirror: true,
      mirrorWeight: 50,
    });
    const spec = httpRoute(mirrored, { canaryWeight: 0, abActive: false, mirror: true }, owner)['spec'] as {
      rules: { filters?: unknown[]; backendRefs: { name: string; weight: number }[] }[];
    };
    assert.deepEqual(spec.rules.at(-1)?.filters, [
      {
        type: 'RequestMirror',
        requestMirror: {
          backendRef: { group: '', kind: 'Service', name: 'podinfo-canary', port: 9898 },
          percent: 50,
        },
      },
    ]);
    assert.throws(
      () => gw({ mirror: true }),
      /spec.analysis.mirror: mirroring needs provider gatewayapi and iterations/,
    );

    const sticky = gw({ sessionAffinity: { cookieName: 'flagger-cookie', maxAge: 60 } });
    const cookie = affinityCookie('flagger-cookie', 'uid-1', 2);
    assert.equal(cookie, affinityCookie('flagger-cookie', 'uid-1', 2), 'a restart keeps the cookie');
    assert.notEqual(cookie, affinityCookie('flagger-cookie', 'uid-1', 3), 'a new rollout has its own');
    const rules = (
      httpRoute(sticky, { canaryWeight: 20, abActive: false, mirror: false, cookie }, owner)['spec'] as {
        rules: {
          matches?: { headers: { name: string; value: string }[] }[];
          backendRefs: {
            name: string;
            weight: number;
            filters?: { responseHeaderModifier: { add: { value: string }[] } }[];
          }[];
        }[];
      }
    ).rules;
    assert.equal(rules.length, 2);
    assert.equal(rules[0]?.matches?.[0]?.headers[0]?.name, 'Cookie');
    assert.ok(new RegExp(rules[0].matches[0].headers[0].value).test(`a=b; ${cookie}`));
    assert.deepEqual(
      rules[0].backendRefs.map((b) => [b.name, b.weight]),
      [['podinfo-canary', 100]],
    );
    assert.equal(
      rules[1]?.backendRefs[1]?.filters?.[0]?.responseHeaderModifier.add[0]?.value,
      `${cookie}; Max-Age=60`,
    );
    // At weight 0 (before the first step, after the rollout) nobody is made sticky.
    const idle = httpRoute(sticky, { canaryWeight: 0, abActive: false, mirror: false, cookie }, owner)[
      'spec'
    ] as {
      rules: unknown[];
    };
    assert.equal(idle.rules.length, 1);
  });

  it('revert on deletion: the apex Service selects the target without an owner; the route points at the apex', () => {
    const svc = apexForTarget(model, target);
    assert.deepEqual(svc['spec'], {
      type: 'ClusterIP',
      selector: { app: 'podinfo' },
      ports: [{ name: 'http', port: 9898, targetPort: 9898, protocol: 'TCP' }],
    });
    assert.equal(svc.metadata.ownerReferences, undefined);
    const route = revertedHttpRoute(model);
    assert.equal(route.metadata.ownerReferences, undefined);
    assert.deepEqual((route['spec'] as { rules: unknown }).rules, [
      { backendRefs: [{ group: '', kind: 'Service', name: 'podinfo', port: 9898, weight: 100 }] },
    ]);
  });
});
