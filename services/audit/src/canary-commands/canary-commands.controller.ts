import {
  Controller,
  ForbiddenException,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Post,
  Query,
  ConflictException,
  BadRequestException,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  CanaryCommandRequest,
  canaryCommandSubject,
  type CanaryCommandReply,
  type CanaryVerb,
} from '@capstan/events';
import type { Bus } from '@capstan/messaging';
import type { Caller } from '../auth/access.js';
import { BearerAuthGuard, CurrentCaller } from '../auth/bearer-auth.guard.js';
import { ApiAuthResponses } from '../http/openapi.js';
import type { CanaryCommandAuthorizer } from './canary-command-authorizer.js';

export const CANARY_COMMAND_BUS = Symbol('CanaryCommandBus');
export const CANARY_COMMAND_AUTHORIZER = Symbol('CanaryCommandAuthorizer');

const VERBS: readonly CanaryVerb[] = ['promote', 'abort', 'retry', 'pause', 'resume'];

/**
 * People's commands on a Canary: authenticated like every audit API call (TokenReview), allowed
 * when RBAC lets the person `patch` that Canary (SubjectAccessReview), and carried out by the
 * canary-analyzer with the person as the decision's actor.
 */
@ApiTags('canaries')
@ApiBearerAuth()
@ApiAuthResponses()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/canaries')
export class CanaryCommandsController {
  constructor(
    @Inject(CANARY_COMMAND_BUS) private readonly bus: Bus,
    @Inject(CANARY_COMMAND_AUTHORIZER) private readonly authorizer: CanaryCommandAuthorizer,
  ) {}

  @Post(':namespace/:name/:verb')
  @HttpCode(200)
  @ApiOperation({ summary: 'Promote, abort, retry, pause or resume a Canary' })
  async command(
    @Param('namespace') namespace: string,
    @Param('name') name: string,
    @Param('verb') verb: string,
    @Query('group') group: string | undefined,
    @CurrentCaller() caller: Caller,
  ): Promise<{ phase: string; message: string }> {
    if (!VERBS.includes(verb as CanaryVerb))
      throw new BadRequestException(`verb must be one of ${VERBS.join(', ')}`);
    const apiGroup = group ?? 'flagger.app';
    if (!(await this.authorizer.allowed(caller, apiGroup, namespace, name)))
      throw new ForbiddenException(
        `${caller.username} may not patch canaries.${apiGroup} "${name}" in namespace "${namespace}"`,
      );
    const request: CanaryCommandRequest = {
      namespace,
      name,
      verb: verb as CanaryVerb,
      actor: { kind: 'person', name: caller.username, evidence: 'authenticated-user' },
    };
    let reply: CanaryCommandReply;
    try {
      const msg = await this.bus.nc.request(
        canaryCommandSubject(this.bus.topology.prefix),
        JSON.stringify(request),
        {
          timeout: 30_000,
        },
      );
      reply = msg.json<CanaryCommandReply>();
    } catch (e) {
      throw new ServiceUnavailableException(`no canary-analyzer answered: ${(e as Error).message}`);
    }
    if (reply.ok) return { phase: reply.phase, message: reply.message };
    switch (reply.code) {
      case 'NotFound':
        throw new NotFoundException(reply.message);
      case 'Rejected':
        throw new ConflictException(reply.message);
      case 'Invalid':
        throw new BadRequestException(reply.message);
      case 'Failed':
        throw new ServiceUnavailableException(reply.message);
    }
  }
}
