import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy } from '@kubernetes/client-node';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

// Drift: someone changes or deletes what Capstan applied. Against the real API server, NATS and
// Postgres: the change is seen through the watch, recorded with who made it, and undone (or
// only reported, with driftPolicy: warn).
const grace: Person = { name: 'Grace Hopper', email: 'grace@example.com' };

interface Decision {
  action: string;
  reason: string;
  message: string;
  actor: { kind: string; name: string; evidence: string };
  targets: { kind: string; namespace: string; name: string }[];
  evidence: {
    change?: string;
    policy?: string;
    fields?: { path: string; before: unknown; after: unknown; manager: string | null }[];
  };
  correlationId: string | null;
}
interface Deployment {
  metadata: { labels?: Record<string, string> };
  spec: { replicas: number };
}
interface ConfigMap {
  metadata: { uid: string };
  data?: Record<string, string>;
}

describe('drift detection and correction', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `drift-${id}`;
  const name = `drift-${id}`; // GitRepository and the correcting Sync, in namespace default
  const warnName = `drift-warn-${id}`;
  let platform: Platform;
  let repo: GitRepo;

  const deployment = () => readObject<Deployment>(platform.api, 'apps/v1', 'Deployment', ns, 'web');
  const configMap = (n: string) => readObject<ConfigMap>(platform.api, 'v1', 'ConfigMap', ns, n);
  const decisions = async (action: string, query = '') =>
    (await platform.auditGet<{ items: Decision[] }>(`/api/v1/decisions?action=${action}${query}&limit=500`))
      .items;
  const about = (kind: string, n: string) => (d: Decision) =>
    d.targets.some((t) => t.kind === kind && t.name === n && t.namespace === ns);
  const waitDecision = (what: string, action: string, match: (d: Decision) => boolean) =>
    waitFor(what, async () => (await decisions(action)).find(match), 30_000);
  const scale = (replicas: number) =>
    platform.api.applyRaw(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns },
        spec: { replicas },
      },
      { fieldManager: 'kubectl', force: true },
    );
  const replicasDrift = (replicas: number) => (d: Decision) =>
    about('Deployment', 'web')(d) &&
    d.evidence.fields?.some((f) => f.path === 'spec.replicas' && f.after === replicas) === true;

  before(async () => {
    platform = await Platform.start();
    repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-drift-${id}`));
    await repo.write({
      'app/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
      'app/web.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ${ns}}
data: {mode: strict}
`,
      'warn/config.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: watched, namespace: ${ns}}\ndata: {mode: strict}\n`,
    });
    repo.commit('Deploy web', grace);
    await applyYaml(platform.api, repositoryAndSync(name, repo.url, './app'));
    await waitFor('Deployment applied', async () =>
      (await deployment())?.spec.replicas === 2 ? true : undefined,
    );
    await waitFor('ConfigMap applied', () => configMap('settings'));
    // Applied after the namespace exists: the warn Sync's only object lives in it.
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${warnName}, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${name}}, path: ./warn, interval: 10m, driftPolicy: warn}
`,
    );
    await waitFor('warned ConfigMap applied', () => configMap('watched'));
  });
  after(async () => {
    await platform.stop();
    await repo.remove();
  });

  it('detects a manual scale, says who did it, and scales back', async () => {
    await scale(5);
    const detected = await waitDecision('drift.detected for replicas 5', 'drift.detected', replicasDrift(5));
    assert.equal(detected.actor.name, 'kubectl');
    assert.equal(detected.actor.kind, 'person');
    assert.equal(detected.evidence.change, 'modified');
    assert.deepEqual(detected.evidence.fields, [
      { path: 'spec.replicas', before: 2, after: 5, manager: 'kubectl' },
    ]);
    await waitFor('replicas back to 2', async () =>
      (await deployment())?.spec.replicas === 2 ? true : undefined,
    );
    const corrected = await waitDecision(
      'drift.corrected with the same correlation id',
      'drift.corrected',
      (d) => d.correlationId === detected.correlationId,
    );
    assert.equal(corrected.actor.kind, 'capstan');
    assert.ok(about('Deployment', 'web')(corrected));

    // "Who changed prod by hand?": the audit API answers by actor.
    const byKubectl = await decisions('drift.detected', '&actor=kubectl');
    assert.ok(byKubectl.some(replicasDrift(5)));
  });

  it('recreates a deleted object', async () => {
    const before = await configMap('settings');
    assert.ok(before);
    await platform.api.delete({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: ns },
    });
    const recreated = await waitFor('ConfigMap recreated', async () => {
      const cm = await configMap('settings');
      return cm && cm.metadata.uid !== before.metadata.uid ? cm : undefined;
    });
    assert.deepEqual(recreated.data, { mode: 'strict' });
    const detected = await waitDecision(
      'drift.detected (deleted)',
      'drift.detected',
      (d) => about('ConfigMap', 'settings')(d) && d.evidence.change === 'deleted',
    );
    await waitDecision(
      'drift.corrected (recreated)',
      'drift.corrected',
      (d) => d.correlationId === detected.correlationId,
    );
  });

  it('does not treat a field Capstan does not own as drift', async () => {
    await platform.api.patch(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns, labels: { owner: 'ops' } },
      },
      undefined,
      undefined,
      'kubectl-label',
      undefined,
      PatchStrategy.MergePatch,
    );
    // A real drift afterwards is the sync point: the label change was looked at before it.
    await scale(7);
    await waitDecision('drift.detected for replicas 7', 'drift.detected', replicasDrift(7));
    await waitFor('replicas back to 2', async () =>
      (await deployment())?.spec.replicas === 2 ? true : undefined,
    );
    const all = (await decisions('drift.detected')).filter(about('Deployment', 'web'));
    for (const d of all)
      assert.deepEqual(
        d.evidence.fields?.map((f) => f.path),
        ['spec.replicas'],
        'only spec.replicas ever drifted',
      );
    assert.equal((await deployment())?.metadata.labels?.['owner'], 'ops', 'the label added by hand stays');
  });

  it('only reports drift with driftPolicy: warn', async () => {
    await platform.api.applyRaw(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'watched', namespace: ns },
        data: { mode: 'lax' },
      },
      { fieldManager: 'kubectl', force: true },
    );
    const detected = await waitDecision(
      'drift.detected for the warned ConfigMap',
      'drift.detected',
      about('ConfigMap', 'watched'),
    );
    assert.equal(detected.evidence.policy, 'warn');
    assert.deepEqual(
      detected.evidence.fields?.map((f) => [f.path, f.before, f.after]),
      [['data.mode', 'strict', 'lax']],
    );
    // Sync point: a correction of the other Sync's object that happens after this one was judged.
    await scale(4);
    await waitDecision(
      'drift.corrected for replicas 4',
      'drift.corrected',
      (d) => about('Deployment', 'web')(d) && d.evidence.fields?.some((f) => f.after === 4) === true,
    );
    assert.equal((await configMap('watched'))?.data?.['mode'], 'lax', 'left as changed');
    const corrections = (await decisions('drift.corrected')).filter(about('ConfigMap', 'watched'));
    assert.deepEqual(corrections, []);
  });

  it('watches a kind only while a Sync applies it', async () => {
    const pdbWatch = async () =>
      (await (await fetch(`${platform.reconcilerUrl}/metrics`)).text()).includes(
        'capstan_drift_watches{kind="policy/v1/PodDisruptionBudget"',
      );
    assert.equal(await pdbWatch(), false);
    await repo.write({
      'app/pdb.yaml': `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: ${ns}}
spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}
`,
    });
    repo.commit('Add a PodDisruptionBudget', grace);
    await waitFor('a watch of PodDisruptionBudgets', async () => ((await pdbWatch()) ? true : undefined));
    await repo.write({ 'app/pdb.yaml': null });
    repo.commit('Drop the PodDisruptionBudget', grace);
    await waitFor('no watch of PodDisruptionBudgets', async () => ((await pdbWatch()) ? undefined : true));
  });
});
