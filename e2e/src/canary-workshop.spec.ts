import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CanaryStage, type DecisionView } from './support/canary-stage.js';
import { applyYaml, readObject } from './support/kube.js';
import { waitFor } from './support/wait.js';

/**
 * The gitops-helm-workshop's Canary, exactly as its repository has it (flagger.app/v1beta1,
 * namespace prod, Linkerd metrics, interval 10s, stepWeight 5, maxWeight 50, threshold 5, an
 * acceptance test before any traffic and a `hey` load test), on the real data plane: podinfo
 * processes on loopback pod IPs, HAProxy following the TrafficSplit, Prometheus scraping
 * Linkerd-format metrics, Flagger's built-in queries unchanged.
 */
const WORKSHOP_CANARY = `
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: prod
  annotations:
    fluxcd.io/ignore: "false"
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 10s
    maxWeight: 50
    stepWeight: 5
    threshold: 5
    metrics:
      - name: request-success-rate
        thresholdRange:
          min: 99
        interval: 1m
      - name: request-duration
        thresholdRange:
          max: 500
        interval: 1m
    webhooks:
      - name: acceptance-test
        type: pre-rollout
        url: http://flagger-loadtester.prod/
        timeout: 30s
        metadata:
          type: bash
          cmd: "curl -sd 'test' http://podinfo-canary.prod:9898/token | grep token"
      - name: load-test
        type: rollout
        url: http://flagger-loadtester.prod/
        metadata:
          cmd: "hey -z 2m -q 10 -c 2 http://podinfo-canary.prod:9898/"
`;

interface SplitView {
  spec: { backends: { service: string; weight: number }[] };
}
interface DeploymentView {
  spec: { replicas?: number; template: { spec: { containers: { image: string }[] } } };
}

