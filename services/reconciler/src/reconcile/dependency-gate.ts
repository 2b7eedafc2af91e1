import { Injectable } from '@nestjs/common';
import { CapstanResources, isNotFound, type Sync } from '@capstan/kube';
import { dependencyBlocker, type DependencyState } from '../domain/dependencies.js';
import { RepositoryCache } from '../sources/repository-cache.js';
import { SyncStatusWriter } from './sync-status-writer.js';

/** A dependency is not Ready yet: the Sync is retried shortly, nothing is applied meanwhile. */
export class DependencyNotReadyError extends Error {
  override readonly name = 'DependencyNotReadyError';
  constructor(readonly blocker: string) {
    super(blocker);
  }
}

/** `dependsOn`: nothing is applied before every dependency is Ready at its latest revision. */
@Injectable()
export class DependencyGate {
  constructor(
    private readonly resources: CapstanResources,
    private readonly repositories: RepositoryCache,
    private readonly status: SyncStatusWriter,
  ) {}

  /** Throws DependencyNotReadyError (after saying so in status) when a dependency is not Ready. */
  async check(sync: Sync): Promise<void> {
    for (const dep of sync.spec.dependsOn ?? []) {
      const blocker = dependencyBlocker(
        await this.stateOf(dep.namespace ?? sync.metadata.namespace, dep.name),
      );
      if (!blocker) continue;
      await this.status.write(sync, { kind: 'blocked', message: blocker });
      throw new DependencyNotReadyError(blocker);
    }
  }

  private async stateOf(namespace: string, name: string): Promise<DependencyState> {
    const ref = `${namespace}/${name}`;
    let dep: Sync;
    try {
      dep = await this.resources.get('Sync', namespace, name);
    } catch (e) {
      if (isNotFound(e)) return { ref, found: false };
      throw e;
    }
    const repo = await this.repositories.get(
      dep.spec.sourceRef.namespace ?? dep.metadata.namespace,
      dep.spec.sourceRef.name,
    );
    const sourceRevision = repo?.status?.artifact?.revision;
    return {
      ref,
      found: true,
      ...(dep.metadata.generation === undefined ? {} : { generation: dep.metadata.generation }),
      ...(dep.status?.observedGeneration === undefined
        ? {}
        : { observedGeneration: dep.status.observedGeneration }),
      conditions: dep.status?.conditions ?? [],
      ...(dep.status?.lastAppliedRevision ? { lastAppliedRevision: dep.status.lastAppliedRevision } : {}),
      ...(sourceRevision ? { sourceRevision } : {}),
    };
  }
}
