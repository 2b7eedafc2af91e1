import { CoordinationV1Api } from '@kubernetes/client-node';
import { createKubeConfig } from '@capstan/kube';
import { SyncFleet, readTrace, waitFor, type Replica } from '@capstan/e2e';
import type { BenchResult } from './harness.js';
import { loadAverage } from './machine-load.js';
import { loadScaleOutConfig } from './scale-out.config.js';
import { chartEnv } from './chart-settings.js';

/**
 * Reconciler scale-out: N Syncs (each one ConfigMap from its own folder of one repository)
 * reconciled by 1, 2 and 3 reconciler replicas (processes), timed from the Syncs' creation
 * until every one is Ready; the spread is how many Syncs each replica reconciled (from the
 * services' step trace).
 */
export async function reconcilerScaleOut(): Promise<BenchResult> {
  const config = loadScaleOutConfig();
  const counts = config.BENCH_SCALE_REPLICAS.split(',').map(Number);
  const rows: { replicas: number; seconds: number; spread: number[]; load: string[] }[] = [];
  const gitWatcherEnv = await chartEnv('git-watcher');
  const reconcilerEnv = await chartEnv('reconciler');
  for (const replicas of counts) {
    const load = [await loadAverage()];
    const fleet = await SyncFleet.start({
      syncs: config.BENCH_SCALE_SYNCS,
      createSyncs: false,
      env: { LOG_LEVEL: 'warn' },
    });
    try {
      await fleet.replicas.start('git-watcher', gitWatcherEnv);
      await waitFor(
        'the repository artifact',
        async () =>
          (await fleet.resources.get('GitRepository', fleet.ns, 'apps')).status?.artifact ? true : undefined,
        120_000,
      );
      const reconcilers: Replica[] = [];
      for (let i = 0; i < replicas; i++)
        reconcilers.push(await fleet.replicas.start('reconciler', reconcilerEnv));
      await shardsSplit(fleet, replicas);
      const started = performance.now();
      await fleet.createSyncs();
      await fleet.allReady(fleet.revision, 20 * 60_000, 2_000);
      const seconds = (performance.now() - started) / 1000;
      const perPid = new Map<number, Set<string>>();
      for (const e of await readTrace(fleet.traceFile))
        if (e.step === 'reconciler.run-start') perPid.set(e.pid, (perPid.get(e.pid) ?? new Set()).add(e.key));
      load.push(await loadAverage());
      rows.push({ replicas, seconds, spread: reconcilers.map((r) => perPid.get(r.pid)?.size ?? 0), load });
      process.stderr.write(`reconciler-scale-out ${JSON.stringify(rows.at(-1))}\n`);
    } finally {
      await fleet.stop();
    }
  }
  const last = rows.at(-1);
  const table = rows
    .map(
      (r) => `| ${r.replicas} | ${r.seconds.toFixed(1)} | ${r.spread.join(' / ')} | ${r.load.join(' → ')} |`,
    )
    .join('\n');
  return {
    name: 'reconciler-scale-out',
    value: Math.round((last?.seconds ?? 0) * 10) / 10,
    unit: `s for ${config.BENCH_SCALE_SYNCS} Syncs on ${last?.replicas ?? 0} replicas`,
    target:
      'every Sync on exactly one replica, spread within the shard granularity; faster with more replicas where CPU allows',
    details: `${config.BENCH_SCALE_SYNCS} Syncs, each one ConfigMap from its own folder of one Git repository, created at once after the reconciler replicas (processes, one machine) have split the 32 shards; timed until every Sync is Ready at the commit. Spread: distinct Syncs each replica reconciled (a Sync counted on two replicas would show as a sum above ${config.BENCH_SCALE_SYNCS}). The load average (\`uptime\`: 1, 5, 15 min) before and after each run says how busy the shared 2-core machine was; all replicas share its 2 cores with the API server, etcd and the bench, so more replicas cannot add CPU here, only spread the work.

| reconciler replicas | seconds to all Ready | Syncs per replica | load average before → after |
|---|---|---|---|
${table}`,
  };
}

