import { Option, type Command } from 'commander';
import { AuditClient } from '../audit-client.js';

export interface VerifyReport {
  ok: boolean;
  checked: number;
  firstBrokenSeq?: number;
  reason?: string;
}

/** Exits the command with a code after its output was printed (commander's own convention). */
export class CommandExit extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'CommandExit';
  }
}

/** One line a person can act on; pure. */
export function renderVerify(report: VerifyReport): string {
  if (report.ok) return `audit log intact: ${report.checked} decisions, every hash link verified`;
  return `audit log BROKEN at seq ${report.firstBrokenSeq ?? '?'} (${report.reason ?? 'hash mismatch'}); ${report.checked} decisions checked before it`;
}

/** `capstan audit verify`: re-walks the hash chain; exit 1 names the first broken link. */
export function registerAudit(
  cmd: Command,
  out: (s: string) => void,
  defaults: { server: string; token: string | undefined },
): void {
  const audit = cmd.command('audit').description('the audit log itself');
  audit
    .command('verify')
    .description('re-walk the hash chain and report the first broken link (exit 1 when broken)')
    .addOption(new Option('--server <url>', 'audit API base URL').default(defaults.server))
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .action(async (opts: { server: string; output: string }) => {
      const report = await new AuditClient(opts.server, defaults.token).verify();
      out(opts.output === 'json' ? JSON.stringify(report) : renderVerify(report));
      if (!report.ok) throw new CommandExit(1);
    });
}
