// `npm run bench` runs every benchmark; `npm run bench -- <name>` runs one. Each prints, as its
// last line, one JSON object {name, value, unit, target, machine, date}, and rewrites its
// section of docs/benchmarks.md.
import { auditIngest } from './audit-ingest.js';
import { auditQuery } from './audit-query.js';
import { commitToApplied } from './commit-to-applied.js';
import { drift } from './drift.js';
import { massReconcile } from './mass-reconcile.js';
import { webhookCommitToApplied } from './webhook-commit-to-applied.js';
import { webhookFanout } from './webhook-fanout.js';
import { machine, record, type Benchmark } from './harness.js';

const benchmarks: Record<string, Benchmark> = {
  'audit-ingest': auditIngest,
  'audit-query-1m': auditQuery(1_000_000),
  'audit-query-10m': auditQuery(10_000_000),
  'commit-to-applied': commitToApplied,
  'drift-correction': drift,
  'mass-reconcile': massReconcile,
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
