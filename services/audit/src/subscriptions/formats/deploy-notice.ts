import type { ChainedDecision } from '../../domain/decision-record.js';

/**
 * What a person wants to read about one decision in a chat message or a commit status, in plain
 * data: what happened, where, from which commit, who, and where to look. Every chat format and
 * the commit-status write-back are renderings of this one value.
 */
export interface DeployNotice {
  /** One line: "✅ applied shop/web (flux-system/shop) on prod". */
  headline: string;
  outcome: 'succeeded' | 'failed' | 'noop';
  /** The action and the objects it touched, e.g. "applied: 2 created, 1 configured". */
  what: string;
  /** Objects named, at most MAX_OBJECTS; `more` counts the rest. */
  objects: string[];
  more: number;
  /** `<Kind> <namespace>/<name> on <cluster>`. */
  where: string;
  /** `main@sha1:1234abcd "message"`; null for a decision without a commit (drift, canary). */
  commit: string | null;
  sha: string | null;
  /** The primary actor, with what proves it: "Ada Lovelace <ada@example.com> (commit-author)". */
  who: string;
  /** The reason and message as the decider wrote them. */
  detail: string;
  /** The console's page for this deploy; null when no console URL is configured. */
  link: string | null;
  time: string;
}

export const MAX_OBJECTS = 5;

const ICON: Record<DeployNotice['outcome'], string> = { succeeded: '✅', failed: '❌', noop: '➖' };

const firstLine = (s: string): string => s.split('\n', 1)[0]?.trim() ?? '';

/**
 * The console page of a decision's deploy: the correlation id's timeline when it has one, else
 * the decision itself (the console shows a one-step deploy for it).
 */
export function consoleDeployLink(
  consoleUrl: string | undefined,
  d: Pick<ChainedDecision, 'id' | 'correlationId'>,
): string | null {
  if (!consoleUrl) return null;
  const base = consoleUrl.replace(/\/+$/, '');
  return d.correlationId
    ? `${base}/console/deploys/${encodeURIComponent(d.correlationId)}`
    : `${base}/console/deploys/decision/${encodeURIComponent(d.id)}`;
}

function outcomeOf(outcome: string): DeployNotice['outcome'] {
  return outcome === 'failed' || outcome === 'noop' ? outcome : 'succeeded';
}

function summarizeChanges(changeSet: ChainedDecision['changeSet']): string {
  const counts = new Map<string, number>();
  for (const entry of changeSet) {
    const action =
      entry && typeof entry === 'object' && !Array.isArray(entry) && typeof entry['action'] === 'string'
        ? entry['action']
        : 'changed';
    counts.set(action, (counts.get(action) ?? 0) + 1);
  }
  return [...counts].map(([action, n]) => `${n} ${action}`).join(', ');
}

export function deployNotice(d: ChainedDecision, consoleUrl: string | undefined): DeployNotice {
  const outcome = outcomeOf(d.outcome);
  const decider = `${d.decidedBy.namespace}/${d.decidedBy.name}`;
  const objects = d.targets.map(
    (t) => `${t.kind} ${t.namespace ? `${t.namespace}/` : ''}${t.name}${t.action ? ` (${t.action})` : ''}`,
  );
  const changes = summarizeChanges(d.changeSet);
  const subject =
    d.targets.length === 1 && d.targets[0]
      ? `${d.targets[0].namespace ? `${d.targets[0].namespace}/` : ''}${d.targets[0].name}`
      : decider;
  const actor = `${d.actor.name}${d.actor.email ? ` <${d.actor.email}>` : ''} (${d.actor.evidence})`;
  const source = d.source;
  return {
    headline: `${ICON[outcome]} ${d.action} ${subject} (${d.decidedBy.kind} ${decider}) on ${d.cluster}`,
    outcome,
    what: changes ? `${d.action}: ${changes}` : d.action,
    objects: objects.slice(0, MAX_OBJECTS),
    more: Math.max(0, objects.length - MAX_OBJECTS),
    where: `${d.decidedBy.kind} ${decider} on ${d.cluster}`,
    commit: source ? `${source.revision} "${firstLine(source.commitMessage)}"` : null,
    sha: source?.sha ?? null,
    who: actor,
    detail: `${d.reason}: ${d.message}`,
    link: consoleDeployLink(consoleUrl, d),
    time: d.time.toISOString(),
  };
}

/** Objects as one text block, with "and N more". */
export function objectLines(n: DeployNotice): string {
  if (n.objects.length === 0) return '(no objects)';
  return [...n.objects, ...(n.more > 0 ? [`and ${n.more} more`] : [])].join('\n');
}

/** Cuts text to a receiver's field limit, marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
