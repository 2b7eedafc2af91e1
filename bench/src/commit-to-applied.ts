import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { GitRepo, Platform, applyYaml, readObject, waitFor } from '@capstan/e2e';
import { histogram, percentile, type BenchResult } from './harness.js';

const COMMITS = 30;
const INTERVAL = '1s';

/**
 * From `git push` to the changed object being visible in the API server, through the real
 * services (poll -> commit observed on JetStream -> reconcile -> server-side apply). Polling
 * only (the webhook receiver is a later issue), with a 1 s interval.
 */
export async function commitToApplied(): Promise<BenchResult> {
  const platform = await Platform.start();
  const id = randomBytes(3).toString('hex');
  const repo = await GitRepo.create(join(tmpdir(), `capstan-bench-${id}`));
  const ns = `bench-${id}`;
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
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${ns}, namespace: default}
spec: {url: "${repo.url}", interval: ${INTERVAL}}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${ns}, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${ns}}, path: ./app, interval: 10m}
`,
    );
    const valueIs = (v: number) => async () => {
      const o = await readObject<{ data?: { value?: string } }>(platform.api, 'v1', 'ConfigMap', ns, 'probe');
      return o?.data?.value === String(v) ? true : undefined;
    };
    await waitFor('initial apply', valueIs(0), 120_000);
    const before = await metrics(platform);

    const latencies: number[] = [];
    for (let i = 1; i <= COMMITS; i++) {
      await repo.write({ 'app/cm.yaml': cm(i) });
      const pushed = performance.now();
      repo.commit(`value ${i}`, author);
      await waitFor(`value ${i}`, valueIs(i), 60_000);
      latencies.push(performance.now() - pushed);
      // Let the reconcile finish its status write so the next commit starts from rest.
      await waitFor('status', async () =>
        (await resources.get('Sync', 'default', ns)).status?.lastAppliedRevision ? true : undefined,
      );
    }
    const after = await metrics(platform);
    const phase = (m: string, l = '') => {
      const a = histogram(after.text(m), m, l);
      const b = histogram(before.text(m), m, l);
      return a.count > b.count ? ((a.sum - b.sum) / (a.count - b.count)) * 1000 : 0;
    };
    const fetchWatcher = phase('capstan_git_fetch_seconds');
    const fetchReconciler = phase('capstan_reconcile_phase_seconds', 'phase="fetch"');
    const build = phase('capstan_reconcile_phase_seconds', 'phase="build"');
    const apply = phase('capstan_reconcile_phase_seconds', 'phase="apply"');
    const sorted = [...latencies].sort((a, b) => a - b);
    const mean = latencies.reduce((a, b) => a + b, 0) / latencies.length;
    const p50 = percentile(sorted, 50);
    const p95 = percentile(sorted, 95);
    const rest = Math.max(0, mean - fetchWatcher - fetchReconciler - build - apply);
    const r = (n: number) => n.toFixed(0);
    return {
      name: 'commit-to-applied',
      value: Math.round(p50),
      unit: 'ms (p50)',
      target: 'none for the poll path; the webhook path (later issue) targets p50 < 1 s, p95 < 2 s',
      details: `${COMMITS} commits, each pushed to a local bare repository and timed until the changed ConfigMap is visible in the API server; GitRepository interval ${INTERVAL}.

| statistic | ms |
|---|---|
| p50 | ${r(p50)} |
| p95 | ${r(p95)} |
| mean | ${r(mean)} |
| min / max | ${r(sorted[0] ?? 0)} / ${r(sorted[sorted.length - 1] ?? 0)} |

Where the mean goes (per commit, from the services' own histograms):

| part | ms |
|---|---|
| git-watcher fetch (\`git fetch\` of the mirror) | ${r(fetchWatcher)} |
| reconciler fetch | ${r(fetchReconciler)} |
| render (read tree at the commit, parse YAML) | ${r(build)} |
| apply (dry-run + server-side apply) | ${r(apply)} |
| the rest: waiting for the next poll, JetStream hops, status writes | ${r(rest)} |

Polling dominates. The loop pushes right after the previous apply, which lands just after a poll, so each push waits close to a whole interval for the next one (pushes at random times would wait half an interval on average). The push webhook receiver (reconciler issue) removes that wait.`,
    };
  } finally {
    await platform.stop();
    await repo.remove();
  }
}

async function metrics(platform: Platform) {
  const [git, rec] = await Promise.all([
    fetch(`${platform.gitWatcherUrl}/metrics`).then((r) => r.text()),
    fetch(`${platform.reconcilerUrl}/metrics`).then((r) => r.text()),
  ]);
  return { text: (name: string) => (name.startsWith('capstan_git') ? git : rec) };
}
