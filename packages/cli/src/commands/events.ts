import { Option, type Command } from 'commander';
import { AuditClient } from '../audit-client.js';
import { streamDecisions } from './event-stream.js';
import { historyQuery } from './history.js';
import type { SseEvent } from './sse.js';

export interface EventsOptions {
  server: string;
  output: string;
  follow?: boolean;
  namespace?: string;
  kind?: string;
  name?: string;
  actor?: string;
  action?: string;
  since?: string;
}

/** A decision as the event stream sends it: the audit log's CloudEvent (the fields shown here). */
export interface DecisionCloudEvent {
  id: string;
  type: string;
  subject: string;
  capstanseq: number;
  data: {
    seq: number;
    time: string;
    action: string;
    outcome: string;
    message: string;
    actor: { kind: string; name: string; email?: string | null };
    source: { revision: string } | null;
    decidedBy: { kind: string; namespace: string; name: string };
    targets: { namespace: string; kind: string; name: string }[];
  };
}

/** A frame whose data is not a decision CloudEvent; names the seq so it can be looked up. */
export class MalformedEventError extends Error {
  constructor(
    readonly seq: string,
    detail: string,
  ) {
    super(`event ${seq}: ${detail}`);
    this.name = 'MalformedEventError';
  }
}

/** The stream's filters for the flags (the same as `capstan history`, without a limit). */
export function eventsQuery(opts: EventsOptions, now: Date): Record<string, string> {
  const { limit: _limit, ...query } = historyQuery({ ...opts, limit: 1 }, now);
  return query;
}

export function parseDecisionEvent(frame: SseEvent): DecisionCloudEvent {
  let event: unknown;
  try {
    event = JSON.parse(frame.data);
  } catch (e) {
    throw new MalformedEventError(
      frame.id,
      `data is not JSON (${e instanceof Error ? e.message : String(e)})`,
    );
  }
  const data = (event as { data?: unknown } | null)?.data as Partial<DecisionCloudEvent['data']> | undefined;
  if (
    typeof data !== 'object' ||
    typeof data.time !== 'string' ||
    typeof data.action !== 'string' ||
    typeof data.actor?.name !== 'string' ||
    !Array.isArray(data.targets)
  )
    throw new MalformedEventError(frame.id, 'data is not a decision (time, action, actor, targets)');
  return event as DecisionCloudEvent;
}

const COLUMNS = [
  ['time', 20],
  ['action', 18],
  ['objects', 36],
  ['revision', 24],
  ['actor', 0],
] as const;

/** Fixed widths: a followed stream cannot measure rows it has not seen yet. */
const line = (cells: readonly string[]) =>
  cells
    .map((c, i) => c.padEnd(COLUMNS[i]?.[1] ?? 0))
    .join('  ')
    .trimEnd();

export const eventsHeader = (): string => line(COLUMNS.map(([h]) => h.toUpperCase()));

/** One decision as one table line. Pure. */
export function eventLine(event: DecisionCloudEvent): string {
  const d = event.data;
  return line([
    d.time.replace(/\.\d+Z$/, 'Z'),
    d.outcome === 'failed' && d.action !== 'failed' ? `${d.action} (failed)` : d.action,
    objects(d.targets, d.decidedBy),
    d.source ? d.source.revision.replace(/sha1:([0-9a-f]{12})[0-9a-f]+$/, 'sha1:$1') : '-',
    d.actor.email ? `${d.actor.name} <${d.actor.email}>` : `${d.actor.name} (${d.actor.kind})`,
  ]);
}

/** First object and a count; a decision without objects names its decider (a failed build). */
function objects(
  targets: DecisionCloudEvent['data']['targets'],
  by: DecisionCloudEvent['data']['decidedBy'],
) {
  const first = targets[0];
  if (!first) return `${by.kind}/${by.namespace}/${by.name}`;
  const label = `${first.namespace ? `${first.namespace}/` : ''}${first.kind}/${first.name}`;
  return targets.length > 1 ? `${label} (+${targets.length - 1})` : label;
}

/**
 * `capstan events`: the audit log's decision stream. Without --follow it prints the matching
 * decisions up to the newest one at start (from --since, else the whole log) and exits. With
 * --follow it prints what comes next (from --since, when given, first) until interrupted,
 * reconnecting after Last-Event-ID whenever the connection drops.
 */
export function registerEvents(
  cmd: Command,
  out: (s: string) => void,
  err: (s: string) => void,
  defaults: { server: string; token: string | undefined },
  signal: AbortSignal | undefined,
  now: () => Date = () => new Date(),
): void {
  cmd
    .command('events')
    .description('decisions as they are recorded: who deployed what, oldest first')
    .addOption(new Option('--server <url>', 'audit API base URL').default(defaults.server))
    .addOption(
      new Option('-o, --output <format>', 'table, or json (one object per line)')
        .choices(['table', 'json'])
        .default('table'),
    )
    .option('-f, --follow', 'keep streaming new decisions until interrupted')
    .option('-n, --namespace <namespace>', 'decisions touching objects in this namespace')
    .option('--kind <kind>', 'decisions touching objects of this kind')
    .option('--name <name>', 'decisions touching objects of this name')
    .option('--actor <actor>', 'who made the change: name, or email (any case)')
    .option('--action <action>', 'applied, pruned, failed, drift.corrected, canary.promoted, ...')
    .option('--since <time>', 'RFC 3339 time, or a duration back from now (30m, 2h, 7d)')
    .action(async (opts: EventsOptions) => {
      const query = eventsQuery(opts, now());
      // The newest matching seq now: the end of a one-shot listing, the start of a follow. A
      // follow then resumes by seq from its very first connection, so even a drop before the
      // first decision arrives loses nothing.
      const page = await new AuditClient(opts.server, defaults.token).decisions({ ...query, limit: '1' });
      const head = page.items[0]?.seq ?? 0;
      const json = opts.output === 'json';
      if (!opts.follow && head === 0) {
        if (!json) out('No decisions match.');
        return;
      }
      if (!json) out(eventsHeader());
      const stop = signal ?? new AbortController().signal;
      await streamDecisions({
        baseUrl: opts.server,
        token: defaults.token,
        query,
        after: opts.since !== undefined || !opts.follow ? '0' : String(head),
        signal: stop,
        onDecision: (frame) => {
          try {
            const event = parseDecisionEvent(frame);
            out(json ? JSON.stringify(event) : eventLine(event));
          } catch (e) {
            if (!(e instanceof MalformedEventError)) throw e;
            err(`warning: ${e.message}`);
          }
          return opts.follow === true || Number(frame.id) < head;
        },
        onReconnect: (reason, delayMs) =>
          err(`reconnecting in ${Math.round(delayMs / 100) / 10}s: ${reason}`),
      });
    });
}
