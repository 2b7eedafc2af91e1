import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Platform, applyYaml, readObject, waitFor } from '@capstan/e2e';
import { TestRepository } from '@capstan/git/testing';
import { startRegistryWatcher } from '@capstan/registry-watcher';
import { DockerRegistry } from '@capstan/testing';
import { percentile, type BenchResult } from './harness.js';

const PUSHES = 30;

/**
 * From an image pushed to the registry to (a) the automation's commit in Git and (b) the
 * Deployment running it. distribution 2.8 notifies the registry-watcher; its ImageRepository
 * interval is 1h and the GitRepository's 10m: the commit comes from the notification, the apply
 * from the automation's poll request.
 */
export async function imagePushToCommit(): Promise<BenchResult> {
  const id = randomBytes(3).toString('hex');
  const ns = `bench-img-${id}`;
  const token = randomBytes(16).toString('hex');
  const root = await mkdtemp(join(tmpdir(), `capstan-bench-img-${id}-`));
  const platform = await Platform.start();
  const watcher = await startRegistryWatcher({
    ...platform.env,
    GIT_CACHE_DIR: join(root, 'rw'),
    REGISTRY_WEBHOOK_TOKEN: token,
    LOG_LEVEL: 'warn',
  });
  const registry = await DockerRegistry.start({
    notifications: [
      { url: `http://127.0.0.1:${watcher.port}/registry/v1/notifications/distribution`, token },
    ],
  });
  try {
    const image = `${registry.host}/bench/app`;
    await registry.push('bench/app', '1.0.0');
    const repo = await TestRepository.create(root, 'fleet');
    await repo.write({
      'deploy/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
      'deploy/app.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  namespace: ${ns}
  annotations: {fluxcd.io/automated: "true", fluxcd.io/tag.app: "semver:^1"}
spec:
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
        - name: app
          image: ${image}:1.0.0
`,
    });
    repo.commit('app 1.0.0');
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${ns}, namespace: default}
spec: {url: "${repo.fileUrl}", ref: {branch: main}, interval: 10m}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${ns}, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${ns}}, path: ./deploy, interval: 10m}
---
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: app, namespace: ${ns}}
spec: {image: ${image}, interval: 1h}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageUpdateAutomation
metadata: {name: fleet, namespace: ${ns}}
spec: {sourceRef: {name: ${ns}, namespace: default}, interval: 1h, update: {path: ./deploy}}
`,
    );
    const running = async () =>
      (
        await readObject<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
          platform.api,
          'apps/v1',
          'Deployment',
          ns,
          'app',
        )
      )?.spec.template.spec.containers[0]?.image;
    await waitFor(
      '1.0.0 applied',
      async () => ((await running()) === `${image}:1.0.0` ? true : undefined),
      120_000,
    );
    await waitFor('baseline scan', async () => {
      const r = await readObject<{ status?: { lastScanResult?: unknown } }>(
        platform.api,
        'capstan.dev/v1alpha1',
        'ImageRepository',
        ns,
        'app',
      );
      return r?.status?.lastScanResult ? true : undefined;
    });
    const head = () =>
      execFileSync('git', ['--git-dir', repo.bare, 'log', '-1', '--format=%H', 'main'], {
        encoding: 'utf8',
      }).trim();
    const toCommit: number[] = [];
    const toDeployment: number[] = [];
    const pushTimes: number[] = [];
    for (let i = 1; i <= PUSHES; i++) {
      const before = head();
      const tag = `1.0.${i}`;
      const started = performance.now();
      await registry.push('bench/app', tag);
      const pushed = performance.now();
      await waitFor(`commit of ${tag}`, () => (head() !== before ? true : undefined), 60_000);
      const committed = performance.now();
      await waitFor(
        `Deployment runs ${tag}`,
        async () => ((await running()) === `${image}:${tag}` ? true : undefined),
        60_000,
      );
      const deployed = performance.now();
      pushTimes.push(pushed - started);
      toCommit.push(committed - pushed);
      toDeployment.push(deployed - pushed);
    }
    const stats = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return { p50: percentile(s, 50), p95: percentile(s, 95), min: s[0] ?? 0, max: s[s.length - 1] ?? 0 };
    };
    const c = stats(toCommit);
    const d = stats(toDeployment);
    const p = stats(pushTimes);
    const r = (n: number) => n.toFixed(0);
    return {
      name: 'image-push-to-commit',
      value: Math.round(c.p50),
      unit: 'ms (p50, push to commit)',
      target: 'push to commit p50 < 1000 ms, p95 < 2000 ms; push to Deployment updated p50 < 2000 ms',
      details: `${PUSHES} images pushed one after another with \`skopeo copy\` to Debian's docker-registry (distribution 2.8), whose notifications go to the registry-watcher; each timed from the end of the push (the registry holds the manifest) to the automation commit in the bare Git repository, and to the Deployment's image in the API server (the automation asks the git-watcher to poll at once with the reconcile-requested-at annotation; GitRepository interval 10m; reconciler, server-side apply). Flux v1 annotations (\`semver:^1\`) on a Deployment; ImageRepository interval 1h, so no push is found by polling. Services in one process with the test platform.

| ms | push to commit | push to Deployment updated | the skopeo push itself |
|---|---|---|---|
| p50 | ${r(c.p50)} | ${r(d.p50)} | ${r(p.p50)} |
| p95 | ${r(c.p95)} | ${r(d.p95)} | ${r(p.p95)} |
| min / max | ${r(c.min)} / ${r(c.max)} | ${r(d.min)} / ${r(d.max)} | ${r(p.min)} / ${r(p.max)} |

Flux v2 for comparison: the image-reflector interval plus the automation interval (minutes by default) unless Receivers are set up.`,
    };
  } finally {
    // A GitRepository left behind would be polled (and fail) for as long as the cluster lives.
    for (const kind of ['Sync', 'GitRepository'])
      await platform.api
        .delete({ apiVersion: 'capstan.dev/v1alpha1', kind, metadata: { name: ns, namespace: 'default' } })
        .catch(() => undefined);
    await platform.api
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
      .catch(() => undefined);
    await registry.stop();
    await watcher.close();
    await platform.stop();
    await rm(root, { recursive: true, force: true });
  }
}
