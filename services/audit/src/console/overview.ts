/**
 * The console's Overview rows, as plain functions of the objects the API server returns: one
 * row per Capstan object with its Ready condition and the revision it is at. Kinds whose status
 * differs (a GitRepository's artifact, an image policy's latest image, a Canary's phase) each
 * say where their revision lives.
 */
export interface OverviewKind {
  kind: string;
  group: string;
  version: string;
  plural: string;
  /** How its decisions are found in the audit log (the deciding object, or a target). */
  decisions: 'decider' | 'target' | 'none';
}

/** The kinds the Overview shows, in this order; a kind whose CRD is not installed is left out. */
export const OVERVIEW_KINDS: readonly OverviewKind[] = [
  { kind: 'Sync', group: 'capstan.dev', version: 'v1alpha1', plural: 'syncs', decisions: 'decider' },
  {
    kind: 'GitRepository',
    group: 'capstan.dev',
    version: 'v1alpha1',
    plural: 'gitrepositories',
    decisions: 'none',
  },
  {
    kind: 'HelmRelease',
    group: 'capstan.dev',
    version: 'v1alpha1',
    plural: 'helmreleases',
    decisions: 'target',
  },
  { kind: 'Canary', group: 'capstan.dev', version: 'v1alpha1', plural: 'canaries', decisions: 'decider' },
  // Flagger's own Canaries, which the canary-analyzer drives as they are.
  { kind: 'Canary', group: 'flagger.app', version: 'v1beta1', plural: 'canaries', decisions: 'decider' },
  {
    kind: 'ImagePolicy',
    group: 'capstan.dev',
    version: 'v1alpha1',
    plural: 'imagepolicies',
    decisions: 'decider',
  },
];

export interface KubeObject {
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec?: { suspend?: boolean };
  status?: {
    observedGeneration?: number;
    conditions?: {
      type?: string;
      status?: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    artifact?: { revision?: string };
    latestImage?: string;
    latestRef?: { tag?: string; digest?: string };
    phase?: string;
    canaryWeight?: number;
  };
}

export type ReadyState = 'True' | 'False' | 'Unknown';

export interface OverviewRow {
  kind: string;
  /** The API group (two kinds share the name Canary: capstan.dev and flagger.app). */
  apiGroup: string;
  namespace: string;
  name: string;
  ready: ReadyState;
  reason: string;
  message: string;
  /** When Ready last changed. */
  since: string | null;
  revision: string | null;
  suspended: boolean;
  /** Status written for an older spec: the controller has not caught up yet. */
  stale: boolean;
  /** A Canary's traffic weight to the canary, in percent; null for other kinds. */
  weight: number | null;
}

function revisionOf(status: NonNullable<KubeObject['status']>): string | null {
  return (
    status.lastAppliedRevision ??
    status.artifact?.revision ??
    status.latestImage ??
    (status.latestRef?.tag
      ? `${status.latestRef.tag}${status.latestRef.digest ? `@${status.latestRef.digest}` : ''}`
      : undefined) ??
    status.lastAttemptedRevision ??
    null
  );
}

export function overviewRow(kind: string, o: KubeObject, apiGroup = 'capstan.dev'): OverviewRow {
  const status = o.status ?? {};
  const ready = status.conditions?.find((c) => c.type === 'Ready');
  const state: ReadyState = ready?.status === 'True' || ready?.status === 'False' ? ready.status : 'Unknown';
  const generation = o.metadata?.generation;
  return {
    kind,
    apiGroup,
    namespace: o.metadata?.namespace ?? '',
    name: o.metadata?.name ?? '',
    ready: state,
    reason: ready?.reason ?? (status.phase ? status.phase : ''),
    message: ready?.message ?? '',
    since: ready?.lastTransitionTime ?? null,
    revision: revisionOf(status),
    suspended: o.spec?.suspend === true,
    stale:
      generation !== undefined &&
      status.observedGeneration !== undefined &&
      status.observedGeneration < generation,
    weight: typeof status.canaryWeight === 'number' ? status.canaryWeight : null,
  };
}

/** Rows sorted as people scan them: not Ready first, then by kind order, namespace, name. */
export function sortRows(rows: OverviewRow[]): OverviewRow[] {
  const order = new Map(OVERVIEW_KINDS.map((k, i) => [k.kind, i]));
  const rank = (r: OverviewRow) => (r.ready === 'False' ? 0 : r.ready === 'Unknown' ? 1 : 2);
  return [...rows].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      (order.get(a.kind) ?? 99) - (order.get(b.kind) ?? 99) ||
      a.namespace.localeCompare(b.namespace) ||
      a.name.localeCompare(b.name),
  );
}
