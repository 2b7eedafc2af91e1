import type { DeployDecisionV1Data } from '@capstan/events';
import { canonicalName, parseImageRef } from '@capstan/image-policy';

const FAILED_ACTIONS: ReadonlySet<string> = new Set(['canary.rolled-back', 'canary.aborted']);

/**
 * Images a Canary failed with, per workload (`namespace/name`: a Canary's target and a
 * HelmRelease's Deployment share it by convention). Built from the canary-analyzer's decisions;
 * the automation never writes one of these images back.
 */
export class CanaryFailures {
  private readonly failed = new Map<string, Set<string>>();

  record(decision: DeployDecisionV1Data): void {
    if (!FAILED_ACTIONS.has(decision.action) || !decision.image) return;
    const { tag, digest } = decision.image;
    const repository = canonical(decision.image.repository);
    const keys = [
      `${decision.decidedBy.namespace}/${decision.decidedBy.name}`,
      ...decision.targets.map((t) => `${t.namespace}/${t.name}`),
    ];
    for (const key of keys) {
      const set = this.failed.get(key) ?? new Set<string>();
      set.add(`${repository}:${tag}`);
      if (digest) set.add(`${repository}@${digest}`);
      this.failed.set(key, set);
    }
  }

  for(namespace: string, name: string): ReadonlySet<string> {
    return this.failed.get(`${namespace}/${name}`) ?? new Set();
  }
}

/** `nginx` and `docker.io/library/nginx` are one repository. */
function canonical(repository: string): string {
  try {
    return canonicalName(parseImageRef(repository));
  } catch {
    return repository;
  }
}
