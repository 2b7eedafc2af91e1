/**
 * What `capstan get` shows of one object: pure functions of the object the API server returned.
 * READY is the Ready condition, STATUS its message, REVISION what the object is at (a Sync's
 * applied revision, a repository's artifact, an image policy's latest image).
 */
export interface CapstanObject {
  metadata: {
    name: string;
    namespace?: string;
    creationTimestamp?: string;
    generation?: number;
    resourceVersion?: string;
  };
  spec?: { suspend?: boolean };
  status?: {
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    artifact?: { revision?: string };
    /** Flux v2's ImagePolicy field. */
    latestImage?: string;
    /** Capstan's ImagePolicy: the image and tag it picked. */
    latestRef?: { name?: string; tag?: string } | null;
    phase?: string;
    canaryWeight?: number;
    inventory?: { entries: { id: string; v: string }[] };
  };
}

export interface ResourceRow {
  namespace: string;
  name: string;
  ready: string;
  status: string;
  revision: string;
  suspended: boolean;
  age: string;
}

/** kubectl's AGE: 45s, 12m, 5h, 3d. */
export function age(created: string | undefined, now: Date): string {
  if (!created) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - new Date(created).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function resourceRow(o: CapstanObject, now: Date): ResourceRow {
  const s = o.status ?? {};
  const ready = s.conditions?.find((c) => c.type === 'Ready');
  const stale =
    o.metadata.generation !== undefined &&
    s.observedGeneration !== undefined &&
    s.observedGeneration < o.metadata.generation;
  return {
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    ready: stale ? 'Unknown' : (ready?.status ?? 'Unknown'),
    status: stale ? 'reconciliation in progress' : (ready?.message ?? s.phase ?? ''),
    revision:
      s.lastAppliedRevision ??
      s.artifact?.revision ??
      s.latestImage ??
      pickedImage(s.latestRef) ??
      s.lastAttemptedRevision ??
      '',
    suspended: o.spec?.suspend === true,
    age: age(o.metadata.creationTimestamp, now),
  };
}

function pickedImage(ref: { name?: string; tag?: string } | null | undefined): string | undefined {
  if (!ref?.tag) return undefined;
  return ref.name ? `${ref.name}:${ref.tag}` : ref.tag;
}
