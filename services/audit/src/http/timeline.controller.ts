import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Caller } from '../auth/access.js';
import { AuditAuth } from '../auth/audit-auth.service.js';
import { BearerAuthGuard, CurrentCaller } from '../auth/bearer-auth.guard.js';
import { DecisionQueries } from '../persistence/decision-queries.repository.js';
import { MAX_UNPAGED, TimelineParams } from './decisions.query.js';
import { ApiAuthResponses, BAD_PARAMETER } from './openapi.js';
import { ZodParamsPipe } from './query-validation.js';
import { decisionView, type TimelineStepView } from './views.js';

@ApiTags('timeline')
@ApiBearerAuth()
@ApiAuthResponses()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/timeline')
export class TimelineController {
  constructor(
    private readonly decisions: DecisionQueries,
    private readonly auth: AuditAuth,
  ) {}

  @Get(':correlationId')
  @ApiOperation({
    summary: 'Timeline of one deploy',
    description:
      'Every decision sharing the correlation id, in the order recorded, numbered step by step. ' +
      'A deploy can span namespaces: the caller needs access to every namespace whose objects it ' +
      'touched (the decider\u2019s, for decisions without targets), or cluster-wide access.',
  })
  @BAD_PARAMETER
  async timeline(
    @Param(new ZodParamsPipe(TimelineParams)) params: TimelineParams,
    @CurrentCaller() caller: Caller,
  ): Promise<{ correlationId: string; steps: TimelineStepView[] }> {
    const rows = await this.decisions.timeline(params.correlationId, MAX_UNPAGED);
    const namespaces = new Set<string | null>();
    // As in the decision list, a decision belongs to the namespaces of the objects it touched
    // (a Sync in flux-system deploying into team-a is team-a's history); one without targets
    // belongs to its decider's namespace.
    for (const d of rows) {
      if (d.targets.length === 0) namespaces.add(d.decidedBy.namespace || null);
      for (const t of d.targets) namespaces.add(t.namespace || null);
    }
    // Checked even for an empty timeline, so "no such deploy" tells nothing to outsiders.
    await this.auth.requireAll(caller, [...namespaces]);
    return {
      correlationId: params.correlationId,
      steps: rows.map((d, i) => ({ step: i + 1, ...decisionView(d) })),
    };
  }
}
