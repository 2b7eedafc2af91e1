import { createHmac, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { GitRepo, Platform, applyYaml, readObject, waitFor } from '@capstan/e2e';
import { percentile, type BenchResult } from './harness.js';

const COMMITS = 30;

/**
 * From `git push` to the changed object being visible in the API server when the push is
 * announced by a webhook (generic Receiver, HMAC-signed): push -> POST /hooks/... -> poll ->
 * commit observed on JetStream -> reconcile -> server-side apply. The GitRepository interval is
 * 10m, so every commit is seen because of the webhook, not a poll.
 */
export async function webhookCommitToApplied(): Promise<BenchResult> {
  const platform = await Platform.start();
  const id = randomBytes(3).toString('hex');
  const repo = await GitRepo.create(join(tmpdir(), `capstan-bench-hook-${id}`));
  const ns = `bench-hook-${id}`;
  const token = randomBytes(16).toString('hex');
  const author = { name: 'Bench', email: 'bench@example.com' };
  const resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
  try {
    const cm = (v: number) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe, namespace: ${ns}}\ndata: {value: "${v}"}\n`;
    await repo.write({
      'app/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
      'app/cm.yaml': cm(0),
    });
    repo.commit('initial', author);
    await applyYaml(
      platform.api,
      `apiVersion: v1
kind: Secret
metadata: {name: ${ns}-token, namespace: default}
stringData: {token: ${token}}
---
apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${ns}, namespace: default}
spec: {url: "${repo.url}", interval: 10m}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${ns}, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${ns}}, path: ./app, interval: 10m}
`,
    );
    await waitFor('Receiver created', async () => {
      await applyYaml(
        platform.api,
        `apiVersion: capstan.dev/v1alpha1
kind: Receiver
metadata: {name: ${ns}, namespace: default}
spec: {type: generic, secretRef: {name: ${ns}-token}, resources: [{kind: GitRepository, name: ${ns}}]}
`,
      );
      return true;
    });
    const path = await waitFor('Receiver path', async () => {
      const r = await readObject<{ status?: { webhookPath?: string } }>(
        platform.api,
        'capstan.dev/v1alpha1',
        'Receiver',
        'default',
        ns,
      );
      return r?.status?.webhookPath;
    });
    const valueIs = (v: number) => async () => {
      const o = await readObject<{ data?: { value?: string } }>(platform.api, 'v1', 'ConfigMap', ns, 'probe');
      return o?.data?.value === String(v) ? true : undefined;
    };
    await waitFor('initial apply', valueIs(0), 120_000);

    const latencies: number[] = [];
    for (let i = 1; i <= COMMITS; i++) {
      await repo.write({ 'app/cm.yaml': cm(i) });
      const pushed = performance.now();
      const sha = repo.commit(`value ${i}`, author);
      const body = JSON.stringify({ ref: 'refs/heads/main', after: sha });
      const res = await fetch(new URL(path, platform.gitWatcherUrl), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-signature': `sha256=${createHmac('sha256', token).update(body).digest('hex')}`,
        },
        body,
      });
      if (res.status !== 202) throw new Error(`webhook answered ${res.status}: ${await res.text()}`);
      await waitFor(`value ${i}`, valueIs(i), 60_000);
      latencies.push(performance.now() - pushed);
      // Let the reconcile finish its status write so the next commit starts from rest.
      await waitFor('status', async () =>
        (await resources.get('Sync', 'default', ns)).status?.lastAppliedRevision === `main@sha1:${sha}`
          ? true
          : undefined,
      );
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
    const p50 = percentile(sorted, 50);
    const p95 = percentile(sorted, 95);
    const r = (n: number) => n.toFixed(0);
    return {
      name: 'webhook-commit-to-applied',
      value: Math.round(p50),
      unit: 'ms (p50)',
      target: 'p50 < 1000 ms, p95 < 2000 ms',
      details: `${COMMITS} commits, each pushed to a local bare repository, announced with a signed POST to a generic Receiver, and timed from the push until the changed ConfigMap is visible in the API server. GitRepository interval 10m, so no commit is found by polling.

| statistic | ms |
|---|---|
| p50 | ${r(p50)} |
| p95 | ${r(p95)} |
| mean | ${r(mean)} |
| min / max | ${r(sorted[0] ?? 0)} / ${r(sorted[sorted.length - 1] ?? 0)} |`,
    };
  } finally {
    await platform.stop();
    await repo.remove();
  }
}
