import { Controller, Get, Headers, Query, Res, UseGuards, type StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { scopesOf, type Caller } from '../auth/access.js';
import { AuditAuth } from '../auth/audit-auth.service.js';
import { BearerAuthGuard, CurrentCaller } from '../auth/bearer-auth.guard.js';
import { paginate } from '../domain/cursor.js';
import { DecisionQueries } from '../persistence/decision-queries.repository.js';
import { DecisionsQuery } from './decisions.query.js';
import { exportResponse, negotiateFormat } from './export-stream.js';
import { pageOf } from './page.js';
import { badParameter, DEFAULT_LIMIT, MAX_LIMIT, ZodParamsPipe } from './query-validation.js';
import { decisionView, type DecisionView, type PageView } from './views.js';
import { visibleStream, visibleTo } from './visible.js';
import { ApiAuthResponses, ApiQueries, BAD_PARAMETER } from './openapi.js';

const filterDocs: (readonly [string, string])[] = [
  ['namespace', 'decisions touching an object in this namespace; `_` for cluster-scoped objects'],
  ['kind', 'decisions touching an object of this kind'],
  ['name', 'decisions touching an object of this name'],
  ['revision', 'a Flux-style revision (`main@sha1:...`) or a commit sha'],
  ['actor', "the primary actor's name, or their email (case-insensitive)"],
  ['action', 'applied, pruned, failed, drift.corrected, canary.promoted, ...'],
  ['since', 'RFC 3339 timestamp, inclusive'],
  ['until', 'RFC 3339 timestamp, exclusive'],
  ['sync', '`<namespace>/<name>` of the Sync that decided'],
  ['canary', '`<namespace>/<name>` of the Canary that decided'],
  ['correlationId', 'decisions of one deploy'],
  ['image', 'decisions about an image: `<repository>` or `<repository>:<tag>`, e.g. `ghcr.io/org/app:1.2.3`'],
];

@ApiTags('decisions')
@ApiBearerAuth()
@ApiAuthResponses()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/decisions')
export class DecisionsController {
  constructor(
    private readonly decisions: DecisionQueries,
    private readonly auth: AuditAuth,
  ) {}

  /** The audit log, newest first, filtered; `nextCursor` continues with older decisions. */
  @Get()
  @ApiOperation({
    summary: 'List or export decisions',
    description:
      'Newest first. As JSON, one page (`limit`, `cursor`). As NDJSON (`format=ndjson` or ' +
      '`Accept: application/x-ndjson`) or CSV (`format=csv`), every matching decision, streamed. ' +
      'Needs `get` on `decisions.audit.capstan.dev` in the namespace asked about (`namespace`, or ' +
      "the Sync's/Canary's namespace); without one, cluster-wide.",
  })
  @ApiProduces('application/json', 'application/x-ndjson', 'text/csv')
  @ApiQuery({
    name: 'limit',
    required: false,
    description: `page size, 1..${MAX_LIMIT} (default ${DEFAULT_LIMIT}); JSON only`,
  })
  @ApiQuery({ name: 'cursor', required: false, description: '`nextCursor` of the previous page; JSON only' })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'ndjson', 'csv'] })
  @ApiQueries(filterDocs)
  @BAD_PARAMETER
  async list(
    @Query(new ZodParamsPipe(DecisionsQuery)) query: DecisionsQuery,
    @CurrentCaller() caller: Caller,
    @Headers('accept') accept: string | undefined,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PageView<DecisionView> | StreamableFile> {
    const { limit, cursor, format, ...filter } = query;
    await this.auth.requireAny(
      caller,
      scopesOf([filter.namespace, filter.sync?.namespace, filter.canary?.namespace]),
    );
    // A decision can span namespaces: the caller sees only the objects of those they may read.
    const readable = await this.auth.readable(caller);
    const chosen = negotiateFormat(format, accept);
    if (chosen !== 'json') {
      // An export is every matching row; a page size or position would silently cut it.
      if (cursor !== undefined)
        throw badParameter('cursor', `not used with ${chosen}: exports stream every matching decision`);
      return exportResponse(visibleStream(readable, this.decisions.stream(filter)), chosen, res);
    }
    const rows = await this.decisions.list(filter, pageOf({ limit, cursor }));
    const page = paginate(rows, limit);
    return { items: (await visibleTo(readable, page.items)).map(decisionView), nextCursor: page.nextCursor };
  }
}
