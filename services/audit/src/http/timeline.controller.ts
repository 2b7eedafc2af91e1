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
import { visibleTo } from './visible.js';

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
      'A deploy can span namespaces: the caller needs access to one namespace whose objects it ' +
      'touched (the decider\u2019s, for decisions without targets), and sees the steps and objects ' +
      'of the namespaces they may read; cluster-wide readers see everything.',
  })
  @BAD_PARAMETER
  async timeline(
    @Param(new ZodParamsPipe(TimelineParams)) params: TimelineParams,
    @CurrentCaller() caller: Caller,
  ): Promise<{ correlationId: string; steps: TimelineStepView[] }> {
    const rows = await this.decisions.timeline(params.correlationId, MAX_UNPAGED);
    // As in the decision list, a decision belongs to the namespaces of the objects it touched
    // (a Sync in flux-system deploying into team-a is team-a's history); one without targets
    // belongs to its decider's namespace.
    const homes = rows.map((d) =>
      d.targets.length === 0 ? [d.decidedBy.namespace] : d.targets.map((t) => t.namespace),
    );
    // Any one of them suffices; an empty timeline needs cluster-wide access, so "no such deploy"
    // and "not yours" look the same to outsiders.
    const named = [...new Set(homes.flat().filter((ns) => ns !== ''))];
    await this.auth.requireAny(caller, named.length > 0 ? named : [null]);
    // A deploy can span teams: each caller sees the steps in namespaces they may read, with the
    // other namespaces' objects cut out. Steps keep their recorded numbers.
    const readable = await this.auth.readable(caller);
    await readable.learn(homes.flat());
    const steps = rows.flatMap((d, i) =>
      homes[i]?.some((ns) => readable.canRead(ns)) ? [{ step: i + 1, decision: d }] : [],
    );
    const visible = await visibleTo(
      readable,
      steps.map((s) => s.decision),
    );
    return {
      correlationId: params.correlationId,
      steps: steps.map((s, i) => ({ step: s.step, ...decisionView(visible[i] ?? s.decision) })),
    };
  }
}
