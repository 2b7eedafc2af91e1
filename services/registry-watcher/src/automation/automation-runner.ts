import { Inject, Injectable, Logger } from '@nestjs/common';
import { crossNamespaceRefusal, RECONCILE_REQUESTED_AT, readyConditions } from '@capstan/gitops-core';
import type { GitSource, ImagePushedV1 } from '@capstan/events';
import { mkdir } from 'node:fs/promises';
import { isIP } from 'node:net';
import {
  GitOperationError,
  SourceNotAllowedError,
  SourcePolicy,
  credentialsFromSecret,
  markCacheDir,
  pinnedGitConfig,
  type CheckedRemote,
  type GitCredentials,
} from '@capstan/git';
import {
  applyEdits,
  canonicalName,
  commitMessage,
  decideSlot,
  describe,
  findImageSlots,
  fluxV1FieldNames,
  humanRollback,
  parseFluxV1Filter,
  validateTagPolicy,
  type ImageSlot,
  type PolicyPick,
  type SlotDecision,
  type TagChange,
  type TextEdit,
} from '@capstan/image-policy';
import { CapstanResources, SecretReader, type GitRepository } from '@capstan/kube';
import { Bus } from '@capstan/messaging';
import { CLOCK, type Clock } from '@capstan/platform';
import { REGISTRY_WATCHER_CONFIG, type RegistryWatcherConfig } from '../config.js';
import { runFailedEvent, slotDecisionEvent, type RunContext } from '../domain/automation-decisions.js';
import { RegistryWatcherMetrics } from '../metrics.js';
import { Candidates } from '../policies/candidates.js';
import { PolicyEvaluator } from '../policies/policy-evaluator.js';
import { ImageResources } from '../resources/image-resources.js';
import { ImageWatch } from '../resources/image-watch.service.js';
import type { ImageUpdateAutomation, ImageUpdateAutomationStatus } from '../resources/image-types.js';
import { CanaryFailures } from './canary-failures.js';
import { StepHooks } from '@capstan/platform';
import { GitWorkspace } from './git-workspace.js';

type Decided = { slot: ImageSlot; decision: SlotDecision; pick?: PolicyPick };

export interface RunOutcome {
  kind: 'committed' | 'unchanged' | 'failed';
  sha?: string;
  decisions: number;
}

const MAX_ATTEMPTS = 5;

/**
 * One run of an ImageUpdateAutomation: fetch the kept clone, find every image slot under the
 * update path, let each policy pick, decide (locks, a person's rollback and failed canaries win),
 * rewrite the files in place, and land it all as one commit with a fetch-rebase-retry push.
 * Every update and skip is published as a deploy decision carrying the push's correlation id.
 */
@Injectable()
export class AutomationRunner {
  private readonly logger = new Logger('ImageAutomation');

