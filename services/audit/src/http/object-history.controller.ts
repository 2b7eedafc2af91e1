import { Controller, Get, Param, Query } from '@nestjs/common';
import { paginate } from '../domain/cursor.js';
import { DecisionRepository } from '../persistence/decision.repository.js';
import { ObjectHistoryParams, PageQuery } from './decisions.query.js';
import { pageOf } from './page.js';
import { ZodParamsPipe } from './query-validation.js';
import { objectHistoryEntryView, type ObjectHistoryEntryView, type PageView } from './views.js';

@Controller('api/v1/objects')
export class ObjectHistoryController {
  constructor(private readonly decisions: DecisionRepository) {}

  /** Every decision that touched one object, newest first; `_` as namespace for cluster-scoped objects. */
  @Get(':namespace/:kind/:name/history')
  async history(
    @Param(new ZodParamsPipe(ObjectHistoryParams)) object: ObjectHistoryParams,
    @Query(new ZodParamsPipe(PageQuery)) query: PageQuery,
  ): Promise<PageView<ObjectHistoryEntryView>> {
    const rows = await this.decisions.objectHistory(object, pageOf(query));
    const page = paginate(
      rows.map((r) => ({ ...r, seq: r.decision.seq })),
      query.limit,
    );
    return { items: page.items.map(objectHistoryEntryView), nextCursor: page.nextCursor };
  }
}
