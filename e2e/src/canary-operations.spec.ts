import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoordinationV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { createKubeConfig } from '@capstan/kube';
import { CanaryStage, freePort, generateLoad, testCanary } from './support/canary-stage.js';
import { applyYaml } from './support/kube.js';
import { waitFor } from './support/wait.js';

const NS = 'canary-ops';

/**
 * People in the loop and crashes: the manual verbs through the audit API (401, 403, then done
 * with the person as actor), and two analyzer replicas of which the driving one is killed with
 * SIGKILL mid-rollout: the other resumes from the rollout stream without doubling a step.
 */
describe('canary operations: manual verbs, two replicas, kill -9', { timeout: 600_000 }, () => {
  let stage: CanaryStage;
  // One pooled connection for every client of this file (a client per request would leave
  // idle TLS connections holding the process open after the tests).
  let pooled: ReturnType<typeof createKubeConfig> | undefined;
  const kc = () => (pooled ??= createKubeConfig(stage.kubeconfigPath));

  before(async () => {
    stage = await CanaryStage.start(NS);
  });

  after(async () => {
    await stage.stop();
  });

  const post = (path: string, token?: string) =>
    fetch(`${stage.auditUrl}${path}`, {
      method: 'POST',
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  it('promote, abort, retry, pause, resume: 401 without a token, 403 without RBAC on canaries, the person as actor', async () => {
    await stage.startAnalyzer({ MIN_INTERVAL: '1s' });
    await stage.deployPodinfo('verbs', '1.0.0');
    // A confirm-promotion gate that stays shut: the rollout waits for a person.
    await applyYaml(
      stage.api,
      testCanary({
        name: 'verbs',
        namespace: NS,
        webhooks: `      - {name: gate, type: confirm-promotion, url: "http://flagger-loadtester.${NS}/gate/halt"}\n`,
      }),
    );
    await stage.waitPhase('verbs', ['Initialized'], 60_000);
    const stopLoad = generateLoad(stage, 'verbs-canary');
    try {
      await stage.deployPodinfo('verbs', '1.0.1');
      await stage.waitPhase('verbs', ['Progressing'], 60_000);

      assert.equal((await post(`/api/v1/canaries/${NS}/verbs/pause`)).status, 401);
      // A service account with no RBAC on canaries is authenticated but not allowed.
      const core = kc().makeApiClient(CoreV1Api);
      await core.createNamespacedServiceAccount({
        namespace: NS,
        body: { metadata: { name: 'release-manager' } },
      });
      const token = (
        await core.createNamespacedServiceAccountToken({
          namespace: NS,
          name: 'release-manager',
          body: { spec: { audiences: [] } },
        })
      ).status?.token;
      assert.ok(token);
      const denied = await post(`/api/v1/canaries/${NS}/verbs/pause`, token);
      assert.equal(denied.status, 403);
      assert.match(
        ((await denied.json()) as { message: string }).message,
        /may not patch canaries\.flagger\.app "verbs"/,
      );
      const rbac = kc().makeApiClient(RbacAuthorizationV1Api);
      await rbac.createNamespacedRole({
        namespace: NS,
        body: {
          metadata: { name: 'canary-operator' },
          rules: [{ apiGroups: ['flagger.app'], resources: ['canaries'], verbs: ['patch'] }],
        },
      });
      await rbac.createNamespacedRoleBinding({
        namespace: NS,
        body: {
          metadata: { name: 'canary-operator' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'canary-operator' },
          subjects: [{ kind: 'ServiceAccount', name: 'release-manager', namespace: NS }],
        },
      });
      const person = `system:serviceaccount:${NS}:release-manager`;
      const pause = await waitFor('RBAC to allow the pause', async () => {
        const r = await post(`/api/v1/canaries/${NS}/verbs/pause`, token);
        return r.status === 403 ? undefined : r;
      });
      assert.equal(pause.status, 200);
      const paused = await stage.canary('verbs');
      const weight = paused.canaryWeight;
      await new Promise((r) => setTimeout(r, 4_000));
      assert.equal((await stage.canary('verbs')).canaryWeight, weight, 'a paused rollout does not step');
      assert.equal(
        (await post(`/api/v1/canaries/${NS}/verbs/pause`, token)).status,
        200,
        'pausing twice is no error',
      );
      assert.equal((await post(`/api/v1/canaries/${NS}/verbs/resume`, token)).status, 200);
      assert.equal(
        (await post(`/api/v1/canaries/${NS}/verbs/resume`, token)).status,
        409,
        'resume when not paused',
      );
      // The gate holds the rollout at WaitingPromotion; a person aborts, retries, then promotes.
      await stage.waitPhase('verbs', ['WaitingPromotion'], 60_000);
      assert.equal((await post(`/api/v1/canaries/${NS}/verbs/abort`, token)).status, 200);
      const aborted = await stage.waitPhase('verbs', ['Failed'], 30_000);
      assert.equal(aborted.canaryWeight, 0);
      assert.equal((await post(`/api/v1/canaries/${NS}/verbs/retry`, token)).status, 200);
      await stage.waitPhase('verbs', ['Progressing'], 30_000);
      assert.equal((await post(`/api/v1/canaries/${NS}/verbs/promote`, token)).status, 200);
      await stage.waitPhase('verbs', ['Succeeded'], 60_000);
      assert.equal(
        (await post(`/api/v1/canaries/${NS}/verbs/promote`, token)).status,
        409,
        'nothing to promote',
      );
      assert.equal((await post(`/api/v1/canaries/${NS}/nope/promote`, token)).status, 404);

      const decisions = await waitFor('the manual decisions audited', async () => {
        const d = await stage.decisions('verbs');
        return d.some((x) => x.action === 'canary.promoted') ? d : undefined;
      });
      const byPerson = decisions.filter((d) => d.actor.name === person).map((d) => `${d.action}:${d.reason}`);
      assert.deepEqual(byPerson, [
        'skipped:Paused',
        'skipped:Resumed',
        'canary.aborted:Aborted',
        'canary.started:Retried',
        'canary.advanced:PromotedManually',
      ]);
    } finally {
      await stopLoad();
      await stage.stopAnalyzer();
    }
  });

  it('two replicas, one Lease per Canary; SIGKILL of the driver mid-rollout: the other resumes, no step doubled', async () => {
    const a = await stage.spawnAnalyzer(0 + (await freePort()), {
      REPLICA_ID: 'replica-a',
      MIN_INTERVAL: '1s',
    });
    const b = await stage.spawnAnalyzer(0 + (await freePort()), {
      REPLICA_ID: 'replica-b',
      MIN_INTERVAL: '1s',
    });
    try {
      await stage.deployPodinfo('crash', '1.0.0');
      await applyYaml(stage.api, testCanary({ name: 'crash', namespace: NS, stepWeight: 10, maxWeight: 50 }));
      await stage.waitPhase('crash', ['Initialized'], 60_000);
      const stopLoad = generateLoad(stage, 'crash-canary');
      try {
        await stage.deployPodinfo('crash', '1.0.1');
        await waitFor(
          'weight 20',
          async () => ((await stage.canary('crash')).canaryWeight ?? 0) >= 20 || undefined,
          60_000,
        );
        const leases = kc().makeApiClient(CoordinationV1Api);
        const holder = (await leases.readNamespacedLease({ namespace: NS, name: 'canary-crash' })).spec
          ?.holderIdentity;
        assert.ok(holder === 'replica-a' || holder === 'replica-b', `lease held by ${String(holder)}`);
        const [driver, other] = holder === 'replica-a' ? [a, b] : [b, a];
        driver.child.kill('SIGKILL');
        await stage.waitPhase('crash', ['Succeeded'], 120_000);
        const now = (await leases.readNamespacedLease({ namespace: NS, name: 'canary-crash' })).spec
          ?.holderIdentity;
        assert.equal(now, holder === 'replica-a' ? 'replica-b' : 'replica-a');
        assert.equal(other.child.exitCode, null);
      } finally {
        await stopLoad();
      }
      const decisions = await waitFor('the promotion audited', async () => {
        const d = await stage.decisions('crash');
        return d.some((x) => x.action === 'canary.promoted') ? d : undefined;
      });
      const steps = decisions
        .filter((d) => d.reason === 'WeightIncreased')
        .map((d) => (d.evidence['weight'] as { after: number }).after);
      assert.deepEqual(steps, [10, 20, 30, 40, 50]);
      assert.equal(decisions.filter((d) => d.action === 'canary.promoted').length, 1);
      assert.equal(decisions.filter((d) => d.action === 'canary.started').length, 1);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('three replicas under churn: the driver killed twice, a replica joining; one driver at a time, no step doubled', async () => {
    const env = { MIN_INTERVAL: '1s', LEASE_SECONDS: '3' };
    const replicas = new Map<string, Awaited<ReturnType<typeof stage.spawnAnalyzer>>>();
    const spawn = async (id: string) =>
      replicas.set(id, await stage.spawnAnalyzer(await freePort(), { REPLICA_ID: id, ...env }));
    for (const id of ['churn-a', 'churn-b', 'churn-c']) await spawn(id);
    const leases = kc().makeApiClient(CoordinationV1Api);
    const holder = async () =>
      (await leases.readNamespacedLease({ namespace: NS, name: 'canary-churn' })).spec?.holderIdentity ?? '';
    const weight = (w: number) =>
      waitFor(
        `weight ${w}`,
        async () => ((await stage.canary('churn')).canaryWeight ?? 0) >= w || undefined,
        90_000,
      );
    const drivers: string[] = [];
    try {
      await stage.deployPodinfo('churn', '1.0.0');
      await applyYaml(stage.api, testCanary({ name: 'churn', namespace: NS, stepWeight: 10, maxWeight: 50 }));
      await stage.waitPhase('churn', ['Initialized'], 60_000);
      const stopLoad = generateLoad(stage, 'churn-canary');
      try {
        await stage.deployPodinfo('churn', '1.0.1');
        // Kill whichever replica drives at 20 %, again at 40 %; a fourth joins in between.
        for (const [w, joiner] of [
          [20, 'churn-d'],
          [40, undefined],
        ] as const) {
          await weight(w);
          const driver = await holder();
          drivers.push(driver);
          const proc = replicas.get(driver);
          assert.ok(proc, `lease held by a live replica (${driver})`);
          proc.child.kill('SIGKILL');
          replicas.delete(driver);
          if (joiner) await spawn(joiner);
        }
        await stage.waitPhase('churn', ['Succeeded'], 180_000);
        drivers.push(await holder());
      } finally {
        await stopLoad();
      }
      assert.equal(new Set(drivers).size, 3, `three drivers in turn: ${drivers.join(', ')}`);
      const decisions = await waitFor('the promotion audited', async () => {
        const d = await stage.decisions('churn');
        return d.some((x) => x.action === 'canary.promoted') ? d : undefined;
      });
      const steps = decisions
        .filter((d) => d.reason === 'WeightIncreased')
        .map((d) => (d.evidence['weight'] as { after: number }).after);
      assert.deepEqual(steps, [10, 20, 30, 40, 50], 'each step taken once');
      assert.equal(decisions.filter((d) => d.action === 'canary.promoted').length, 1);
      assert.equal(decisions.filter((d) => d.action === 'canary.started').length, 1);
    } finally {
      for (const p of replicas.values()) await p.stop();
    }
  });
});
