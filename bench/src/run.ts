// `npm run bench` runs every benchmark; `npm run bench -- <name>` runs one. Each prints, as its
// last line, one JSON object {name, value, unit, target, machine, date}, and rewrites its
// section of docs/benchmarks.md.
import { auditIngest } from './audit-ingest.js';
import { canaryHundred, canaryPromotion, canaryRollbackLatency } from './canary-bench.js';
import { auditQuery } from './audit-query.js';
import { commitToApplied } from './commit-to-applied.js';
import { consoleLoad } from './console-load.js';
import { drift } from './drift.js';
import { imagePushToCommit } from './image-push-to-commit.js';
import { impersonationCost } from './impersonation-cost.js';
import { imageScanCost } from './image-scan-cost.js';
import { massReconcile } from './mass-reconcile.js';
import { reconcilerFailover, reconcilerScaleOut } from './scale-out.js';
import { soak } from './soak.js';
import { webhookCommitToApplied } from './webhook-commit-to-applied.js';
import { webhookFanout } from './webhook-fanout.js';
import { machine, record, type Benchmark } from './harness.js';

const benchmarks: Record<string, Benchmark> = {
  'audit-ingest': auditIngest,
  'audit-query-1m': auditQuery(1_000_000),
  'audit-query-10m': auditQuery(10_000_000),
  'canary-100-concurrent': canaryHundred,
  'canary-promotion': canaryPromotion,
  'canary-rollback-latency': canaryRollbackLatency,
  'commit-to-applied': commitToApplied,
  'console-load': consoleLoad,
  'drift-correction': drift,
  'image-push-to-commit': imagePushToCommit,
  'image-scan-cost': imageScanCost,
  'impersonation-cost': impersonationCost,
  'mass-reconcile': massReconcile,
  'reconciler-failover': reconcilerFailover,
  'reconciler-scale-out': reconcilerScaleOut,
  soak,
  'webhook-commit-to-applied': webhookCommitToApplied,
  'webhook-fanout': webhookFanout,
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !(n in benchmarks));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}\n`,
  );
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(benchmarks)) {
  const run = benchmarks[name];
  if (!run) continue;
  const result = await run();
  const date = new Date().toISOString().slice(0, 10);
  await record(result, date);
  process.stdout.write(`${result.details}\n`);
  process.stdout.write(
    `${JSON.stringify({ name: result.name, value: result.value, unit: result.unit, target: result.target, machine: machine(), date })}\n`,
  );
}
// The in-process services and the private cluster are torn down by now; exit even if a socket lingers.
process.exit(0);