/** Waits until the replicas hold every shard between them, each some. */
async function shardsSplit(fleet: SyncFleet, replicas: number): Promise<void> {
  const api = createKubeConfig(fleet.env['KUBECONFIG']).makeApiClient(CoordinationV1Api);
  const group = `${fleet.env['EVENT_PREFIX']}-reconciler`;
  await waitFor(
    `the shards split between ${replicas} reconcilers`,
    async () => {
      const leases = (
        await api.listNamespacedLease({
          namespace: 'default',
          labelSelector: `capstan.dev/shard-group=${group},capstan.dev/shard-role=shard`,
        })
      ).items;
      const holders = new Set(leases.map((l) => l.spec?.holderIdentity).filter(Boolean));
      return leases.length === 32 && holders.size === replicas ? true : undefined;
    },
    120_000,
  );
}

/**
 * Failover: three reconciler replicas, N Syncs Ready; one replica is killed with `kill -9`. Timed
 * from the kill until the others start on its Syncs (its lease lapsed, shards taken) and until
 * every one of them has been reconciled again.
 */
export async function reconcilerFailover(): Promise<BenchResult> {
  const config = loadScaleOutConfig();
  const load = [await loadAverage()];
  const fleet = await SyncFleet.start({
    syncs: config.BENCH_FAILOVER_SYNCS,
    createSyncs: false,
    env: { LOG_LEVEL: 'warn' },
  });
  try {
    await fleet.replicas.start('git-watcher', await chartEnv('git-watcher'));
    const reconcilerEnv = await chartEnv('reconciler');
    const reconcilers: Replica[] = [];
    for (let i = 0; i < 3; i++) reconcilers.push(await fleet.replicas.start('reconciler', reconcilerEnv));
    await shardsSplit(fleet, 3);
    await fleet.createSyncs();
    await fleet.allReady(fleet.revision, 10 * 60_000, 1_000);
    const victim = reconcilers[0]!;
    const owned = new Set(
      (await readTrace(fleet.traceFile))
        .filter((e) => e.step === 'reconciler.run-start' && e.pid === victim.pid)
        .map((e) => e.key),
    );
    await fleet.replicas.kill(victim);
    const killedAt = victim.killedAt ?? Date.now();
    const times = await waitFor(
      `the killed replica's ${owned.size} Syncs reconciled by the others`,
      async () => {
        const after = (await readTrace(fleet.traceFile)).filter(
          (e) => e.at >= killedAt && e.pid !== victim.pid && owned.has(e.key),
        );
        const ended = new Set(after.filter((e) => e.step === 'reconciler.run-end').map((e) => e.key));
        if (ended.size < owned.size) return undefined;
        const starts = after.filter((e) => e.step === 'reconciler.run-start').map((e) => e.at);
        const ends = after.filter((e) => e.step === 'reconciler.run-end').map((e) => e.at);
        return { first: Math.min(...starts) - killedAt, all: Math.max(...ends) - killedAt };
      },
      120_000,
    );
    load.push(await loadAverage());
    return {
      name: 'reconciler-failover',
      value: Math.round(times.all / 100) / 10,
      unit: `s from kill -9 until all ${owned.size} of its Syncs were reconciled by the others`,
      target: '< 10 s',
      details: `Three reconciler replicas (processes) share ${config.BENCH_FAILOVER_SYNCS} Syncs (one ConfigMap each), all Ready; one is killed with \`kill -9\` (no lease released). The others take its shards once its member Lease has been unchanged for SHARD_LEASE_SECONDS (6 s, the default) by their own clocks, then reconcile each Sync they gained at once.

| from the kill until | seconds |
|---|---|
| the first of its Syncs started on another replica (takeover) | ${(times.first / 1000).toFixed(1)} |
| all ${owned.size} of its Syncs reconciled again | ${(times.all / 1000).toFixed(1)} |

Load average (\`uptime\`: 1, 5, 15 min) before → after: ${load.join(' → ')} (a shared 2-core machine).`,
    };
  } finally {
    await fleet.stop();
  }
}
