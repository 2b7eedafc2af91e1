import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CanaryStage, generateLoad, testCanary, type DecisionView } from './support/canary-stage.js';
import { applyYaml, readObject } from './support/kube.js';
import { waitFor } from './support/wait.js';

const NS = 'canary-bad';

/**
 * Bad input and bad days: each gives a clear status and a decision, nothing half done (the
 * target scaled back to zero, the traffic on the primary).
 */
describe(
  'canary bad input: missing target, broken query, webhook timeout, Prometheus down, target deleted, new revision mid-rollout',
  { timeout: 600_000 },
  () => {
    let stage: CanaryStage;

    before(async () => {
      stage = await CanaryStage.start(NS);
      await stage.startAnalyzer({ MIN_INTERVAL: '1s' });
    });

    after(async () => {
      await stage.stop();
    });

    const lastDecision = async (name: string, action: string): Promise<DecisionView> =>
      waitFor(`${action} of ${name} audited`, async () =>
        (await stage.decisions(name)).reverse().find((d) => d.action === action),
      );

    const weights = async (name: string) =>
      (
        await readObject<{ spec: { backends: { weight: number }[] } }>(
          stage.api,
          'split.smi-spec.io/v1alpha1',
          'TrafficSplit',
          NS,
          name,
        )
      )?.spec.backends.map((b) => b.weight);

    it('a Canary whose target does not exist says so in its status, naming the Deployment', async () => {
      await applyYaml(stage.api, testCanary({ name: 'ghost', namespace: NS }));
      const s = await waitFor('ghost Stalled', async () => {
        const st = await stage.canary('ghost');
        return st.conditions?.find((c) => c.type === 'Ready' && c.status === 'False') ? st : undefined;
      });
      const ready = s.conditions?.find((c) => c.type === 'Ready');
      assert.equal(ready?.reason, 'TargetNotFound');
      assert.match(ready.message, /Deployment canary-bad\/ghost not found \(spec\.targetRef\)/);
    });

    it('a broken query is a provider Error, not a Fail; consecutive errors roll back, with the error in the decision', async () => {
      await stage.deployPodinfo('broken', '1.0.0');
      await applyYaml(
        stage.api,
        testCanary({
          name: 'broken',
          namespace: NS,
          apiVersion: 'capstan.dev/v1alpha1',
          analysisExtra: '    consecutiveErrorLimit: 2\n',
          metrics:
            '      - name: broken\n        query: "sum(rate(response_total[1m]"\n        thresholdRange: {min: 1}\n',
        }),
      );
      await stage.waitPhase('broken', ['Initialized'], 60_000, 'capstan.dev/v1alpha1');
      await stage.deployPodinfo('broken', '1.0.1');
      const failed = await stage.waitPhase('broken', ['Failed'], 60_000, 'capstan.dev/v1alpha1');
      assert.equal(failed.failedChecks, 0);
      const d = await lastDecision('broken', 'canary.rolled-back');
      assert.equal(d.reason, 'ConsecutiveErrorLimit');
      const check = (await stage.decisions('broken')).filter((x) => x.reason === 'CheckError');
      assert.equal(check.length, 2);
      const metric = (check[0]?.evidence['check'] as { metrics: { verdict: string; error: string }[] })
        .metrics[0];
      assert.equal(metric?.verdict, 'Error');
      assert.match(metric.error, /parse error/);
      assert.deepEqual(await weights('broken'), [0, 100]);
    });

    it('a webhook that times out is a failed check naming the timeout', async () => {
      await stage.deployPodinfo('slowhook', '1.0.0');
      await applyYaml(
        stage.api,
        testCanary({
          name: 'slowhook',
          namespace: NS,
          threshold: 2,
          webhooks: `      - name: slow-acceptance\n        type: pre-rollout\n        url: http://flagger-loadtester.${NS}/\n        timeout: 1s\n        metadata: {type: bash, cmd: "sleep 5"}\n`,
        }),
      );
      await stage.waitPhase('slowhook', ['Initialized'], 60_000);
      await stage.deployPodinfo('slowhook', '1.0.1');
      const failed = await stage.waitPhase('slowhook', ['Failed'], 60_000);
      assert.equal(failed.failedChecks, 2);
      const check = (await stage.decisions('slowhook')).find((x) => x.action === 'canary.check-failed');
      const hook = (
        check?.evidence['check'] as { webhooks: { name: string; ok: boolean; message: string }[] }
      ).webhooks[0];
      assert.equal(hook?.name, 'slow-acceptance');
      assert.equal(hook.ok, false);
      assert.equal(hook.message, 'timed out after 1000 ms');
    });

    it('a new revision mid-rollout restarts the analysis from zero and promotes the newest', async () => {
      await stage.deployPodinfo('moving', '1.0.0');
      await applyYaml(
        stage.api,
        testCanary({ name: 'moving', namespace: NS, stepWeight: 10, maxWeight: 50 }),
      );
      await stage.waitPhase('moving', ['Initialized'], 60_000);
      const stopLoad = generateLoad(stage, 'moving-canary');
      try {
        await stage.deployPodinfo('moving', '1.0.1');
        await waitFor(
          'weight 20',
          async () => ((await stage.canary('moving')).canaryWeight ?? 0) >= 20 || undefined,
          60_000,
        );
        await stage.deployPodinfo('moving', '1.0.2');
        await stage.waitPhase('moving', ['Succeeded'], 120_000);
      } finally {
        await stopLoad();
      }
      const primary = await readObject<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
        stage.api,
        'apps/v1',
        'Deployment',
        NS,
        'moving-primary',
      );
      assert.equal(primary?.spec.template.spec.containers[0]?.image, 'ghcr.io/stefanprodan/podinfo:1.0.2');
      const restarted = await lastDecision('moving', 'canary.started');
      assert.equal(restarted.reason, 'RolloutRestarted');
    });

    it('the target deleted mid-rollout rolls back to the primary', async () => {
      await stage.deployPodinfo('doomed', '1.0.0');
      await applyYaml(
        stage.api,
        testCanary({ name: 'doomed', namespace: NS, stepWeight: 10, maxWeight: 90 }),
      );
      await stage.waitPhase('doomed', ['Initialized'], 60_000);
      const stopLoad = generateLoad(stage, 'doomed-canary');
      try {
        await stage.deployPodinfo('doomed', '1.0.1');
        await waitFor(
          'weight 10',
          async () => ((await stage.canary('doomed')).canaryWeight ?? 0) >= 10 || undefined,
          60_000,
        );
        await stage.api.delete({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'doomed', namespace: NS },
        });
        await stage.waitPhase('doomed', ['Failed'], 60_000);
      } finally {
        await stopLoad();
      }
      assert.equal((await lastDecision('doomed', 'canary.rolled-back')).reason, 'TargetNotFound');
      assert.deepEqual(await weights('doomed'), [0, 100]);
    });

    it('Prometheus down: checks end in Error (not Fail) and roll back at the consecutive error limit', async () => {
      await stage.deployPodinfo('blackout', '1.0.0');
      await applyYaml(
        stage.api,
        testCanary({
          name: 'blackout',
          namespace: NS,
          apiVersion: 'capstan.dev/v1alpha1',
          analysisExtra: '    consecutiveErrorLimit: 2\n',
        }),
      );
      await stage.waitPhase('blackout', ['Initialized'], 60_000, 'capstan.dev/v1alpha1');
      await stage.plane.prometheus.pause();
      try {
        await stage.deployPodinfo('blackout', '1.0.1');
        const failed = await stage.waitPhase('blackout', ['Failed'], 60_000, 'capstan.dev/v1alpha1');
        assert.equal(failed.failedChecks, 0);
      } finally {
        await stage.plane.prometheus.resume();
      }
      const d = await lastDecision('blackout', 'canary.rolled-back');
      assert.equal(d.reason, 'ConsecutiveErrorLimit');
      const check = (await stage.decisions('blackout')).find((x) => x.reason === 'CheckError');
      const metric = (check?.evidence['check'] as { metrics: { error: string }[] }).metrics[0];
      assert.match(metric?.error ?? '', /ECONNREFUSED/);
    });
  },
);
