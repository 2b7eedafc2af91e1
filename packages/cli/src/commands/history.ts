import { Option, type Command } from 'commander';
import { AuditClient, type DecisionEntry } from '../audit-client.js';
import { renderTable, truncate } from '../table.js';
import { parseObjectPath, UsageError } from '../object-ref.js';

export interface HistoryOptions {
  server: string;
  output: string;
  namespace?: string;
  kind?: string;
  name?: string;
  actor?: string;
  action?: string;
  since?: string;
  limit: number;
}

/** The API query for the flags; `--since` also takes a duration back from now (`2h`, `7d`). */
export function historyQuery(opts: HistoryOptions, now: Date): Record<string, string> {
  const query: Record<string, string> = { limit: String(opts.limit) };
  for (const key of ['namespace', 'kind', 'name', 'actor', 'action'] as const) {
    const value = opts[key];
    if (value !== undefined) query[key] = value;
  }
  if (opts.since !== undefined) query['since'] = sinceTimestamp(opts.since, now);
  return query;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function sinceTimestamp(since: string, now: Date): string {
  const duration = /^(\d+)([smhd])$/.exec(since);
  if (duration)
    return new Date(now.getTime() - Number(duration[1]) * (UNITS[duration[2] ?? 's'] ?? 0)).toISOString();
  if (Number.isNaN(Date.parse(since)) || !/^\d{4}-\d{2}-\d{2}T/.test(since))
    throw new UsageError(
      `--since "${since}": expected an RFC 3339 time (2026-11-22T10:00:00Z) or a duration (30m, 2h, 7d)`,
    );
  return since;
}

/** The decision log as a table: newest first, one line per decision. Pure. */
export function renderHistory(entries: readonly DecisionEntry[]): string {
  if (entries.length === 0) return 'No decisions match.';
  return renderTable(
    ['time', 'action', 'outcome', 'objects', 'revision', 'actor', 'by', 'message'],
    entries.map((d) => [
      d.time.replace(/\.\d+Z$/, 'Z'),
      d.action,
      d.outcome,
      objects(d.targets),
      d.source ? d.source.revision.replace(/sha1:([0-9a-f]{12})[0-9a-f]+$/, 'sha1:$1') : '-',
      d.actor.email ? `${d.actor.name} <${d.actor.email}>` : `${d.actor.name} (${d.actor.kind})`,
      `${d.decidedBy.kind}/${d.decidedBy.namespace}/${d.decidedBy.name}`,
      truncate(d.source?.commitMessage ?? d.message, 50),
    ]),
  );
}

/**
 * A HelmRelease's history: each decision about it with the chart version and values digest it
 * rendered with (Capstan keeps releases as its own rendered-and-applied sets, not Helm secrets),
 * and who made the change. Pure.
 */
export function renderReleaseHistory(
  entries: readonly DecisionEntry[],
  namespace: string,
  name: string,
): string {
  if (entries.length === 0) return 'No decisions recorded for this release.';
  return renderTable(
    ['time', 'action', 'revision', 'chart', 'values', 'actor', 'message'],
    entries.map((d) => {
      const row = releaseRow(d.evidence, namespace, name);
      return [
        d.time.replace(/\.\d+Z$/, 'Z'),
        d.action,
        d.source ? d.source.revision.replace(/sha1:([0-9a-f]{12})[0-9a-f]+$/, 'sha1:$1') : '-',
        row?.chart ? `${row.chart}-${row.version ?? '?'}` : '-',
        row?.valuesDigest ? row.valuesDigest.slice(0, 'sha256:'.length + 12) : '-',
        d.actor.email ? `${d.actor.name} <${d.actor.email}>` : `${d.actor.name} (${d.actor.kind})`,
        truncate(d.action === 'failed' ? d.message : (d.source?.commitMessage ?? d.message), 60),
      ];
    }),
  );
}

interface ReleaseRow {
  namespace?: string;
  name?: string;
  chart?: string;
  version?: string;
  valuesDigest?: string;
}

function releaseRow(
  evidence: DecisionEntry['evidence'],
  namespace: string,
  name: string,
): ReleaseRow | undefined {
  const rows = evidence?.['releases'];
  if (!Array.isArray(rows)) return undefined;
  return (rows as ReleaseRow[]).find(
    (r) => r.name === name && (namespace === '_' || r.namespace === namespace),
  );
}

/** First object and a count, so a 40-object apply stays one readable line. */
function objects(targets: DecisionEntry['targets']): string {
  const first = targets[0];
  if (!first) return '-';
  const label = `${first.namespace ? `${first.namespace}/` : ''}${first.kind}/${first.name}`;
  return targets.length > 1 ? `${label} (+${targets.length - 1})` : label;
}

/** `capstan history`: the audit log, filtered. */
export function registerHistory(
  cmd: Command,
  out: (s: string) => void,
  defaults: { server: string; token: string | undefined },
  now: () => Date = () => new Date(),
): void {
  cmd
    .command('history')
    .description('the audit log: who deployed what, when, newest first')
    .argument(
      '[object]',
      'only decisions about this object: <namespace>/<kind>/<name>; hr/<name> shows a release with its chart and values',
    )
    .addOption(new Option('--server <url>', 'audit API base URL').default(defaults.server))
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .option('-n, --namespace <namespace>', 'decisions touching objects in this namespace')
    .option('--kind <kind>', 'decisions touching objects of this kind')
    .option('--name <name>', 'decisions touching objects of this name')
    .option('--actor <actor>', 'who made the change: name, or email (any case)')
    .option('--action <action>', 'applied, pruned, failed, drift.corrected, canary.promoted, ...')
    .option('--since <time>', 'RFC 3339 time, or a duration back from now (30m, 2h, 7d)')
    .option('--limit <n>', 'how many decisions (at most 500)', (v) => Number.parseInt(v, 10), 50)
    .action(async (object: string | undefined, opts: HistoryOptions) => {
      if (!Number.isInteger(opts.limit) || opts.limit < 1)
        throw new UsageError('--limit must be a positive number');
      const path = object === undefined ? undefined : parseObjectPath(object);
      if (path) {
        opts.kind = path.kind;
        opts.name = path.name;
        // `hr/<name>` without a namespace: the one given with -n, else `default`.
        if (path.namespace !== '_') opts.namespace = path.namespace;
        else if (path.kind === 'HelmRelease') opts.namespace ??= 'default';
      }
      const page = await new AuditClient(opts.server, defaults.token).decisions(historyQuery(opts, now()));
      if (opts.output === 'json') out(JSON.stringify(page.items, null, 2));
      else if (path?.kind === 'HelmRelease')
        out(renderReleaseHistory(page.items, opts.namespace ?? 'default', path.name));
      else out(renderHistory(page.items));
    });
}
