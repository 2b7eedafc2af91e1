import type { ChainedDecision, DecisionTargetRecord, JsonValue } from './decision-record.js';

/** Whether the caller may read objects of a namespace ('' = cluster-scoped objects). */
export type CanRead = (namespace: string) => boolean;

/**
 * A decision as one caller may see it. `hiddenObjects` is set (above 0) when objects in namespaces
 * the caller may not read were cut out: the view is then partial, and its hash no longer covers it.
 */
export type VisibleDecision = ChainedDecision & { hiddenObjects?: number };

/** A decision as a view reads it: some (object history) read it without its targets. */
export type ViewedDecision = Omit<ChainedDecision, 'targets'> & { targets?: DecisionTargetRecord[] };

interface ObjectRef {
  namespace: string;
  kind: string;
  name: string;
}

/** Every namespace a decision names objects in: its targets', its change set's, and its decider's. */
export function namespacesOf(d: ViewedDecision): Set<string> {
  const names = new Set<string>([d.decidedBy.namespace]);
  for (const t of d.targets ?? []) names.add(t.namespace);
  for (const c of d.changeSet) if (isObjectRef(c)) names.add(c.namespace);
  return names;
}

/**
 * The decision without the objects of namespaces the caller may not read: targets, change-set
 * entries, object lists inside the evidence, and mentions of those objects in the message (the
 * prune message lists every deleted object as `namespace/Kind/name`). A decision touching several
 * teams' namespaces is then, for each team, a decision about its own objects. What is not about
 * an object (commit, actor, the deciding Sync) stays: it is why the decision is in the caller's
 * history at all.
 */
export function trimDecision<T extends ViewedDecision>(
  d: T,
  canRead: CanRead,
): T & { hiddenObjects?: number } {
  const hidden = new Map<string, ObjectRef>();
  for (const t of d.targets ?? []) if (!canRead(t.namespace)) hidden.set(mention(t), t);
  for (const c of d.changeSet) if (isObjectRef(c) && !canRead(c.namespace)) hidden.set(mention(c), c);
  if (hidden.size === 0) return d;
  // Longest first, so `ns/Deployment/web` does not cut into `ns/Deployment/web-2`.
  const mentions = [...hidden.keys()].sort((a, b) => b.length - a.length);
  const scrub = (text: string) => mentions.reduce((out, m) => out.split(m).join('(hidden object)'), text);
  return {
    ...d,
    message: scrub(d.message),
    ...(d.targets ? { targets: d.targets.filter((t) => canRead(t.namespace)) } : {}),
    changeSet: d.changeSet.filter((c) => !isObjectRef(c) || canRead(c.namespace)),
    evidence: trimJson(d.evidence, canRead, scrub) as { [key: string]: JsonValue },
    hiddenObjects: hidden.size,
  };
}

/** Drops array members that are objects of unreadable namespaces, and scrubs strings, at any depth. */
function trimJson(value: JsonValue, canRead: CanRead, scrub: (s: string) => string): JsonValue {
  if (typeof value === 'string') return scrub(value);
  if (Array.isArray(value))
    return value
      .filter((v) => !isObjectRef(v) || canRead(v.namespace))
      .map((v) => trimJson(v, canRead, scrub));
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) out[k] = trimJson(v, canRead, scrub);
    return out;
  }
  return value;
}

function isObjectRef(v: JsonValue): v is JsonValue & ObjectRef {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  return typeof v.namespace === 'string' && typeof v.kind === 'string' && typeof v.name === 'string';
}

/** How messages name an object: `namespace/Kind/name`, or `Kind/name` when cluster-scoped. */
const mention = (o: ObjectRef) => `${o.namespace ? `${o.namespace}/` : ''}${o.kind}/${o.name}`;
