import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { scopesOf, type Caller } from '../auth/access.js';
import { AuditAuth } from '../auth/audit-auth.service.js';
import { BearerAuthGuard, CurrentCaller } from '../auth/bearer-auth.guard.js';
import { paginate } from '../domain/cursor.js';
import { DecisionRepository } from '../persistence/decision.repository.js';
import { ObjectHistoryParams, PageQuery } from './decisions.query.js';
import { ApiAuthResponses, BAD_PARAMETER } from './openapi.js';
import { pageOf } from './page.js';
import { ZodParamsPipe } from './query-validation.js';
import { visibleTo } from './visible.js';
import { objectHistoryEntryView, type ObjectHistoryEntryView, type PageView } from './views.js';

@ApiTags('objects')
@ApiBearerAuth()
@ApiAuthResponses()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/objects')
export class ObjectHistoryController {
  constructor(
    private readonly decisions: DecisionRepository,
    private readonly auth: AuditAuth,
  ) {}

  /** Every decision that touched one object, newest first; `_` as namespace for cluster-scoped objects. */
  @Get(':namespace/:kind/:name/history')
  @ApiOperation({
    summary: 'History of one object',
    description:
      'Every decision that touched the object, newest first, with commit, author and its own change. ' +
      '`_` as namespace for cluster-scoped objects (needs cluster-wide access).',
  })
  @ApiQuery({ name: 'limit', required: false })
  @ApiQuery({ name: 'cursor', required: false })
  @BAD_PARAMETER
  async history(
    @Param(new ZodParamsPipe(ObjectHistoryParams)) object: ObjectHistoryParams,
    @Query(new ZodParamsPipe(PageQuery)) query: PageQuery,
    @CurrentCaller() caller: Caller,
  ): Promise<PageView<ObjectHistoryEntryView>> {
    await this.auth.requireAny(caller, scopesOf([object.namespace]));
    const rows = await this.decisions.objectHistory(object, pageOf(query));
    // The object is the caller's, but a decision's message may name objects of other namespaces.
    const visible = await visibleTo(
      await this.auth.readable(caller),
      rows.map((r) => r.decision),
    );
    const page = paginate(
      rows.map((r, i) => ({ ...r, decision: visible[i] ?? r.decision, seq: r.decision.seq })),
      query.limit,
    );
    return { items: page.items.map(objectHistoryEntryView), nextCursor: page.nextCursor };
  }
}
