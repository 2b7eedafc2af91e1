import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { crossNamespaceRefusal, readyConditions } from '@capstan/gitops-core';
import { canonicalName, formatImageRef, type PolicyPick, type Selection } from '@capstan/image-policy';
import { CLOCK, type Clock } from '@capstan/platform';
import { REGISTRY_WATCHER_CONFIG, type RegistryWatcherConfig } from '../config.js';
import { tagPolicyOf } from '../domain/policy-spec.js';
import { ImageResources } from '../resources/image-resources.js';
import { ImageWatch } from '../resources/image-watch.service.js';
import type { ImagePolicy, ImagePolicyStatus, ImageRepository } from '../resources/image-types.js';
import { imageOf, RepositoryScanner } from '../scanning/repository-scanner.js';
import { RepositoryLogin } from '../scanning/repository-login.js';
import { Candidates } from './candidates.js';

export type PolicyResult = { ok: true; pick: PolicyPick } | { ok: false; reason: string; message: string };

/**
 * Evaluates ImagePolicies: after every scan of their repository and whenever they change. The
 * status (latestRef, why, Ready) is written here only; a policy whose semver range or regex is
 * invalid is Ready=False naming the field.
 */
@Injectable()
export class PolicyEvaluator implements OnApplicationBootstrap {
  private readonly logger = new Logger('PolicyEvaluator');

  constructor(
    private readonly watch: ImageWatch,
    private readonly candidates: Candidates,
    private readonly resources: ImageResources,
    private readonly scanner: RepositoryScanner,
    private readonly login: RepositoryLogin,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(REGISTRY_WATCHER_CONFIG) private readonly config: RegistryWatcherConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.watch.onPolicy((kind, policy) => {
      if (kind === 'upsert' && policy.status?.observedGeneration !== policy.metadata.generation)
        void this.evaluate(policy);
    });
    this.scanner.scanned.push(async (repository, scanned) => {
      // One at a time, inside the scan's slot: each reads the repository's whole tag list.
      for (const policy of this.watch.policies()) {
        const repo = this.repositoryOf(policy);
        if (repo && safeCanonical(repo.spec.image) === repository)
          await this.evaluate(policy, sameObject(repo, scanned));
      }
    });
  }

  /**
   * The policy's current pick, or why there is none. Tags come from what scans recorded, which
   * is shared by every ImageRepository of the same image: a policy may use them only once its
   * own ImageRepository has listed them itself (`justScanned`, or Ready at its generation), so a
   * tenant without the login never sees the tags another tenant's login listed.
   */
  async pick(policy: ImagePolicy, justScanned = false): Promise<PolicyResult> {
    const ref = policy.spec.imageRepositoryRef;
    const refused = crossNamespaceRefusal(
      'spec.imageRepositoryRef',
      policy.metadata.namespace,
      { kind: 'ImageRepository', ...ref },
      this.config.ALLOW_CROSS_NAMESPACE_REFS,
    );
    if (refused) return { ok: false, ...refused };
    const repo = this.repositoryOf(policy);
    if (!repo)
      return {
        ok: false,
        reason: 'RepositoryNotFound',
        message: `spec.imageRepositoryRef: ImageRepository ${ref.namespace ?? policy.metadata.namespace}/${ref.name} not found`,
      };
    const spec = tagPolicyOf(policy, repo);
    if (!spec.ok)
      return {
        ok: false,
        reason: 'InvalidPolicy',
        message: spec.errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      };
    let image;
    try {
      image = imageOf(repo);
    } catch (e) {
      return { ok: false, reason: 'RepositoryInvalid', message: (e as Error).message };
    }
    if (!justScanned && !scannedAtGeneration(repo)) {
      const why = repo.status?.conditions?.find((c) => c.type === 'Ready')?.message;
      return {
        ok: false,
        reason: 'RepositoryNotReady',
        message: `spec.imageRepositoryRef: ImageRepository ${repo.metadata.namespace}/${repo.metadata.name} has not listed its tags${why ? `: ${why}` : ' yet'}`,
      };
    }
    const selection: Selection = await this.candidates.select(
      await this.login.access(repo, image),
      spec.policy,
    );
    return {
      ok: true,
      pick: {
        policyName: `ImagePolicy ${policy.metadata.namespace}/${policy.metadata.name}`,
        policy: spec.policy,
        image: { registry: image.registry, repository: image.repository },
        selection,
      },
    };
  }

  async evaluate(policy: ImagePolicy, justScanned = false): Promise<void> {
    const { namespace, name, generation } = policy.metadata;
    const gen = generation === undefined ? {} : { generation };
    let status: ImagePolicyStatus;
    try {
      const result = await this.pick(policy, justScanned);
      if (!result.ok) {
        status = {
          conditions: readyConditions(
            policy.status?.conditions ?? [],
            {
              ready: false,
              reason: result.reason,
              message: result.message,
              stalled: result.reason === 'InvalidPolicy' || result.reason === 'CrossNamespaceRefNotAllowed',
              ...gen,
            },
            this.clock.now(),
          ),
        };
      } else {
        const sel = result.pick.selection;
        const name_ = canonicalName(result.pick.image);
        const latest =
          sel.kind === 'chosen'
            ? { name: name_, tag: sel.tag, ...(sel.digest ? { digest: sel.digest } : {}) }
            : undefined;
        const previous = policy.status?.latestRef;
        const moved =
          latest && previous && (previous.tag !== latest.tag || previous.digest !== latest.digest);
        status = {
          ...(latest ? { latestRef: latest } : {}),
          ...(moved ? { observedPreviousRef: previous } : {}),
          why: sel.kind === 'chosen' ? sel.why : sel.message,
          conditions: readyConditions(
            policy.status?.conditions ?? [],
            sel.kind === 'chosen'
              ? {
                  ready: true,
                  reason: 'Succeeded',
                  message: `latest image ${formatImageRef({ ...result.pick.image, tag: sel.tag })}`,
                  stalled: false,
                  ...gen,
                }
              : { ready: false, reason: sel.reason, message: sel.message, stalled: false, ...gen },
            this.clock.now(),
          ),
        };
      }
    } catch (e) {
      status = {
        conditions: readyConditions(
          policy.status?.conditions ?? [],
          {
            ready: false,
            reason: 'EvaluationFailed',
            message: e instanceof Error ? e.message : String(e),
            stalled: false,
            ...gen,
          },
          this.clock.now(),
        ),
      };
    }
    await this.resources
      .patchStatus('ImagePolicy', namespace, name, {
        ...status,
        ...(generation === undefined ? {} : { observedGeneration: generation }),
      })
      .catch((e: unknown) => this.logger.warn(`${namespace}/${name}: status not recorded: ${String(e)}`));
  }

  private repositoryOf(policy: ImagePolicy) {
    const ref = policy.spec.imageRepositoryRef;
    return this.watch.repository(ref.namespace ?? policy.metadata.namespace, ref.name);
  }
}

function safeCanonical(image: string): string | undefined {
  try {
    return canonicalName(imageOf({ spec: { image } } as never));
  } catch {
    return undefined;
  }
}

function sameObject(a: ImageRepository, b: ImageRepository): boolean {
  return a.metadata.namespace === b.metadata.namespace && a.metadata.name === b.metadata.name;
}

/** Its last scan succeeded, at the spec it has now (a changed secretRef must list again). */
function scannedAtGeneration(repo: ImageRepository): boolean {
  const ready = repo.status?.conditions?.find((c) => c.type === 'Ready');
  return (
    ready?.status === 'True' &&
    (repo.metadata.generation === undefined || repo.status?.observedGeneration === repo.metadata.generation)
  );
}
