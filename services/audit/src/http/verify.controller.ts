import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Caller } from '../auth/access.js';
import { AuditAuth } from '../auth/audit-auth.service.js';
import { BearerAuthGuard, CurrentCaller } from '../auth/bearer-auth.guard.js';
import { ChainVerifier } from '../verification/chain-verifier.service.js';
import { ApiAuthResponses } from './openapi.js';

export interface VerifyView {
  ok: boolean;
  checked: number;
  firstBrokenSeq?: number;
  reason?: string;
}

@ApiTags('audit')
@ApiBearerAuth()
@ApiAuthResponses()
@UseGuards(BearerAuthGuard)
@Controller('api/v1/audit')
export class VerifyController {
  constructor(
    private readonly verifier: ChainVerifier,
    private readonly auth: AuditAuth,
  ) {}

  /** Re-walks the hash chain from the first decision and names the first broken link. */
  @Get('verify')
  @ApiOperation({
    summary: 'Verify the hash chain',
    description: 'Walks the whole log; needs cluster-wide access since it reads every decision.',
  })
  async verify(@CurrentCaller() caller: Caller): Promise<VerifyView> {
    await this.auth.requireAny(caller, [null]);
    const report = await this.verifier.verify();
    return report.ok
      ? { ok: true, checked: report.checked }
      : {
          ok: false,
          checked: report.checked,
          firstBrokenSeq: Number(report.firstBrokenSeq),
          reason: report.reason,
        };
  }
}
