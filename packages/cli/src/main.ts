#!/usr/bin/env node
import { Command, Option } from 'commander';
import { AuditApiError, AuditClient } from './audit-client.js';
import { loadCliConfig } from './config.js';
import { parseObjectPath, UsageError } from './object-ref.js';
import { renderWho } from './commands/who.js';
import { registerHistory } from './commands/history.js';
import { registerEvents } from './commands/events.js';
import { registerCluster } from './commands/cluster-commands.js';
import { registerAudit } from './commands/audit.js';
import { registerImageCommands } from './commands/image-commands.js';
import { EXIT_CODES, registerObjects } from './commands/objects.js';
import { addExamples } from './commands/examples.js';
import { registerCanary } from './commands/canary.js';

/** Builds the `capstan` program; I/O goes through the given writers so tests can run it in-process. */
export function program(
  out: (s: string) => void,
  env?: NodeJS.ProcessEnv,
  err: (s: string) => void = out,
  /** Ends long-running commands (`events --follow`); the binary simply exits on Ctrl-C instead. */
  signal?: AbortSignal,
): Command {
  const config = loadCliConfig(env);
  const cmd = new Command('capstan').description('Capstan: GitOps and progressive delivery for Kubernetes');
  const server = new Option('--server <url>', 'audit API base URL').default(config.CAPSTAN_AUDIT_URL);
  const output = new Option('-o, --output <format>', 'output format')
    .choices(['table', 'json'])
    .default('table');

  cmd
    .command('who')
    .description('who deployed an object: every decision that touched it, with commit, author and committer')
    .argument('<object>', '<namespace>/<kind>/<name>, or <kind>/<name> for cluster-scoped objects')
    .addOption(server)
    .addOption(output)
    .option('--limit <n>', 'how many decisions', (v) => Number.parseInt(v, 10), 20)
    .action(async (object: string, opts: { server: string; output: string; limit: number }) => {
      const entries = await new AuditClient(opts.server, config.CAPSTAN_TOKEN).history(
        parseObjectPath(object),
        opts.limit,
      );
      out(opts.output === 'json' ? JSON.stringify(entries, null, 2) : renderWho(entries));
    });
  registerHistory(cmd, out, { server: config.CAPSTAN_AUDIT_URL, token: config.CAPSTAN_TOKEN });
  registerEvents(cmd, out, err, { server: config.CAPSTAN_AUDIT_URL, token: config.CAPSTAN_TOKEN }, signal);
  registerCluster(cmd, out, err, config);
  registerAudit(cmd, out, { server: config.CAPSTAN_AUDIT_URL, token: config.CAPSTAN_TOKEN });
  registerImageCommands(cmd, out, config);
  registerObjects(cmd, out, err, config, signal);
  registerCanary(cmd, out, config, signal);
  addExamples(cmd);
  cmd.addHelpText('after', EXIT_CODES);
  return cmd;
}

/** Runs the CLI; returns the exit code (2 for usage errors, 1 for API errors). */
export async function run(
  argv: string[],
  out: (s: string) => void,
  err: (s: string) => void,
  env?: NodeJS.ProcessEnv,
  signal?: AbortSignal,
): Promise<number> {
  try {
    const cli = program(out, env, err, signal);
    // Subcommands copy these settings only when created, so set them on each: a bad option value
    // must come back as an exit code here, not end the caller's process.
    const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
    for (const c of all(cli)) c.exitOverride().configureOutput({ writeOut: out, writeErr: err });
    await cli.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`error: ${e.message}`);
      return 2;
    }
    if (e instanceof AuditApiError) {
      err(`error: ${e.message}`);
      return 1;
    }
    const code = (e as { exitCode?: unknown }).exitCode;
    if (typeof code === 'number') return code; // commander already printed its message
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
