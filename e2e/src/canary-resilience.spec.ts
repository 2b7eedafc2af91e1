import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CanaryStage, freePort, generateLoad, testCanary } from './support/canary-stage.js';
import { applyYaml, readObject } from './support/kube.js';
import { waitFor } from './support/wait.js';

const NS = 'canary-resilience';
const CAPSTAN = 'capstan.dev/v1alpha1';

interface AlertBody {
  reason: string;
  message: string;
  involvedObject: { name: string };
}

/** A chat system on loopback: remembers every alert the analyzer posts. */
async function alertReceiver(): Promise<{ url: string; alerts: AlertBody[]; close(): Promise<void> }> {
  const alerts: AlertBody[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      alerts.push(JSON.parse(body) as AlertBody);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    alerts,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * The analyzer killed with SIGKILL at the worst moment of every phase: right after a step is
 * appended to the rollout stream, before the cluster follows and before anyone is told. Each
 * next process finds the step, makes the cluster match, tells it (decision, alert) and goes on:
 * nothing doubled, nothing lost. And a Canary deleted with revertOnDeletion gives its target
 * the traffic back before it goes, with the analyzer's own metrics following the rollout.
 */
describe('canary resilience: kill -9 in every phase, revertOnDeletion, metrics', { timeout: 600_000 }, () => {
  let stage: CanaryStage;
  let receiver: Awaited<ReturnType<typeof alertReceiver>>;

  before(async () => {
    stage = await CanaryStage.start(NS);
    receiver = await alertReceiver();
    await applyYaml(
      stage.api,
      `apiVersion: flagger.app/v1beta1
kind: AlertProvider
metadata: {name: on-call, namespace: ${NS}}
spec: {type: generic, address: "${receiver.url}"}
`,
    );
  });

  after(async () => {
    await stage.stop();
    await receiver.close();
  });

  it('killed right after each step of a promotion and of a rollback: resumes, no step doubled, no alert lost', async () => {
    await stage.deployPodinfo('phoenix', '1.0.0');
    const canary = testCanary({
      name: 'phoenix',
      namespace: NS,
      interval: '1s',
      stepWeight: 50,
      maxWeight: 50,
      threshold: 1,
      // Capstan's Canary, for its inconclusive limit: a restart right after a weight change
      // judges a window the new canary pods have not filled yet (no data, no verdict). With
      // Flagger's rule (limit = threshold = 1) that one empty window rolled the promotion back.
      apiVersion: CAPSTAN,
      analysisExtra:
        '    inconclusiveLimit: 10\n    alerts:\n      - {name: on-call, severity: info, providerRef: {name: on-call}}\n',
      metrics:
        '      - name: request-success-rate\n        thresholdRange: {min: 99}\n        interval: 10s\n',
    });
    const initialized = stage.analyzerKilledAfter('phoenix', 'Initialized', 60_000, CAPSTAN);
    await applyYaml(stage.api, canary);
    await initialized;
    const stopLoad = generateLoad(stage, 'phoenix-canary');
    try {
      await stage.deployPodinfo('phoenix', '1.0.1');
      for (const phase of ['RolloutStarted', 'WeightChanged', 'PromotionStarted', 'Finalising', 'Succeeded'])
        await stage.analyzerKilledAfter('phoenix', phase, 60_000, CAPSTAN);
      const survivor = await stage.spawnAnalyzer(await freePort(), {
        REPLICA_ID: 'crash-tested',
        MIN_INTERVAL: '1s',
      });
      const promoted = await stage.waitPhase('phoenix', ['Succeeded'], 60_000, CAPSTAN);
      assert.equal(promoted.canaryWeight, 0);
      await waitFor('Succeeded told', () =>
        receiver.alerts.some((a) => a.reason === 'Succeeded') ? true : undefined,
      );
      await survivor.stop();

      // A version answering 5xx, killed right after its rollback was recorded (once the promoted
      // canary's pods have left the metric window, or their numbers would judge it).
      await stage.waitNoData(
        `sum(rate(response_total{namespace="${NS}",deployment=~"phoenix",direction="inbound"}[10s]))`,
      );
      await stage.deployPodinfo('phoenix', '1.0.2', { PODINFO_ERROR_RATE: '1' });
      await stage.analyzerKilledAfter('phoenix', 'RolledBack', 120_000, CAPSTAN);
      const again = await stage.spawnAnalyzer(await freePort(), {
        REPLICA_ID: 'crash-tested',
        MIN_INTERVAL: '1s',
      });
      try {
        const failed = await stage.waitPhase('phoenix', ['Failed'], 60_000, CAPSTAN);
        assert.equal(failed.canaryWeight, 0);
        await waitFor('the rollback told', () =>
          receiver.alerts.some((a) => a.reason === 'RolledBack') ? true : undefined,
        );
        const split = await readObject<{ spec: { backends: { weight: number }[] } }>(
          stage.api,
          'split.smi-spec.io/v1alpha1',
          'TrafficSplit',
          NS,
          'phoenix',
        );
        assert.deepEqual(
          split?.spec.backends.map((b) => b.weight),
          [0, 100],
        );
        const target = await readObject<{ spec: { replicas: number } }>(
          stage.api,
          'apps/v1',
          'Deployment',
          NS,
          'phoenix',
        );
        assert.equal(target?.spec.replicas, 0);
        // The survivor's own metrics show the rollout it resumed.
        const metrics = await (await fetch(`${again.url}/metrics`)).text();
        assert.match(metrics, /capstan_canary_phase\{[^}]*name="phoenix"[^}]*phase="Failed"[^}]*\} 1/);
        assert.match(metrics, /capstan_canary_weight_percent\{[^}]*name="phoenix"[^}]*\} 0/);
      } finally {
        await again.stop();
      }
    } finally {
      await stopLoad();
    }

    const decisions = await stage.decisions('phoenix');
    const count = (reason: string) => decisions.filter((d) => d.reason === reason).length;
    assert.equal(count('Initialized'), 1);
    assert.equal(count('NewRevisionDetected'), 2);
    assert.equal(count('WeightIncreased'), 2, 'one step to 50 per run, none doubled');
    assert.equal(count('PromotionStarted'), 1);
    assert.equal(count('Succeeded'), 1);
    // Failed checks or, when the 5xx canary's first window has no answers yet, inconclusive ones.
    assert.equal(
      decisions.filter((d) => d.action === 'canary.rolled-back').length,
      1,
      decisions.map((d) => d.reason).join(', '),
    );
    // Alerts are told at least once: none may be missing although every process died before
    // telling its last step (a crash in the middle of a telling may repeat one, never lose it).
    const told = (reason: string) => receiver.alerts.filter((a) => a.reason === reason).length;
    const missing = [
      'Initialized',
      'RolloutStarted',
      'WeightChanged',
      'PromotionStarted',
      'Succeeded',
      'RolledBack',
    ].filter((r) => told(r) < (r === 'RolloutStarted' || r === 'WeightChanged' ? 2 : 1));
    assert.deepEqual(missing, [], `alerts received: ${receiver.alerts.map((a) => a.reason).join(', ')}`);
    // The chaos suite's last check, here for the analyzer's kills: the log's chain is intact.
    const verify = (await (
      await fetch(`${stage.auditUrl}/api/v1/audit/verify`, {
        headers: { authorization: `Bearer ${stage.token}` },
      })
    ).json()) as { ok: boolean };
    assert.equal(verify.ok, true, 'the audit chain verifies');
  });

  it('revertOnDeletion: deleted mid-rollout, the target gets its pods and the apex Service back; the analyzer exports the rollout', async () => {
    await stage.startAnalyzer({ MIN_INTERVAL: '1s' });
    try {
      await stage.deployPodinfo('undo', '1.0.0');
      await applyYaml(
        stage.api,
        testCanary({ name: 'undo', namespace: NS, stepWeight: 20, maxWeight: 60 }).replace(
          '  service: {port: 9898}',
          '  revertOnDeletion: true\n  service: {port: 9898}',
        ),
      );
      await stage.waitPhase('undo', ['Initialized'], 60_000);
      const canary = await readObject<{ metadata: { finalizers?: string[] } }>(
        stage.api,
        'flagger.app/v1beta1',
        'Canary',
        NS,
        'undo',
      );
      assert.deepEqual(canary?.metadata.finalizers, ['finalizer.flagger.app']);
      const stopLoad = generateLoad(stage, 'undo-canary');
      try {
        await stage.deployPodinfo('undo', '1.0.1');
        await waitFor(
          'weight 40',
          async () => ((await stage.canary('undo')).canaryWeight ?? 0) >= 40 || undefined,
          60_000,
        );
        const metrics = await (await fetch(`http://127.0.0.1:${stage.analyzer?.port ?? 0}/metrics`)).text();
        assert.match(metrics, /capstan_canary_phase\{[^}]*name="undo"[^}]*phase="Progressing"[^}]*\} 1/);
        assert.match(metrics, /capstan_canary_weight_percent\{[^}]*name="undo"[^}]*\} [2-6]0/);
        assert.match(
          metrics,
          /capstan_canary_verdicts_total\{[^}]*name="undo"[^}]*verdict="pass"[^}]*\} [1-9]/,
        );

        await stage.api.delete({
          apiVersion: 'flagger.app/v1beta1',
          kind: 'Canary',
          metadata: { name: 'undo', namespace: NS },
        });
        await waitFor(
          'the Canary gone once reverted',
          async () =>
            (await readObject(stage.api, 'flagger.app/v1beta1', 'Canary', NS, 'undo')) ? undefined : true,
          60_000,
        );
        // The garbage collector takes what the Canary owned (the primary), not the apex Service.
        await waitFor(
          'the primary collected',
          async () =>
            (await readObject(stage.api, 'apps/v1', 'Deployment', NS, 'undo-primary')) ? undefined : true,
          60_000,
        );
      } finally {
        await stopLoad();
      }
      const apex = await readObject<{
        metadata: { ownerReferences?: unknown[] };
        spec: { selector: Record<string, string> };
      }>(stage.api, 'v1', 'Service', NS, 'undo');
      assert.deepEqual(apex?.spec.selector, { app: 'undo' });
      assert.equal(apex.metadata.ownerReferences, undefined);
      const target = await readObject<{ spec: { replicas: number } }>(
        stage.api,
        'apps/v1',
        'Deployment',
        NS,
        'undo',
      );
      assert.ok((target?.spec.replicas ?? 0) >= 1);
      const answer = await waitFor('the apex answered by the target', async () => {
        const r = await stage.plane.proxy.fetch(`http://undo.${NS}:9898/`).catch(() => undefined);
        return r?.ok ? r : undefined;
      });
      assert.equal(answer.headers.get('x-podinfo-version'), '1.0.1');
      const reverted = await waitFor('the revert audited', async () =>
        (await stage.decisions('undo')).find((d) => d.reason === 'RevertedOnDeletion'),
      );
      assert.equal(reverted.action, 'applied');
    } finally {
      await stage.stopAnalyzer();
    }
  });
});
