import {
  ConflictException,
  Controller,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Req,
  ServiceUnavailableException,
  UnauthorizedException,
} from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { ReceiverService } from './receiver.service.js';

/** The HTTP edge of push webhooks: maps a delivery's outcome to a status code, nothing more. */
@Controller('hooks')
export class ReceiverController {
  constructor(private readonly receivers: ReceiverService) {}

  @Post(':namespace/:name')
  @HttpCode(202)
  async receive(
    @Param('namespace') namespace: string,
    @Param('name') name: string,
    @Req() req: { headers: IncomingHttpHeaders; rawBody?: Buffer },
  ): Promise<{ requested: string[]; unknown: string[]; refused: string[] }> {
    const outcome = await this.receivers.deliver(
      namespace,
      name,
      req.headers,
      req.rawBody ?? Buffer.alloc(0),
    );
    switch (outcome.kind) {
      case 'accepted':
        return { requested: outcome.requested, unknown: outcome.unknown, refused: outcome.refused };
      case 'replayed':
        throw new ConflictException(outcome.reason);
      case 'unauthorized':
        throw new UnauthorizedException(outcome.reason);
      case 'not-found':
        throw new NotFoundException(`receiver ${namespace}/${name} not found`);
      case 'suspended':
        throw new ServiceUnavailableException(`receiver ${namespace}/${name} is suspended`);
    }
  }
}
