import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sharedCluster } from '@capstan/testing';
import { installCrds, objectApi } from '@capstan/e2e';
import type { BenchResult } from './harness.js';
import { loadMassReconcileConfig } from './mass-reconcile.config.js';
import { runOnce, type Run } from './mass-reconcile.js';
import { serviceAccountKubeconfig } from './service-account-kubeconfig.js';

/**
 * What impersonation costs at scale: the mass-reconcile run (N Syncs, each a Deployment,
 * Service and ConfigMap) without impersonation and then with every Sync naming its own
 * ServiceAccount, back to back, alternating `BENCH_ROUNDS` times. The machine is shared, so the
 * load average is recorded around every run and both numbers are reported side by side.
 */
export async function impersonationCost(): Promise<BenchResult> {
  const config = loadMassReconcileConfig();
  const n = Number(config.BENCH_SYNCS.split(',').at(-1) ?? 1000);
  const rounds = config.BENCH_ROUNDS;
  const { kubeconfigPath } = await sharedCluster();
  const api = objectApi(kubeconfigPath);
  await installCrds(api);
  const scratch = await mkdtemp(join(tmpdir(), 'capstan-impersonation-'));
  const reconcilerKubeconfig = await serviceAccountKubeconfig(kubeconfigPath, api, scratch);
  const runs: { impersonate: boolean; run: Run; loadBefore: string; loadAfter: string }[] = [];
  for (let round = 0; round < rounds; round++)
    for (const impersonate of [false, true]) {
      const loadBefore = await loadAverage();
      const run = await runOnce(n, kubeconfigPath, api, config, impersonate, reconcilerKubeconfig);
      runs.push({ impersonate, run, loadBefore, loadAfter: await loadAverage() });
    }
  await rm(scratch, { recursive: true, force: true });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const of = (impersonate: boolean) => runs.filter((r) => r.impersonate === impersonate).map((r) => r.run);
  const [off, on] = [of(false), of(true)];
  const time = (rs: Run[]) => mean(rs.map((r) => r.seconds));
  const rss = (rs: Run[]) => mean(rs.map((r) => r.peakRssMiB));
  const timeRatio = time(on) / time(off);
  const rssRatio = rss(on) / rss(off);
  const pct = (r: number) => `${r >= 1 ? '+' : ''}${((r - 1) * 100).toFixed(1)} %`;
  const rows = runs
    .map(
      ({ impersonate, run, loadBefore, loadAfter }) =>
        `| ${impersonate ? `on (${n} ServiceAccounts)` : 'off'} | ${run.seconds.toFixed(1)} | ${run.peakRssMiB.toFixed(0)} | ${run.heapAtPeakMiB.toFixed(0)} | ${run.cpu.find((c) => c.name === 'reconciler')?.cores.toFixed(2) ?? '?'} | ${run.cpu.find((c) => c.name === 'kube-apiserver')?.cores.toFixed(2) ?? '?'} | ${totalRequests(run)} | ${loadBefore} | ${loadAfter} |`,
    )
    .join('\n');
  return {
    name: 'impersonation-cost',
    value: Math.round((timeRatio - 1) * 1000) / 10,
    unit: `% time, ${pct(rssRatio)} peak RSS at ${n} Syncs with impersonation`,
    target: 'within 10 % of the same run without impersonation, time and RSS',
    details: `The mass-reconcile run (${n} Syncs, each a Deployment + Service + ConfigMap, spec.wait ${config.BENCH_WAIT}, reconciler as a child process with the chart's NODE_OPTIONS), first without impersonation, then with every Sync naming its own ServiceAccount (so the reconciler keeps ${n} impersonating client sets: every dry-run, apply, health read and prune carries Impersonate-User), ${rounds} round(s) back to back. On both sides the reconciler authenticates as a ServiceAccount bound to cluster-admin, as it does when installed by the chart (the cluster's admin kubeconfig is in system:masters, which API Priority and Fairness exempts from queueing). RBAC: one RoleBinding of the namespace's ServiceAccount group to \`admin\`. The machine is shared: \`uptime\` load averages (1, 5, 15 min) before and after each run.

| impersonation | seconds to all Ready | reconciler peak RSS (MiB) | V8 heap at peak (MiB) | reconciler CPU cores | kube-apiserver CPU cores | API requests | load before | load after |
|---|---|---|---|---|---|---|---|---|
${rows}

Mean time ${time(off).toFixed(1)} s off, ${time(on).toFixed(1)} s on (${pct(timeRatio)}); mean peak RSS ${rss(off).toFixed(0)} MiB off, ${rss(on).toFixed(0)} MiB on (${pct(rssRatio)}).

Most-served requests, last run off: ${off.at(-1)?.requests.slice(0, 8).join(', ') ?? 'none'}; last run on: ${on.at(-1)?.requests.slice(0, 8).join(', ') ?? 'none'}.`,
  };
}

async function loadAverage(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

/** Every request the API server served during the run (all clients), from its own counters. */
function totalRequests(run: Run): number {
  return run.requests.reduce((sum, line) => sum + Number(line.split(': ').at(-1) ?? 0), 0);
}
