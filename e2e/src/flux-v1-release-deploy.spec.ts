import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as capstan } from '@capstan/cli';
import { CapstanResources, createKubeConfig, type Sync } from '@capstan/kube';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

// Helm Operator's deploy settings on helm.fluxcd.io/v1 HelmReleases, against the real API server,
// helm, NATS and Postgres: `wait`/`timeout`, `test.enable` (+ ignoreFailures), `rollback.enable`
// (+ wait/timeout), `forceUpgrade`, and what is read but not honoured (maxHistory). A Pod that
// cannot be scheduled (a nodeSelector no kwok node has) is how a release fails to become ready.
const ada: Person = { name: 'Ada Lovelace', email: 'ada@example.com' };

interface DecisionItem {
  time: string;
  action: string;
  reason: string;
  message: string;
  changeSet?: { kind: string; name: string; action: string }[];
}

interface HelmReleaseView {
  metadata: { generation?: number };
  status?: {
    phase?: string;
    releaseStatus?: string;
    lastAttemptedRevision?: string;
    lastDeployedRevision?: string;
    conditions?: { type: string; status: string; message: string }[];
  };
}

const chart: Record<string, string> = {
  'charts/web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n',
  'charts/web/values.yaml':
    'replicas: 1\nselector: web\nunschedulable: false\nextra: false\ntestFails: false\n',
  'charts/web/templates/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ .Release.Name }}}
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: {{ .Values.selector }}}}
  template:
    metadata: {labels: {app: {{ .Values.selector }}}}
    spec:
{{- if .Values.unschedulable }}
      nodeSelector: {capstan.dev/no-such-node: "true"}
{{- end }}
      containers: [{name: web, image: "nginx:1.27"}]
`,
  'charts/web/templates/extra.yaml': `{{- if .Values.extra }}
apiVersion: v1
kind: ConfigMap
metadata: {name: {{ .Release.Name }}-extra}
data: {added: "by the upgrade"}
{{- end }}
`,
  'charts/web/templates/test.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-smoke
  annotations: {helm.sh/hook: test}
spec:
  restartPolicy: Never
{{- if .Values.testFails }}
  nodeSelector: {capstan.dev/no-such-node: "true"}
{{- end }}
  containers: [{name: smoke, image: "busybox:1.36", command: ["true"]}]
`,
};

