// Runs against a real control plane (sharedCluster) — no mocks: if this passes,
// Deployments roll out and service-account tokens are signed and accepted.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  AppsV1Api,
  AuthenticationV1Api,
  AuthenticationV1TokenRequest,
  CoreV1Api,
  KubeConfig,
  V1Deployment,
  V1Namespace,
  V1TokenReview,
} from '@kubernetes/client-node';
import { isRunning } from './processes.js';
import { sharedCluster } from './shared-cluster.js';
import { readState } from './state.js';

/** client-node's models are classes, but the API server only ever sees plain JSON. */
function model<T>(_type: new () => T, value: object): T {
  return value as T;
}

/** Polls until `probe` returns a value, or fails with the last reason after `timeoutMs`. */
async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = 'never checked';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'condition not met';
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}: ${String(last)}`);
    await sleep(200);
  }
}

void describe('local cluster', () => {
  const namespace = `fixture-${randomUUID().slice(0, 8)}`;
  let kc: KubeConfig;

  before(async () => {
    const { kubeconfigPath } = await sharedCluster();
    kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    await kc
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: model(V1Namespace, { metadata: { name: namespace } }) });
  });

  after(async () => {
    await kc.makeApiClient(CoreV1Api).deleteNamespace({ name: namespace });
  });

  void it('rolls out a Deployment to Available with 2 ready replicas on kwok nodes', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const labels = { app: 'hello' };
    await apps.createNamespacedDeployment({
      namespace,
      body: model(V1Deployment, {
        metadata: { name: 'hello', labels },
        spec: {
          replicas: 2,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            // kwok runs no containers, so the image is never pulled.
            spec: { containers: [{ name: 'hello', image: 'registry.example/hello:1.0' }] },
          },
        },
      }),
    });
    const status = await eventually('Deployment hello to be Available', async () => {
      const { status } = await apps.readNamespacedDeployment({ name: 'hello', namespace });
      const available = status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True');
      return available && status?.readyReplicas === 2 ? status : undefined;
    });
    assert.equal(status.availableReplicas, 2);
    const pods = await kc
      .makeApiClient(CoreV1Api)
      .listNamespacedPod({ namespace, labelSelector: 'app=hello' });
    assert.equal(pods.items.length, 2);
    for (const pod of pods.items) {
      assert.equal(pod.status?.phase, 'Running');
      assert.match(pod.spec?.nodeName ?? '', /^capstan-node-/);
    }
  });

  void it('issues service-account tokens (TokenRequest) that the API server accepts', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await eventually('the default ServiceAccount', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace }),
    );
    const request = await core.createNamespacedServiceAccountToken({
      name: 'default',
      namespace,
      body: model(AuthenticationV1TokenRequest, { spec: { audiences: [], expirationSeconds: 600 } }),
    });
    const token = request.status?.token ?? '';
    assert.equal(token.split('.').length, 3, 'a signed JWT');
    const review = await kc
      .makeApiClient(AuthenticationV1Api)
      .createTokenReview({ body: model(V1TokenReview, { spec: { token } }) });
    assert.equal(review.status?.authenticated, true, review.status?.error);
    assert.equal(review.status.user?.username, `system:serviceaccount:${namespace}:default`);
  });
});

void describe('cluster-cli', () => {
  const cli = fileURLToPath(new URL('../cluster-cli.js', import.meta.url));
  let dir = '';
  const run = (...args: string[]) => promisify(execFile)(process.execPath, [cli, ...args, '--dir', dir]);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'capstan-cli-'));
  });

  after(async () => {
    await run('stop').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  void it('starts a second, detached cluster next to the shared one, idempotently, and stops it without orphans', async () => {
    await sharedCluster(); // the other cluster really is up while this one starts
    const first = await run('start');
    const kubeconfigPath = first.stdout.trim();
    assert.equal(kubeconfigPath, join(dir, 'kubeconfig'));

    // The CLI has exited; its processes must not have.
    const state = readState(dir);
    assert.ok(state);
    assert.deepEqual(
      state.processes.map((p) => [p.name, isRunning(p)]),
      ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'].map((n) => [n, true]),
    );

    const again = await run('start');
    assert.equal(again.stdout.trim(), kubeconfigPath);
    assert.match(again.stderr, /already running/);
    assert.equal(readState(dir)?.startedAt, state.startedAt);

    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const nodes = await kc.makeApiClient(CoreV1Api).listNode();
    assert.deepEqual(
      nodes.items.map((n) => n.metadata?.name),
      ['capstan-node-0'],
    );

    assert.equal((await run('status')).stdout.trim(), kubeconfigPath);
    await run('stop');
    assert.ok(state.processes.every((p) => !isRunning(p)));
    assert.deepEqual(processesMentioning(dir), [], 'no process still uses the cluster dir');
    await assert.rejects(run('status'), (err: { code?: number }) => err.code === 3);
  });
});

/** Pids whose command line mentions `text` (Linux /proc). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}
