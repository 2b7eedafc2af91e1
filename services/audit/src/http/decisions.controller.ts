import { Controller, Get, Query } from '@nestjs/common';
import { paginate } from '../domain/cursor.js';
import { DecisionRepository } from '../persistence/decision.repository.js';
import { DecisionsQuery } from './decisions.query.js';
import { pageOf } from './page.js';
import { ZodParamsPipe } from './query-validation.js';
import { decisionView, type DecisionView, type PageView } from './views.js';

@Controller('api/v1/decisions')
export class DecisionsController {
  constructor(private readonly decisions: DecisionRepository) {}

  /** The audit log, newest first, filtered; `nextCursor` continues with older decisions. */
  @Get()
  async list(
    @Query(new ZodParamsPipe(DecisionsQuery)) query: DecisionsQuery,
  ): Promise<PageView<DecisionView>> {
    const { limit, cursor, ...filter } = query;
    const rows = await this.decisions.list(filter, pageOf({ limit, cursor }));
    const page = paginate(rows, limit);
    return { items: page.items.map(decisionView), nextCursor: page.nextCursor };
  }
}