describe('Flux v1 HelmRelease deploy settings: wait, tests, rollback, forceUpgrade', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `hrd-${id}`;
  const name = `hrd-${id}`;
  let platform: Platform;
  let resources: CapstanResources;
  let repo: GitRepo;
  const commits: string[] = [];

  const helmRelease = (release: string, spec: string, values: string) => `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: ${release}, namespace: ${ns}}
spec:
  releaseName: ${release}
  chart: {git: "${repo.url}", ref: main, path: charts/web}
${spec}
  values: {${values}}
`;
  const commit = async (files: Record<string, string>, message: string) => {
    await repo.write(files);
    const sha = repo.commit(message, ada);
    commits.push(sha);
    return sha;
  };
  const syncAt = (sha: string) =>
    waitFor(
      `Sync attempted ${sha.slice(0, 8)}`,
      async () => {
        const s = await resources.get('Sync', 'default', name);
        return s.status?.lastAttemptedRevision === `main@sha1:${sha}` &&
          !s.status.conditions?.some((c) => c.type === 'Reconciling')
          ? s
          : undefined;
      },
      90_000,
    );
  const hr = (release: string, sha: string) =>
    waitFor(`HelmRelease ${release} at ${sha.slice(0, 8)}`, async () => {
      const o = await readObject<HelmReleaseView>(
        platform.api,
        'helm.fluxcd.io/v1',
        'HelmRelease',
        ns,
        release,
      );
      return o?.status?.lastAttemptedRevision === `main@sha1:${sha}` ? o : undefined;
    });
  const deployment = (n: string) =>
    readObject<{
      metadata: { uid?: string };
      spec: { replicas: number; template: { spec: { nodeSelector?: Record<string, string> } } };
    }>(platform.api, 'apps/v1', 'Deployment', ns, n);
  const decisions = async (sha: string) =>
    (
      await platform.auditGet<{ items: DecisionItem[] }>(
        `/api/v1/decisions?revision=${encodeURIComponent(`main@sha1:${sha}`)}&limit=50`,
      )
    ).items;
  const ready = (o: HelmReleaseView) => o.status?.conditions?.find((c) => c.type === 'Ready');
  const podUids = async (selector: string) =>
    (await platform.api.list('v1', 'Pod', ns, undefined, undefined, undefined, undefined, selector)).items
      .filter((p) => !p.metadata?.deletionTimestamp)
      .map((p) => p.metadata?.uid ?? '');

  before(async () => {
    repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-hrd-${id}`));
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    const spec = `  wait: true
  timeout: 20
  maxHistory: 5
  test: {enable: true, timeout: 20}
  rollback: {enable: true, wait: true, timeout: 20}`;
    await commit(
      {
        ...chart,
        'namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
        'releases/web.yaml': helmRelease('web', spec, 'replicas: 1'),
        'releases/other.yaml': helmRelease('other', '', 'replicas: 1, selector: other'),
      },
      'web waits, tests and rolls back',
    );
    await applyYaml(platform.api, repositoryAndSync(name, repo.url, './'));
  });
  after(async () => {
    await platform.stop();
    await repo.remove();
  });

  it('deploys a release only once it is healthy and its tests pass, and says what it does not honour', async () => {
    const sha = commits[0] ?? '';
    const web = await hr('web', sha);
    assert.equal(web.status?.phase, 'Deployed', ready(web)?.message);
    assert.equal(web.status.lastDeployedRevision, `main@sha1:${sha}`);
    assert.match(ready(web)?.message ?? '', /not honoured: maxHistory/);
    const applied = await waitFor('the applied decision lists the test Pod', async () =>
      (await decisions(sha)).find(
        (d) => d.action === 'applied' && d.changeSet?.some((c) => c.name === 'web-smoke'),
      ),
    );
    assert.ok(applied);
  });

  it('rolls a failed upgrade back to the last deployed revision, deleting what it added, recreating its pods, and holds it there', async () => {
    const deployed = commits[0] ?? '';
    const podsBefore = await waitFor('a running web pod', async () => {
      const uids = await podUids('app=web');
      return uids.length > 0 ? uids : undefined;
    });
    const otherPods = await podUids('app=other');
    const sha = await commit(
      {
        'releases/web.yaml': helmRelease(
          'web',
          `  wait: true
  timeout: 5
  test: {enable: true, timeout: 20}
  rollback: {enable: true, recreate: true, wait: true, timeout: 20}`,
          'replicas: 1, unschedulable: true, extra: true',
        ),
        'releases/other.yaml': helmRelease('other', '', 'replicas: 2, selector: other'),
      },
      'web cannot be scheduled',
    );
    const sync: Sync = await syncAt(sha);
    // The release's failure is its own: the Sync applied and the other release went on.
    assert.equal(sync.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal((await deployment('other'))?.spec.replicas, 2);
    const web = await hr('web', sha);
    assert.equal(web.status?.phase, 'RolledBack', ready(web)?.message);
    assert.equal(ready(web)?.status, 'False');
    assert.match(
      ready(web)?.message ?? '',
      new RegExp(`not ready within 5 s.*rolled back to main@sha1:${deployed}`),
    );
    assert.equal(web.status.lastDeployedRevision, `main@sha1:${deployed}`);
    assert.equal((await deployment('web'))?.spec.template.spec.nodeSelector, undefined, 'rolled back');
    const extra = await readObject<{ metadata: { creationTimestamp?: string } }>(
      platform.api,
      'v1',
      'ConfigMap',
      ns,
      'web-extra',
    );
    if (extra) {
      const told = (await decisions(sha)).map(
        (d) =>
          `${d.time} ${d.action}/${d.reason}: ${(d.changeSet ?? []).map((c) => `${c.kind}/${c.name}=${c.action}`).join(' ')}`,
      );
      assert.fail(
        `what the failed upgrade added is deleted: web-extra created ${extra.metadata.creationTimestamp}; decisions at the commit: ${told.join('; ')}`,
      );
    }
    const failed = await waitFor('the rollback is the release failure decision', async () =>
      (await decisions(sha)).find((d) => d.reason === 'ReleaseFailed'),
    );
    assert.match(failed.message, /rolled back to/);
    assert.ok(failed.changeSet?.some((c) => c.name === 'web-extra' && c.action === 'deleted'));
    // rollback.recreate (Helm's --recreate-pods): the rolled-back workload's pods start afresh,
    // and another release's pods are left alone.
    const podsAfter = await waitFor('web pods again', async () => {
      const uids = await podUids('app=web');
      return uids.length > 0 ? uids : undefined;
    });
    assert.deepEqual(
      podsAfter.filter((u) => podsBefore.includes(u)),
      [],
      'the pods that ran before the failed upgrade were recreated',
    );
    const otherPodsNow = await podUids('app=other');
    assert.ok(
      otherPods.every((u) => otherPodsNow.includes(u)),
      'the other release keeps its pods',
    );

    // Held: the next reconcile of the same spec leaves the rolled-back release alone.
    const out: string[] = [];
    const code = await capstan(
      ['reconcile', `sync/${name}`, '-n', 'default', '--wait', '--timeout', '60s'],
      (t) => out.push(t),
      (t) => out.push(t),
      { ...platform.cliEnv, KUBECONFIG: platform.kubeconfigPath },
    );
    assert.equal(code, 0, out.join('\n'));
    const again = await syncAt(sha);
    assert.equal(again.status?.releases?.find((r) => r.name === 'web')?.phase, 'Failed');
    assert.equal((await deployment('web'))?.spec.template.spec.nodeSelector, undefined, 'still rolled back');
  });

  it('fails a release whose tests fail unless told to ignore them', async () => {
    const ignored = await commit(
      {
        'releases/web.yaml': helmRelease(
          'web',
          `  wait: true
  timeout: 20
  test: {enable: true, timeout: 3, ignoreFailures: true}`,
          'replicas: 2, testFails: true',
        ),
      },
      'failing tests, ignored',
    );
    assert.equal((await hr('web', ignored)).status?.phase, 'Deployed');
    assert.equal((await deployment('web'))?.spec.replicas, 2);

    const strict = await commit(
      {
        'releases/web.yaml': helmRelease(
          'web',
          `  test: {enable: true, timeout: 3}`,
          'replicas: 3, testFails: true',
        ),
      },
      'failing tests, not ignored',
    );
    const web = await hr('web', strict);
    assert.equal(web.status?.phase, 'TestFailed', ready(web)?.message);
    assert.match(ready(web)?.message ?? '', /test failed: helm hook .*web-smoke/);
    assert.equal((await deployment('web'))?.spec.replicas, 3, 'no rollback asked: the upgrade stays');
  });

  it('recreates an object whose immutable field changed with forceUpgrade', async () => {
    const before = await deployment('web');
    const sha = await commit(
      {
        'releases/web.yaml': helmRelease('web', '  forceUpgrade: true', 'replicas: 1, selector: web-v2'),
      },
      'new selector',
    );
    const web = await hr('web', sha);
    assert.equal(web.status?.phase, 'Deployed', ready(web)?.message);
    const after = await deployment('web');
    assert.notEqual(after?.metadata.uid, before?.metadata.uid, 'deleted and created again');
  });
});
