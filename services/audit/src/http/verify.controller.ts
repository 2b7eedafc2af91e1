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

  /** The newest verification this replica ran (on schedule or on request), without walking again. */
  @Get('verify/last')
  @ApiOperation({
    summary: 'The last verification of the hash chain',
    description: 'What the newest verification found and when; null before the first. Cluster-wide access.',
  })
  async last(@CurrentCaller() caller: Caller): Promise<{ check: (VerifyView & { at: string }) | null }> {
    await this.auth.requireAny(caller, [null]);
    const last = this.verifier.last;
    if (!last) return { check: null };
    const r = last.report;
    return {
      check: r.ok
        ? { ok: true, checked: r.checked, at: last.at.toISOString() }
        : {
            ok: false,
            checked: r.checked,
            firstBrokenSeq: Number(r.firstBrokenSeq),
            reason: r.reason,
            at: last.at.toISOString(),
          },
    };
  }

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
