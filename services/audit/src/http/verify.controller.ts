import { Controller, Get } from '@nestjs/common';
import { ChainVerifier } from '../verification/chain-verifier.service.js';

export interface VerifyView {
  ok: boolean;
  checked: number;
  firstBrokenSeq?: number;
  reason?: string;
}

@Controller('api/v1/audit')
export class VerifyController {
  constructor(private readonly verifier: ChainVerifier) {}

  /** Re-walks the hash chain from the first decision and names the first broken link. */
  @Get('verify')
  async verify(): Promise<VerifyView> {
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