describe('canary: the workshop Canary, promoted and rolled back', { timeout: 900_000 }, () => {
  let stage: CanaryStage;

  before(async () => {
    stage = await CanaryStage.start('prod');
    await stage.startAnalyzer();
    await stage.deployPodinfo('podinfo', '6.0.0');
    await applyYaml(stage.api, WORKSHOP_CANARY);
  });

  after(async () => {
    await stage.stop();
  });

  const image = async (name: string) =>
    (await readObject<DeploymentView>(stage.api, 'apps/v1', 'Deployment', 'prod', name))?.spec.template.spec
      .containers[0]?.image;

  it('initializes: podinfo-primary, the three Services, a TrafficSplit at 0 %, the target scaled to zero', async () => {
    await stage.waitPhase('podinfo', ['Initialized'], 60_000);
    assert.equal(await image('podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.0.0');
    for (const svc of ['podinfo', 'podinfo-primary', 'podinfo-canary'])
      assert.ok(await readObject(stage.api, 'v1', 'Service', 'prod', svc), `Service ${svc}`);
    const split = await readObject<SplitView>(
      stage.api,
      'split.smi-spec.io/v1alpha1',
      'TrafficSplit',
      'prod',
      'podinfo',
    );
    assert.deepEqual(split?.spec.backends, [
      { service: 'podinfo-canary', weight: 0 },
      { service: 'podinfo-primary', weight: 100 },
    ]);
    await waitFor('target scaled to zero', async () =>
      (await readObject<DeploymentView>(stage.api, 'apps/v1', 'Deployment', 'prod', 'podinfo'))?.spec
        .replicas === 0
        ? true
        : undefined,
    );
    // The apex Service answers from the primary through the real proxy.
    const body = await waitFor('podinfo answers through the proxy', async () => {
      const res = await stage.plane.proxy.fetch('http://podinfo.prod:9898/').catch(() => undefined);
      return res?.ok ? ((await res.json()) as { version: string }) : undefined;
    });
    assert.equal(body.version, '6.0.0');
  });

  it('a good version is promoted step by step, 5 % to 50 %, and the audit log tells it', async () => {
    await stage.deployPodinfo('podinfo', '6.0.1');
    const weights = new Set<number>();
    const done = await waitFor(
      'the good version promoted',
      async () => {
        const s = await stage.canary('podinfo');
        if (s.phase === 'Progressing' && s.canaryWeight !== undefined) weights.add(s.canaryWeight);
        if (s.phase === 'Failed') throw new Error(`rolled back: ${JSON.stringify(s.conditions)}`);
        return s.phase === 'Succeeded' ? s : undefined;
      },
      400_000,
    );
    assert.equal(done.failedChecks, 0);
    assert.equal(await image('podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.0.1');
    assert.ok(weights.has(50), `saw weights ${[...weights].join(',')}`);
    const decisions = await waitFor('the promotion in the audit log', async () => {
      const d = await stage.decisions('podinfo');
      return d.some((x) => x.action === 'canary.promoted') ? d : undefined;
    });
    const advanced = decisions.filter((d) => d.reason === 'WeightIncreased');
    assert.deepEqual(
      advanced.map((d) => (d.evidence['weight'] as { before: number; after: number }).after),
      [5, 10, 15, 20, 25, 30, 35, 40, 45, 50],
    );
    // Each step after the first carries the checks that allowed it: metric, query, value, threshold.
    const evidence = advanced[3]?.evidence['check'] as {
      metrics: {
        metric: string;
        query: string;
        canary: number;
        threshold: { min?: number };
        verdict: string;
      }[];
      webhooks: { name: string; status: number }[];
    };
    const rate = evidence.metrics.find((m) => m.metric === 'request-success-rate');
    assert.equal(rate?.verdict, 'Pass');
    assert.match(rate.query, /response_total\{namespace="prod",deployment=~"podinfo"/);
    assert.deepEqual(rate.threshold, { min: 99 });
    assert.equal(rate.canary, 100);
    assert.ok(evidence.webhooks.some((w) => w.name === 'load-test' && w.status === 202));
    assert.deepEqual(
      [...new Set(decisions.map((d) => d.action))].filter((a) => a !== 'skipped'),
      [
        'applied',
        'canary.started',
        'canary.advanced',
        ...(decisions.some((d) => d.action === 'canary.check-failed') ? ['canary.check-failed'] : []),
        'canary.promoted',
      ].filter((a) => decisions.some((d) => d.action === a)),
    );
  });

  it('a version answering 5xx is rolled back after 5 failed checks; the primary keeps the good one', async () => {
    const before = (await stage.decisions('podinfo')).length;
    await stage.deployPodinfo('podinfo', '6.0.2', { PODINFO_ERROR_RATE: '0.5' });
    const failed = await stage.waitPhase('podinfo', ['Failed'], 300_000);
    assert.equal(failed.failedChecks, 5);
    assert.equal(failed.canaryWeight, 0);
    assert.equal(await image('podinfo-primary'), 'ghcr.io/stefanprodan/podinfo:6.0.1');
    const split = await readObject<SplitView>(
      stage.api,
      'split.smi-spec.io/v1alpha1',
      'TrafficSplit',
      'prod',
      'podinfo',
    );
    assert.deepEqual(
      split?.spec.backends.map((b) => b.weight),
      [0, 100],
    );
    const story: DecisionView[] = await waitFor('the rollback in the audit log', async () => {
      const d = (await stage.decisions('podinfo')).slice(before);
      return d.some((x) => x.action === 'canary.rolled-back') ? d : undefined;
    });
    const checks = story.filter((d) => d.action === 'canary.check-failed' && d.reason === 'CheckFail');
    assert.equal(checks.length, 5);
    const m = (
      checks[0]?.evidence['check'] as {
        metrics: { metric: string; canary: number; verdict: string; reason: string }[];
      }
    ).metrics.find((x) => x.metric === 'request-success-rate');
    assert.equal(m?.verdict, 'Fail');
    assert.ok(m.canary < 99, `success rate ${String(m.canary)}`);
    const rollback = story.find((d) => d.action === 'canary.rolled-back');
    assert.equal(rollback?.reason, 'FailedChecksThreshold');
    assert.match(rollback.message, /failed checks threshold reached 5\/5/);
  });
});
