import type { ChangeSetEntry } from '@capstan/events';
import { groupOf, type KubeObject } from '@capstan/gitops-core';
import { HELMRELEASE_NAME_LABEL, HELMRELEASE_NAMESPACE_LABEL, type RenderResult } from '@capstan/render';
import type { ReleaseFailure, ReleaseOutcome } from '../domain/outcome.js';

/** Prune's message for an object kept because its HelmRelease failed (those stay in the inventory). */
const KEPT_FOR_RELEASE = 'kept: HelmRelease';

/**
 * The HelmReleases of one reconcile, each its own release: which rendered, which failed and why,
 * and which objects belong to which. Plain data and functions over it, so the reconcile skeleton
 * only asks.
 */
export class ReleaseSet {
  private constructor(
    readonly releases: ReleaseOutcome[],
    /** Object key -> the HelmRelease (`namespace/name`) it was rendered from. */
    private readonly releaseOf: ReadonlyMap<string, string>,
  ) {}

  static empty(): ReleaseSet {
    return new ReleaseSet([], new Map());
  }

  /**
   * `kept`: the failure a deferred release keeps while it waits (ReleaseRetries), so its status
   * still says how it failed (rolled back, tests failed...).
   */
  static of(
    rendered: RenderResult,
    kept: (r: { namespace: string; name: string }) => ReleaseFailure | undefined = () => undefined,
  ): ReleaseSet {
    const releases = rendered.releases.map((r) => ({
      apiVersion: r.apiVersion,
      namespace: r.namespace,
      name: r.name,
      file: r.origin.file,
      document: r.origin.document,
      specDigest: r.specDigest,
      ...(r.options ? { options: r.options } : {}),
      ...(r.failure
        ? { failure: r.failure.deferred ? { ...(kept(r) ?? r.failure), deferred: true } : r.failure }
        : {}),
      ...(r.releaseName ? { releaseName: r.releaseName } : {}),
      ...(r.chart ? { chart: r.chart } : {}),
      ...(r.valuesDigest ? { valuesDigest: r.valuesDigest } : {}),
      ...(r.serviceAccountName ? { serviceAccountName: r.serviceAccountName } : {}),
    }));
    const releaseOf = new Map<string, string>();
    for (const { object } of [...rendered.objects, ...rendered.hooks.pre, ...rendered.hooks.post]) {
      const name = object.metadata.labels?.[HELMRELEASE_NAME_LABEL];
      const namespace = object.metadata.labels?.[HELMRELEASE_NAMESPACE_LABEL];
      if (name && namespace) releaseOf.set(keyOf(object), `${namespace}/${name}`);
    }
    return new ReleaseSet(releases, releaseOf);
  }

  /**
   * For prune: a live object of a release that failed to render this time is kept (its absence
   * from the set says nothing about Git), with the reason.
   */
  keep(): (live: KubeObject) => string | undefined {
    const failed = new Set(this.releases.filter((r) => r.failure).map((r) => `${r.namespace}/${r.name}`));
    return (live) => {
      const labels = live.metadata.labels ?? {};
      const release = `${labels[HELMRELEASE_NAMESPACE_LABEL] ?? ''}/${labels[HELMRELEASE_NAME_LABEL] ?? ''}`;
      return failed.has(release) ? `${KEPT_FOR_RELEASE} ${release} failed to render` : undefined;
    };
  }

  /**
   * The ServiceAccount an object of the set acts as when its HelmRelease names one (in the
   * HelmRelease's namespace); undefined for the Sync's own objects and releases that name none.
   */
  serviceAccountOf(object: KubeObject): { namespace: string; name: string } | undefined {
    const labels = object.metadata.labels ?? {};
    const name = labels[HELMRELEASE_NAME_LABEL];
    const namespace = labels[HELMRELEASE_NAMESPACE_LABEL];
    if (!name || !namespace) return undefined;
    const release = this.releases.find((r) => r.namespace === namespace && r.name === name);
    return release?.serviceAccountName ? { namespace, name: release.serviceAccountName } : undefined;
  }

  /** The change set entries of one release's objects. */
  entriesOf(
    release: { namespace: string; name: string },
    changeSet: readonly ChangeSetEntry[],
  ): ChangeSetEntry[] {
    const wanted = `${release.namespace}/${release.name}`;
    return changeSet.filter((c) => this.releaseOf.get(entryKeyOf(c)) === wanted);
  }

  /** A release that failed after its objects were applied (wait, tests): the failure is its own. */
  fail(release: { namespace: string; name: string }, failure: ReleaseFailure): void {
    const i = this.releases.findIndex((r) => r.namespace === release.namespace && r.name === release.name);
    const found = this.releases[i];
    if (found) this.releases[i] = { ...found, failure };
  }

  /** The releases with whether this reconcile changed any of their objects. */
  outcomes(changeSet: readonly ChangeSetEntry[]): ReleaseOutcome[] {
    const changed = new Set(
      changeSet
        .filter((c) => c.action === 'created' || c.action === 'configured')
        .map((c) => this.releaseOf.get(entryKeyOf(c))),
    );
    return this.releases.map((r) => ({ ...r, changed: changed.has(`${r.namespace}/${r.name}`) }));
  }
}

/** The prune entries kept for a failed release: they stay in the inventory. */
export function keptForReleases(pruned: readonly ChangeSetEntry[]): ChangeSetEntry[] {
  return pruned.filter((p) => p.action === 'skipped' && p.message?.startsWith(KEPT_FOR_RELEASE));
}

function keyOf(o: {
  apiVersion: string;
  kind: string;
  metadata: { namespace?: string; name: string };
}): string {
  return `${groupOf(o.apiVersion)}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function entryKeyOf(c: Pick<ChangeSetEntry, 'apiVersion' | 'kind' | 'namespace' | 'name'>): string {
  return keyOf({
    apiVersion: c.apiVersion,
    kind: c.kind,
    metadata: { namespace: c.namespace, name: c.name },
  });
}
