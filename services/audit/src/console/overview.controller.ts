import { Controller, Get, Inject, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { Caller } from '../auth/access.js';
import { AuditAuth } from '../auth/audit-auth.service.js';
import { BearerAuthGuard, CurrentCaller } from '../auth/bearer-auth.guard.js';
import type { ChainedDecision } from '../domain/decision-record.js';
import type { DecisionFilter } from '../domain/decision-query.js';
import { ApiAuthResponses } from '../http/openapi.js';
import { nonEmpty, ZodParamsPipe } from '../http/query-validation.js';
import { DecisionQueries } from '../persistence/decision-queries.repository.js';
import { ClusterObjects } from './cluster-objects.js';
import { OVERVIEW_KINDS, sortRows, type OverviewRow } from './overview.js';

export const CLUSTER_OBJECTS = Symbol('ClusterObjects');

const OverviewQuery = z.strictObject({
  namespace: nonEmpty.optional(),
  kind: z.enum(OVERVIEW_KINDS.map((k) => k.kind) as [string, ...string[]]).optional(),
  ready: z.enum(['True', 'False', 'Unknown']).optional(),
});
type OverviewQuery = z.infer<typeof OverviewQuery>;

/** Rows get their last decision looked up one by one; beyond this many, the rest go without. */
const MAX_DECISION_LOOKUPS = 500;

export interface OverviewItemView extends OverviewRow {
  lastDecision: {
    seq: number;
    id: string;
    time: string;
    action: string;
    outcome: string;
    actor: { name: string; email: string | null; evidence: string };
    correlationId: string | null;
  } | null;
}

function decisionFilterFor(row: OverviewRow): DecisionFilter | null {
  const kind = OVERVIEW_KINDS.find((k) => k.kind === row.kind);
  switch (kind?.decisions) {
    case 'decider':
      if (row.kind === 'Sync') return { sync: { namespace: row.namespace, name: row.name } };
      if (row.kind === 'Canary') return { canary: { namespace: row.namespace, name: row.name } };
      return { kind: row.kind, namespace: row.namespace, name: row.name };
    case 'target':
      return { kind: row.kind, namespace: row.namespace, name: row.name };
    case 'none':
    case undefined:
      return null;
  }
}

const lastDecisionView = (d: ChainedDecision): OverviewItemView['lastDecision'] => ({
  seq: Number(d.seq),
  id: d.id,
  time: d.time.toISOString(),
  action: d.action,
  outcome: d.outcome,
  actor: { name: d.actor.name, email: d.actor.email, evidence: d.actor.evidence },
  correlationId: d.correlationId,
});

@ApiTags('console')
@ApiBearerAuth()
@ApiAuthResponses()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/overview')
export class OverviewController {
  constructor(
    @Inject(CLUSTER_OBJECTS) private readonly cluster: ClusterObjects,
    private readonly decisions: DecisionQueries,
    private readonly auth: AuditAuth,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Every Sync, GitRepository, HelmRelease, Canary and image policy, with its last decision',
    description:
      'Ready state, revision and the newest decision (with its actor) of each object, not Ready first. ' +
      'Only objects in namespaces where the caller may read decisions.',
  })
  async overview(
    @Query(new ZodParamsPipe(OverviewQuery)) q: OverviewQuery,
    @CurrentCaller() caller: Caller,
  ): Promise<{ items: OverviewItemView[] }> {
    if (q.namespace !== undefined) await this.auth.requireAny(caller, [q.namespace]);
    const readable = await this.auth.readable(caller);
    let rows = await this.cluster.rows(q.kind ? [q.kind] : undefined);
    rows = rows.filter(
      (r) =>
        (q.namespace === undefined || r.namespace === q.namespace) &&
        (q.ready === undefined || r.ready === q.ready),
    );
    await readable.learn(new Set(rows.map((r) => r.namespace)));
    const visible = sortRows(rows.filter((r) => readable.canRead(r.namespace)));
    const items = await Promise.all(
      visible.map(async (row, i): Promise<OverviewItemView> => {
        const filter = i < MAX_DECISION_LOOKUPS ? decisionFilterFor(row) : null;
        const [last] = filter ? await this.decisions.list(filter, { limit: 1 }) : [];
        return { ...row, lastDecision: last ? lastDecisionView(last) : null };
      }),
    );
    return { items };
  }
}
