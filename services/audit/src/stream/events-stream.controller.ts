import {
  Controller,
  Get,
  Headers,
  Inject,
  Logger,
  Query,
  Req,
  Res,
  UseGuards,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { scopesOf, type Caller } from '../auth/access.js';
import { AuditAuth, type ReadableNamespaces } from '../auth/audit-auth.service.js';
import { BearerAuthGuard, CurrentCaller } from '../auth/bearer-auth.guard.js';
import {
  badParameter,
  namespaceParam,
  nonEmpty,
  single,
  timestampParam,
  ZodParamsPipe,
} from '../http/query-validation.js';
import { visibleTo } from '../http/visible.js';
import { auditCloudEvent } from '../subscriptions/payload.js';
import { DecisionFeed } from './decision-feed.repository.js';
import { resumePoint, SSE_HEARTBEAT, sseFrame } from './sse.js';
import { STREAM_OPTIONS, type StreamOptions } from './stream.config.js';

const StreamQuery = z.strictObject({
  namespace: namespaceParam.optional(),
  kind: nonEmpty.optional(),
  name: nonEmpty.optional(),
  revision: nonEmpty.optional(),
  actor: nonEmpty.optional(),
  action: nonEmpty.optional(),
  since: timestampParam.optional(),
  until: timestampParam.optional(),
  lastEventId: single.optional(),
});
type StreamQuery = z.infer<typeof StreamQuery>;

const BATCH = 200;

/**
 * Decisions as Server-Sent Events: each event is the decision's CloudEvent (as webhooks get it),
 * `id:` its seq. Followers poll Postgres rather than NATS: the log is the source of truth, the
 * catch-up after Last-Event-ID and the live tail are then one query with one ordering, and any
 * replica serves any client whichever replica ingested the decision.
 */
@Controller('api/v1/events')
@UseGuards(BearerAuthGuard)
export class EventsStreamController implements BeforeApplicationShutdown {
  private readonly logger = new Logger(EventsStreamController.name);
  /** Open streams; ended on shutdown, or the HTTP server would wait for them forever. */
  private readonly open = new Set<() => void>();
  /** Set at shutdown: a stream that starts after it (a client reconnecting) would keep the server up. */
  private closing = false;

  /** A method, not the field: the compiler would keep the narrowing of the check before the awaits. */
  private isClosing(): boolean {
    return this.closing;
  }

  beforeApplicationShutdown(): void {
    this.closing = true;
    for (const close of this.open) close();
  }

  constructor(
    private readonly feed: DecisionFeed,
    private readonly auth: AuditAuth,
    @Inject(STREAM_OPTIONS) private readonly options: StreamOptions,
  ) {}

  @Get('stream')
  async stream(
    @CurrentCaller() caller: Caller,
    @Query(new ZodParamsPipe(StreamQuery)) query: StreamQuery,
    @Headers('last-event-id') lastEventIdHeader: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.auth.requireAny(caller, scopesOf([query.namespace]));
    // Decisions spanning namespaces come with the other namespaces' objects cut out.
    const readable = await this.auth.readable(caller);
    const { lastEventId, ...filter } = query;
    const resume = resumePoint(lastEventIdHeader ?? lastEventId);
    if (resume === null) throw badParameter('lastEventId', 'must be a decision seq this stream sent');
    // Without a resume point: from `since` if given (the whole matching log), else only what comes next.
    const cursor = resume !== 'none' ? resume : filter.since ? 0n : await this.feed.head();
    if (this.closing) {
      res.status(503).setHeader('Retry-After', '2').setHeader('Connection', 'close').end();
      return;
    }

    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(`retry: 2000\n\n`);

    let open = true;
    let wake = () => {};
    const close = () => {
      open = false;
      wake();
    };
    this.open.add(close);
    req.on('close', close);
    try {
      await this.follow(
        res,
        readable,
        filter,
        cursor,
        () => open,
        (w) => (wake = w),
      );
    } catch (e) {
      this.logger.warn(`event stream ended: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.open.delete(close);
      res.end();
      // Ended by shutdown: close the connection too, so the client cannot reuse it for a reconnect.
      if (this.isClosing()) res.socket?.end();
    }
  }

  private async follow(
    res: Response,
    readable: ReadableNamespaces,
    filter: Omit<StreamQuery, 'lastEventId'>,
    from: bigint,
    isOpen: () => boolean,
    onWake: (wake: () => void) => void,
  ): Promise<void> {
    let cursor = from;
    let lastWrite = Date.now();
    while (isOpen()) {
      const batch = await this.feed.after(cursor, filter, BATCH);
      for (const d of await visibleTo(readable, batch)) {
        res.write(
          sseFrame({ id: d.seq.toString(), event: 'decision', data: JSON.stringify(auditCloudEvent(d)) }),
        );
        cursor = d.seq;
        lastWrite = Date.now();
      }
      if (batch.length === BATCH) continue;
      if (Date.now() - lastWrite >= this.options.heartbeatMs) {
        res.write(SSE_HEARTBEAT);
        lastWrite = Date.now();
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.options.pollMs);
        onWake(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}
