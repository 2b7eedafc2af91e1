import { createTestDatabase } from '@capstan/testing';
import { SyncFleet, type Replica } from '@capstan/e2e';
import type { BenchResult } from './harness.js';
import { loadAverage, rssBytes } from './machine-load.js';
import { loadScaleOutConfig } from './scale-out.config.js';
import { chartEnv } from './chart-settings.js';
import { SoakWorkloads } from './soak-workloads.js';

/**
 * Soak: all five services as processes under a steady rate for SOAK_MINUTES (commits for the
 * git-watcher, reconciler and audit; new image tags for the registry-watcher; Canary revisions
 * for the canary-analyzer, see SoakWorkloads); RSS per service after a warm-up and at the end (each the mean of five samples a
 * second apart). A leak shows as the end well above the start.
 */
export async function soak(): Promise<BenchResult> {
  const config = loadScaleOutConfig();
  const db = await createTestDatabase();
  const fleet = await SyncFleet.start({
    syncs: config.SOAK_SYNCS,
    env: { LOG_LEVEL: 'warn', DATABASE_URL: db.url, AUDIT_AUTH: 'disabled', TEST_TRACE_FILE: '' },
  });
  const load = [await loadAverage()];
  let workloads: SoakWorkloads | undefined;
  try {
    const services: Replica[] = [
      // Each with the chart's V8 limits and environment: what users run, and what bounds a heap
      // V8 would otherwise let grow lazily (the first hour-long run had none).
      await fleet.replicas.start('audit', await chartEnv('audit')),
      await fleet.replicas.start('git-watcher', await chartEnv('git-watcher')),
      await fleet.replicas.start('reconciler', await chartEnv('reconciler')),
      await fleet.replicas.start('registry-watcher', await chartEnv('registry-watcher')),
      await fleet.replicas.start('canary-analyzer', await chartEnv('canary-analyzer')),
    ];
    await fleet.allReady(fleet.revision, 120_000);
    workloads = await SoakWorkloads.start(fleet);
    const totalMs = config.SOAK_MINUTES * 60_000;
    // The first tenth (at most 5 minutes) warms caches, JIT and pools; RSS is compared after it.
    const warmupMs = Math.min(5 * 60_000, totalMs / 10);
    const started = Date.now();
    let commits = 0;
    let late = 0;
    let start: number[] | undefined;
    while (Date.now() - started < totalMs) {
      const tick = Date.now();
      await fleet.commit();
      await workloads.step();
      commits++;
      if (!start && Date.now() - started >= warmupMs) start = await sampleRss(services);
      const wait = config.SOAK_COMMIT_SECONDS * 1000 - (Date.now() - tick);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      // A commit still not applied when the next is due counts as late (the rate is not kept up).
      if ((await fleet.notReady()).length > 0) late++;
    }
    await fleet.allReady(fleet.revision, 120_000);
    // The last tag and Canary revision need one scan or analysis to show in status.
    await new Promise((r) => setTimeout(r, 45_000));
    const outcome = await workloads.outcome();
    const end = await sampleRss(services);
    const begin = start ?? end;
    load.push(await loadAverage());
    const mib = (b: number) => (b / 2 ** 20).toFixed(1);
    const change = services.map((_, i) => ((end[i]! - begin[i]!) / begin[i]!) * 100);
    const worst = Math.max(...change);
    const rows = services
      .map((s, i) => `| ${s.service} | ${mib(begin[i]!)} | ${mib(end[i]!)} | ${change[i]!.toFixed(1)} % |`)
      .join('\n');
    return {
      name: 'soak',
      value: Math.round(worst * 10) / 10,
      unit: `% RSS growth (worst service) over ${config.SOAK_MINUTES} min`,
      target: 'each service within 10 % of its start',
      details: `All five services as processes; a commit every ${config.SOAK_COMMIT_SECONDS} s changing the ConfigMap of each of ${config.SOAK_SYNCS} Syncs (${commits} commits, ${commits * config.SOAK_SYNCS} reconciles and decisions; ${late} commits not yet applied when the next was due); with each commit, ${workloads.summary()}. ${outcome} RSS per service after a ${Math.round(warmupMs / 1000)} s warm-up and at the end, each the mean of five samples a second apart. Load average (\`uptime\`: 1, 5, 15 min) before → after: ${load.join(' → ')}.

| service | RSS after warm-up (MiB) | RSS at the end (MiB) | change |
|---|---|---|---|
${rows}`,
    };
  } finally {
    await workloads?.stop();
    await fleet.stop();
    await db.drop();
  }
}

async function sampleRss(services: readonly Replica[]): Promise<number[]> {
  const sums = services.map(() => 0);
  for (let i = 0; i < 5; i++) {
    const now = await Promise.all(services.map((s) => rssBytes(s.pid)));
    now.forEach((v, j) => (sums[j]! += v));
    await new Promise((r) => setTimeout(r, 1_000));
  }
  return sums.map((s) => s / 5);
}
