import { Inject, Injectable, Logger } from '@nestjs/common';
import { describeError } from '@capstan/messaging';
import { CLOCK, type Clock } from '@capstan/platform';
import { ObjectApi, isNotFound } from '@capstan/kube';
import type { Condition } from '@capstan/gitops-core';
import { helmReleaseStatus, type ReleaseObservation } from '../domain/helm-release-status.js';

/**
 * The one writer of HelmRelease status: `helmReleaseStatus` computes it (pure), this patches it.
 * A release that is not in the cluster (its Sync failed before creating it) is skipped.
 */
@Injectable()
export class HelmReleaseStatusWriter {
  private readonly logger = new Logger('HelmReleaseStatus');

  constructor(
    private readonly api: ObjectApi,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async write(observation: Omit<ReleaseObservation, 'live'>): Promise<void> {
    const { release } = observation;
    const ref = {
      apiVersion: release.apiVersion,
      kind: 'HelmRelease',
      metadata: { namespace: release.namespace, name: release.name },
    };
    try {
      const live = await this.api.read<{
        apiVersion: string;
        kind: string;
        metadata: { generation?: number };
        status?: { conditions?: Condition[] };
      }>(ref);
      const status = helmReleaseStatus(
        {
          ...observation,
          live: {
            ...(live.metadata.generation === undefined ? {} : { generation: live.metadata.generation }),
            conditions: live.status?.conditions ?? [],
          },
        },
        this.clock.now(),
      );
      // Merge patch: a release that recovered drops its retry fields.
      await this.api.patchStatus(ref, { retries: null, nextRetryAt: null, ...status });
    } catch (e) {
      if (isNotFound(e)) return;
      // Status is a report: failing to write it must not fail the Sync; the next reconcile rewrites it.
      this.logger.warn(`status of HelmRelease ${release.namespace}/${release.name}: ${describeError(e)}`);
    }
  }
}
