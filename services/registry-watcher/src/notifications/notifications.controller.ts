import {
  BadRequestException,
  Controller,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  UnauthorizedException,
} from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { NotificationFormat } from '../domain/notifications.js';
import { NotificationService } from './notification.service.js';

const FORMATS: readonly string[] = ['distribution', 'dockerhub', 'ghcr', 'harbor'];

/** Where registries send push webhooks: `POST /registry/v1/notifications/<format>`. */
@Controller('registry/v1/notifications')
export class NotificationsController {
  constructor(private readonly notifications: NotificationService) {}

  @Post(':format')
  @HttpCode(202)
  async receive(
    @Param('format') format: string,
    @Query() query: Record<string, unknown>,
    @Req() req: { headers: IncomingHttpHeaders; body?: unknown },
  ): Promise<{ published: number; duplicates: number; ignored: number; scans: number }> {
    if (!FORMATS.includes(format))
      throw new NotFoundException(`unknown notification format ${format}; one of ${FORMATS.join(', ')}`);
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const outcome = await this.notifications.receive(format as NotificationFormat, req.headers, query, raw);
    switch (outcome.kind) {
      case 'unauthorized':
        throw new UnauthorizedException(outcome.reason);
      case 'malformed':
        throw new BadRequestException(outcome.reason);
      case 'accepted':
        return {
          published: outcome.published,
          duplicates: outcome.duplicates,
          ignored: outcome.ignored,
          scans: outcome.scans,
        };
    }
  }
}
