import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ChangeSetEntry, GitSource } from '@capstan/events';
import { GitMirror, type CommitInfo } from '@capstan/git';
import { formatRevision, parseRevision, type KubeObject } from '@capstan/gitops-core';
import { describeError } from '@capstan/messaging';
import type { Sync } from '@capstan/kube';
import { CommitRenderer } from '@capstan/render';
import { RECONCILER_CONFIG, type ReconcilerConfig } from '../config.js';
import {
  changedBeyondWindow,
  creditChanges,
  renderedForms,
  type RenderedForms,
} from '../domain/attribution.js';
import type { SourceSettings } from '../sources/source-settings.js';
import { gitSourceOf } from '../sources/git-source.js';

/** Changes credited to one commit. */
export interface CreditedChanges {
  source: GitSource;
  changeSet: ChangeSetEntry[];
  /**
   * An earlier commit's verified signer, checked here against the GitRepository's keys (the
   * applied commit's own signer comes from the signature gate instead).
   */
  signer?: string;
}

/** More commits arrived than attribution walks: said in the applied decision, never hidden. */
export interface AttributionWindow {
  /** Commits since the last applied revision. */
  commits: number;
  /** The newest of them that were walked (ATTRIBUTION_MAX_COMMITS). */
  walked: number;
  /** Changes made by a commit beyond the window: left with the applied commit, unattributed. */
  beyond: ChangeSetEntry[];
}

export interface Attribution {
  /** Oldest first; the applied commit's group last, holding everything not credited earlier. */
  groups: CreditedChanges[];
  window?: AttributionWindow;
}

/**
 * Honest attribution: when several commits reach a Sync at once (a burst of pushes, or a failed
 * commit fixed by the next), each object's change is credited to the commit that last changed
 * its rendered form since the last applied revision, not to whoever pushed last. Each commit
 * between is rendered with the reconciler's own recipe; only when more than one commit is new.
 * At most ATTRIBUTION_MAX_COMMITS (the newest) are walked, so a burst of thousands costs a
 * bounded number of renders; beyond that, the decision says how many were not walked and which
 * changes came from them.
 */
@Injectable()
export class ChangeAttribution {
  private readonly logger = new Logger('ChangeAttribution');

  constructor(
    private readonly mirror: GitMirror,
    private readonly renderer: CommitRenderer,
    @Inject(RECONCILER_CONFIG) private readonly config: ReconcilerConfig,
  ) {}

  /** Never throws: on trouble, all goes to the applied commit, as before. */
  async credit(
    sync: Sync,
    source: GitSource,
    settings: SourceSettings,
    changeSet: readonly ChangeSetEntry[],
  ): Promise<Attribution> {
    const whole = { groups: [{ source, changeSet: [...changeSet] }] };
    const changed = changeSet.filter((c) => c.action === 'created' || c.action === 'configured');
    const last = parseRevision(sync.status?.lastAppliedRevision ?? '')?.sha;
    if (changed.length === 0 || !last || last === source.sha || source.parents.includes(last)) return whole;
    try {
      const limit = this.config.ATTRIBUTION_MAX_COMMITS;
      const commits = await this.mirror.commitsBetween(settings.url, last, source.sha, limit);
      if (commits.length < 2 || commits.at(-1)?.sha !== source.sha) return whole;
      const total = await this.mirror.countBetween(settings.url, last, source.sha);
      const render = (sha: string) => this.formsAt(sync, source, settings, sha);
      // Past the limit the walk starts at the oldest walked commit's parent, not at `last`.
      const boundary = total > commits.length ? commits[0]?.parents[0] : last;
      const before = boundary ? await render(boundary) : undefined;
      const forms: (RenderedForms | undefined)[] = [];
      for (const c of commits) forms.push(await render(c.sha));
      const credits = creditChanges(before, forms, changed);
      const groups = new Map<number, ChangeSetEntry[]>();
      changed.forEach((entry, i) => {
        const at = credits[i] ?? commits.length - 1;
        if (at === commits.length - 1) return;
        groups.set(at, [...(groups.get(at) ?? []), entry]);
      });
      const earlier = new Set([...groups.values()].flat());
      const credited: CreditedChanges[] = [];
      for (const [at, entries] of [...groups.entries()].sort(([a], [b]) => a - b)) {
        const commit = commits[at] as CommitInfo;
        const signer = await this.signerOf(settings.url, commit.sha, settings);
        credited.push({
          source: this.sourceOf(source, commit),
          changeSet: entries,
          ...(signer ? { signer } : {}),
        });
      }
      const result: Attribution = {
        groups: [...credited, { source, changeSet: changeSet.filter((c) => !earlier.has(c)) }],
      };
      if (total <= commits.length) return result;
      const lastForms = await render(last);
      const beyond = changed.filter(
        (entry, i) => credits[i] === commits.length - 1 && changedBeyondWindow(lastForms, before, entry),
      );
      this.logger.warn(
        `${source.revision}: ${total} commits since ${last.slice(0, 12)}, only the newest ${commits.length} walked for attribution`,
      );
      return { ...result, window: { commits: total, walked: commits.length, beyond } };
    } catch (e) {
      this.logger.warn(`cannot attribute changes of ${source.revision}: ${describeError(e)}`);
      return whole;
    }
  }

  /** The earlier commit's signer when its signature verifies against the GitRepository's keys. */
  private async signerOf(url: string, sha: string, settings: SourceSettings): Promise<string | undefined> {
    if (!settings.verificationKeys) return undefined;
    try {
      const verification = await this.mirror.verifyCommit(url, sha, await settings.verificationKeys());
      return verification.status === 'verified' ? verification.signer : undefined;
    } catch (e) {
      this.logger.warn(`cannot check the signature of ${sha.slice(0, 12)}: ${describeError(e)}`);
      return undefined;
    }
  }

  private async formsAt(
    sync: Sync,
    source: GitSource,
    settings: SourceSettings,
    sha: string,
  ): Promise<RenderedForms | undefined> {
    const name = parseRevision(source.revision)?.name;
    try {
      const rendered = await this.renderer.render({
        url: settings.url,
        sha,
        path: sync.spec.path,
        defaultNamespace: sync.spec.targetNamespace ?? 'default',
        ...(settings.ignore ? { ignore: settings.ignore } : {}),
        revision: formatRevision(name ? { branch: name } : {}, sha),
        ...(settings.fetch.credentials ? { credentials: settings.fetch.credentials } : {}),
      });
      const target = sync.spec.targetNamespace;
      return renderedForms(
        rendered.objects.map((o) => o.object),
        (o: KubeObject) => target ?? o.metadata.namespace ?? '',
      );
    } catch {
      return undefined; // a commit that does not render changed nothing that was applied
    }
  }

  private sourceOf(applied: GitSource, commit: CommitInfo): GitSource {
    const name = parseRevision(applied.revision)?.name;
    return gitSourceOf(
      {
        repository: applied.repository,
        url: applied.url,
        ref: applied.ref,
        revision: formatRevision(name ? { branch: name } : {}, commit.sha),
      },
      commit,
    );
  }
}
