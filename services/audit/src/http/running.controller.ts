import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { scopesOf, type Caller } from '../auth/access.js';
import { AuditAuth } from '../auth/audit-auth.service.js';
import { BearerAuthGuard, CurrentCaller } from '../auth/bearer-auth.guard.js';
import { DecisionQueries } from '../persistence/decision-queries.repository.js';
import { MAX_UNPAGED, RunningQuery } from './decisions.query.js';
import { ApiAuthResponses, BAD_PARAMETER } from './openapi.js';
import { ZodParamsPipe } from './query-validation.js';
import { runningObjectView, type RunningObjectView } from './views.js';

@ApiTags('running')
@ApiBearerAuth()
@ApiAuthResponses()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/running')
export class RunningController {
  constructor(
    private readonly decisions: DecisionQueries,
    private readonly auth: AuditAuth,
  ) {}

  /** What is running and who put it there, according to the log. */
  @Get()
  @ApiOperation({
    summary: 'What is running and who put it there',
    description:
      'For each object in a namespace (or managed by a Sync): the revision it runs from, the ' +
      'decision that last created or configured it, and that decision\u2019s actor. Objects ' +
      `whose newest decision pruned them are left out. At most ${MAX_UNPAGED} objects, by namespace, kind, name.`,
  })
  @ApiQuery({ name: 'namespace', required: false, description: '`_` for cluster-scoped objects' })
  @ApiQuery({ name: 'sync', required: false, description: '`<namespace>/<name>` of a Sync' })
  @BAD_PARAMETER
  async running(
    @Query(new ZodParamsPipe(RunningQuery)) query: RunningQuery,
    @CurrentCaller() caller: Caller,
  ): Promise<{ items: RunningObjectView[] }> {
    await this.auth.requireAny(caller, scopesOf([query.namespace, query.sync?.namespace]));
    const rows = await this.decisions.running(
      {
        ...(query.namespace === undefined ? {} : { namespace: query.namespace }),
        ...(query.sync === undefined ? {} : { sync: query.sync }),
      },
      MAX_UNPAGED,
    );
    // A Sync may deploy into several namespaces: list only the objects the caller may read.
    const readable = await this.auth.readable(caller);
    await readable.learn(new Set(rows.map((r) => r.namespace)));
    return { items: rows.filter((r) => readable.canRead(r.namespace)).map(runningObjectView) };
  }
}