  constructor(
    private readonly watch: ImageWatch,
    private readonly policies: PolicyEvaluator,
    private readonly candidates: Candidates,
    private readonly bus: Bus,
    private readonly secrets: SecretReader,
    private readonly capstan: CapstanResources,
    private readonly resources: ImageResources,
    private readonly canaryFailures: CanaryFailures,
    private readonly metrics: RegistryWatcherMetrics,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REGISTRY_WATCHER_CONFIG) private readonly config: RegistryWatcherConfig,
  ) {
    this.hooks = new StepHooks(config);
  }

  /** Chaos tests stop the process at named steps (libs/platform StepHooks). */
  private readonly hooks: StepHooks;

  async run(automation: ImageUpdateAutomation, pushes: ImagePushedV1[], runId: string): Promise<RunOutcome> {
    const { namespace, name } = automation.metadata;
    const push = pushes[0];
    const ctx: RunContext = {
      automation: { namespace, name, uid: automation.metadata.uid ?? `${namespace}/${name}` },
      cluster: this.config.CLUSTER_NAME,
      now: this.clock.now(),
      runId,
      ...(push ? { push: { id: push.id, data: push.data } } : {}),
      bot: { name: this.config.AUTOMATION_AUTHOR_NAME, email: this.config.AUTOMATION_AUTHOR_EMAIL },
    };
    try {
      const outcome = await this.attempt(automation, pushes, ctx);
      this.metrics.automationRuns.inc({ result: outcome.kind });
      return outcome;
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      const reason =
        e instanceof SourceError ? e.reason : /push/.test(message) ? 'PushFailed' : 'AutomationFailed';
      this.metrics.automationRuns.inc({ result: 'failed' });
      this.logger.warn(`${namespace}/${name}: ${message}`);
      await this.bus.publish(runFailedEvent(ctx, reason, message));
      await this.status(automation, { ready: false, reason, message });
      return { kind: 'failed', decisions: 1 };
    }
  }

  /**
   * The same source policy as the git-watcher's: the URL's scheme, and never a local path into a
   * Capstan cache (this service's kept clones are marked as one, so no tenant reads another's).
   */
  private async checkSource(source: GitRepository): Promise<CheckedRemote | undefined> {
    const dir = this.config.GIT_CACHE_DIR;
    await mkdir(dir, { recursive: true });
    await markCacheDir(dir);
    const policy = new SourcePolicy({
      schemes: this.config.SOURCE_SCHEMES,
      protectedDirs: [dir],
      checkAddresses: true,
    });
    const checked = await policy.check(source.spec.url).catch((e: unknown) => {
      if (!(e instanceof SourceNotAllowedError)) throw e;
      const { namespace, name } = source.metadata;
      throw new SourceError(
        'URLNotAllowed',
        `spec.sourceRef: GitRepository ${namespace}/${name}: ${e.message}`,
      );
    });
    // git must not resolve a name the policy could not check (a later answer could be anything).
    if (
      checked !== undefined &&
      checked.addresses.length === 0 &&
      isIP(checked.host) === 0 &&
      /^(https?|git):\/\//i.test(source.spec.url)
    )
      throw new GitOperationError('fetch', source.spec.url, `Could not resolve host: ${checked.host}`);
    return checked;
  }

  private async attempt(
    automation: ImageUpdateAutomation,
    pushes: ImagePushedV1[],
    ctx: RunContext,
  ): Promise<RunOutcome> {
    const { namespace, name } = automation.metadata;
    const source = this.sourceOf(automation);
    const checked = await this.checkSource(source);
    const creds = await this.credentials(source);
    const branch = automation.spec.git?.checkout?.ref?.branch ?? source.spec.ref?.branch ?? 'main';
    const pushBranch = automation.spec.git?.push?.branch ?? branch;
    const ws = GitWorkspace.at(
      `${this.config.GIT_CACHE_DIR}/automations/${namespace}/${name}`,
      source.spec.url,
      branch,
      this.config.MAX_FILE_BYTES,
    );
    // Every clone, fetch and push of this run connects to the addresses just checked.
    ws.pin(pinnedGitConfig(source.spec.url, checked));
    const path = (automation.spec.update?.path ?? '.').replace(/^\.\//, '');
    const pushedRepos = new Map<string, string[]>();
    for (const p of pushes) {
      const key = `${p.data.registry}/${p.data.repository}`;
      pushedRepos.set(key, [...(pushedRepos.get(key) ?? []), p.data.tag]);
    }
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      await ws.sync(creds);
      const decided = await this.decideAll(ws, path, pushedRepos, pushes.length > 0, ctx);
      const updates = decided.filter(
        (d): d is Decided & { decision: Extract<SlotDecision, { kind: 'update' }> } =>
          d.decision.kind === 'update',
      );
      let commit: (GitSource & { files: string[] }) | undefined;
      if (updates.length > 0) {
        const landed = await this.commitAndPush(ws, automation, updates, ctx, creds, pushBranch);
        if (!landed) continue; // a person changed the same lines: start over from what they pushed
        commit = landed;
      }
      const runCtx: RunContext = { ...ctx, ...(commit ? { commit } : {}) };
      for (const d of decided) {
        if (d.decision.kind === 'current') continue;
        await this.bus.publish(slotDecisionEvent(runCtx, d.decision, d.pick));
      }
      const lastPush = commit
        ? { lastPushCommit: commit.sha, lastPushTime: this.clock.now().toISOString() }
        : {};
      const skipped = decided.filter((d) => d.decision.kind === 'skip').length;
      await this.status(
        automation,
        {
          ready: true,
          reason: 'Succeeded',
          message: commit
            ? `committed ${commit.sha.slice(0, 12)} updating ${updates.length} image(s)${skipped ? `, ${skipped} skipped` : ''}`
            : `no update needed${skipped ? ` (${skipped} skipped)` : ''}`,
        },
        lastPush,
      );
      if (commit)
        this.logger.log(
          `${namespace}/${name}: ${commit.message.split('\n')[0] ?? ''} (${commit.sha.slice(0, 12)})`,
        );
      return {
        kind: commit ? 'committed' : 'unchanged',
        ...(commit ? { sha: commit.sha } : {}),
        decisions: decided.length,
      };
    }
    throw new Error(
      `push to ${source.spec.url} ${pushBranch}: still conflicting after ${MAX_ATTEMPTS} attempts`,
    );
  }

  /** Every relevant slot under the path, decided. Files that are not YAML are skipped, logged. */
  private async decideAll(
    ws: GitWorkspace,
    path: string,
    pushedRepos: Map<string, string[]>,
    pushTriggered: boolean,
    ctx: RunContext,
  ): Promise<Decided[]> {
    const out: Decided[] = [];
    for (const file of await ws.yamlFiles(path)) {
      let slots: ImageSlot[];
      try {
        slots = findImageSlots({ path: file, text: await ws.read(file) });
      } catch (e) {
        this.logger.warn(`${ctx.automation.namespace}/${ctx.automation.name}: ${(e as Error).message}`);
        continue;
      }
      for (const slot of slots) {
        if (!slot.automated) continue;
        const resolved = await this.pickFor(slot);
        if (!resolved.ok) {
          if (pushTriggered || slot.policy.source === 'flux-v1')
            out.push({
              slot,
              decision: { kind: 'skip', slot, reason: 'PolicyInvalid', message: resolved.message },
            });
          continue;
        }
        const pick = resolved.pick;
        const repo = canonicalName(pick.image);
        if (pushTriggered && !pushedRepos.has(repo)) continue;
        const failed = this.canaryFailures.for(slot.object.namespace, slot.object.name);
        const guards = { pushedTags: pushedRepos.get(repo) ?? [], failedImages: failed };
        let decision = decideSlot(slot, pick, guards);
        if (decision.kind === 'update') {
          const rollback = await this.rollbackOf(ws, slot, pick, ctx);
          if (rollback) decision = decideSlot(slot, pick, { ...guards, humanRollback: rollback });
        }
        // Without a push, only what needs attention is recorded (the interval would repeat the rest).
        if (
          !pushTriggered &&
          decision.kind === 'skip' &&
          !['Locked', 'HumanRollback', 'CanaryFailed'].includes(decision.reason)
        )
          continue;
        out.push({ slot, decision, pick });
      }
    }
    return out;
  }

  private async pickFor(
    slot: ImageSlot,
  ): Promise<{ ok: true; pick: PolicyPick } | { ok: false; message: string }> {
    if (slot.policy.source === 'setter') {
      const ref = slot.policy.policy;
      const policy = this.watch.policy(ref.namespace, ref.name);
      if (!policy)
        return {
          ok: false,
          message: `${slot.file}: setter names ImagePolicy ${ref.namespace}/${ref.name}, which does not exist`,
        };
      const result = await this.policies.pick(policy);
      return result.ok
        ? result
        : { ok: false, message: `ImagePolicy ${ref.namespace}/${ref.name}: ${result.message}` };
    }
    const annotation = slot.policy.annotation ?? 'fluxcd.io/tag.<container> (default glob:*)';
    const policy = parseFluxV1Filter(slot.policy.filter);
    const errors = validateTagPolicy(policy, fluxV1FieldNames(annotation));
    if (errors.length > 0)
      return {
        ok: false,
        message: `${slot.file} ${describe(slot)}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`,
      };
    if (!slot.current) return { ok: false, message: `${slot.file} ${describe(slot)}: no image to update` };
    const image = { registry: slot.current.registry, repository: slot.current.repository };
    return {
      ok: true,
      pick: {
        policyName: `${annotation}: ${slot.policy.filter}`,
        policy,
        image,
        selection: await this.candidates.select(image, policy),
      },
    };
  }

  /**
   * A person's rollback of this slot: the latest commit that changed its tag was not ours and
   * moved it down. Walks the file's history only until the tag changes; when the file's last
   * commit is the automation's own, there is nothing to read.
   */
  private async rollbackOf(ws: GitWorkspace, slot: ImageSlot, pick: PolicyPick, ctx: RunContext) {
    let newer: { sha: string; author: { name: string; email: string }; tag: string | undefined } | undefined;
    for await (const h of ws.history(slot.file)) {
      if (!newer && h.author.email === ctx.bot.email) return undefined;
      const text = await h.after();
      const tag = text === undefined ? undefined : tagIn(text, slot);
      if (newer && tag && newer.tag && tag !== newer.tag) {
        const change: TagChange = { sha: newer.sha, author: newer.author, before: tag, after: newer.tag };
        return humanRollback([change], ctx.bot.email, pick.policy);
      }
      // Only the newest commit that changed the tag matters; older ones are history.
      if (newer && tag !== newer.tag) return undefined;
      newer = { sha: h.sha, author: h.author, tag };
    }
    return undefined;
  }

  private async commitAndPush(
    ws: GitWorkspace,
    automation: ImageUpdateAutomation,
    updates: (Decided & { decision: Extract<SlotDecision, { kind: 'update' }> })[],
    ctx: RunContext,
    creds: GitCredentials | undefined,
    pushBranch: string,
  ): Promise<(GitSource & { files: string[] }) | undefined> {
    const byFile = new Map<string, TextEdit[]>();
    for (const u of updates)
      byFile.set(u.slot.file, [...(byFile.get(u.slot.file) ?? []), ...u.decision.edits]);
    for (const [file, edits] of byFile) await ws.write(file, applyEdits(await ws.read(file), edits));
    const files = [...byFile.keys()].sort();
    const commitSpec = automation.spec.git?.commit;
    const message = commitMessage(
      updates.map((u) => ({
        file: u.slot.file,
        object: describe(u.slot),
        container: u.slot.container,
        from: u.decision.from,
        to: u.decision.to,
      })),
      {
        ...(commitSpec?.messageTemplate ? { template: commitSpec.messageTemplate } : {}),
        ...(commitSpec?.ciSkip ? { ciSkip: true } : {}),
        automation: `${automation.metadata.namespace}/${automation.metadata.name}`,
        correlationId: ctx.push?.id ?? ctx.runId,
      },
    );
    const author = {
      name: commitSpec?.author?.name ?? ctx.bot.name,
      email: commitSpec?.author?.email ?? ctx.bot.email,
    };
    const signingSecret = commitSpec?.signingKey?.secretRef.name;
    const signingKey = signingSecret
      ? (await this.secrets.read(automation.metadata.namespace, signingSecret))['identity']
      : undefined;
    if (signingSecret && !signingKey)
      throw new SourceError(
        'InvalidSigningKey',
        `spec.git.commit.signingKey: secret ${signingSecret} has no identity key`,
      );
    await ws.commit(files, message, author, ctx.bot, signingKey);
    this.hooks.step(
      'registry-watcher.committed',
      `${automation.metadata.namespace}/${automation.metadata.name}`,
    );
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      const pushed = await ws.push(pushBranch, creds);
      if (pushed.kind === 'pushed') {
        const info = await ws.commitInfo('HEAD');
        const sha = info.sha;
        await this.requestPoll(this.sourceOf(automation));
        const source = this.sourceOf(automation);
        return {
          repository: `${source.metadata.namespace}/${source.metadata.name}`,
          url: source.spec.url,
          ref: `branch/${pushBranch}`,
          revision: `${pushBranch}@sha1:${sha}`,
          sha,
          parents: info.parents,
          message: info.message,
          author: info.author,
          committer: info.committer,
          files,
        };
      }
      // Someone pushed meanwhile: replay our commit on theirs, both stay.
      if (!(await ws.rebase(creds))) return undefined;
    }
    return undefined;
  }

  /**
   * Asks the git-watcher to poll the repository now (the reconcile-requested-at annotation, as
   * `capstan reconcile source` does), so the commit is applied without waiting for the interval.
   */
  private async requestPoll(source: GitRepository): Promise<void> {
    await this.capstan
      .annotate('GitRepository', source.metadata.namespace, source.metadata.name, {
        [RECONCILE_REQUESTED_AT]: this.clock.now().toISOString(),
      })
      .catch((e: unknown) =>
        this.logger.warn(
          `poll of ${source.metadata.namespace}/${source.metadata.name} not requested: ${String(e)}`,
        ),
      );
  }

  private sourceOf(automation: ImageUpdateAutomation): GitRepository {
    const ref = automation.spec.sourceRef;
    const refused = crossNamespaceRefusal(
      'spec.sourceRef',
      automation.metadata.namespace,
      { kind: 'GitRepository', ...ref },
      this.config.ALLOW_CROSS_NAMESPACE_REFS,
    );
    if (refused) throw new SourceError(refused.reason, refused.message);
    const ns = ref.namespace ?? automation.metadata.namespace;
    const source = this.watch.gitRepository(ns, ref.name);
    if (!source)
      throw new SourceError('SourceNotFound', `spec.sourceRef: GitRepository ${ns}/${ref.name} not found`);
    return source;
  }

  private async credentials(source: GitRepository): Promise<GitCredentials | undefined> {
    if (!source.spec.secretRef) return undefined;
    const data = await this.secrets.read(source.metadata.namespace, source.spec.secretRef.name);
    return credentialsFromSecret(source.spec.secretRef.name, data);
  }

  private async status(
    automation: ImageUpdateAutomation,
    ready: { ready: boolean; reason: string; message: string },
    extra: Partial<ImageUpdateAutomationStatus> = {},
  ): Promise<void> {
    const { namespace, name, generation } = automation.metadata;
    const current = this.watch.automation(namespace, name) ?? automation;
    await this.resources
      .patchStatus('ImageUpdateAutomation', namespace, name, {
        ...extra,
        lastAutomationRunTime: this.clock.now().toISOString(),
        ...(generation === undefined ? {} : { observedGeneration: generation }),
        conditions: readyConditions(
          current.status?.conditions ?? [],
          { ...ready, stalled: false, ...(generation === undefined ? {} : { generation }) },
          this.clock.now(),
        ),
      })
      .catch((e: unknown) => this.logger.warn(`${namespace}/${name}: status not recorded: ${String(e)}`));
  }
}

class SourceError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'SourceError';
  }
}

/** The tag the same slot (object and container) had in an older version of the file. */
function tagIn(text: string, slot: ImageSlot): string | undefined {
  try {
    const match = findImageSlots({ path: slot.file, text }).find(
      (s) =>
        s.object.kind === slot.object.kind &&
        s.object.namespace === slot.object.namespace &&
        s.object.name === slot.object.name &&
        s.container === slot.container,
    );
    if (!match) return undefined;
    return match.write.kind === 'setter' && match.write.field !== 'image'
      ? match.currentText
      : match.current?.tag;
  } catch {
    return undefined;
  }
}
