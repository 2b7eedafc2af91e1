import { Command } from 'commander';
import { createKubeConfig } from '@capstan/kube';
import type { CliConfig } from '../config.js';
import { UsageError } from '../object-ref.js';
import { parseKindRef } from './capstan-kinds.js';
import { renderChecks, runChecks } from './check.js';
import { bashCompletion, fishCompletion, zshCompletion } from './completion.js';
import { GET_HELP, getObjects, registerGetOption, type GetOptions } from './get.js';
import { CommandError } from './reconcile.js';
import { setSuspended, syncTree } from './tree.js';

/** An exit code for `run` without a message (commander's `exitCode` convention). */
class ExitWith extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

export const EXIT_CODES = `
Exit codes:
  0  success (tree: every object Current; check: every check passed)
  1  failure: an API error, an object not found, a failed check, an unhealthy tree, diff found changes
  2  usage error: unknown verb, kind, flag or a malformed argument
  3  the cluster could not be reached or refused the request`;

/**
 * `get`, `tree`, `suspend`, `resume`, `check` and `completion`: what a person runs to see and
 * steer Capstan's objects in the cluster (KUBECONFIG), and to check an installation.
 */
export function registerObjects(
  cmd: Command,
  out: (s: string) => void,
  err: (s: string) => void,
  config: CliConfig,
  signal?: AbortSignal,
): void {
  const kube = () => createKubeConfig(config.KUBECONFIG);
  const failed = (e: unknown): never => {
    if (e instanceof UsageError || e instanceof ExitWith) throw e;
    const code = e instanceof CommandError ? e.exitCode : (e as { code?: unknown }).code === 404 ? 1 : 3;
    const body = (e as { body?: unknown }).body;
    const detail =
      typeof body === 'string' ? ((JSON.parse(body) as { message?: string }).message ?? body) : undefined;
    err(`error: ${detail ?? (e instanceof Error ? e.message : String(e))}`);
    throw new ExitWith(code);
  };

  registerGetOption(
    cmd
      .command('get')
      .description('list Capstan objects with their Ready state, status, revision and age')
      .argument('<kind>', 'syncs, repositories, releases, canaries or images')
      .argument('[name]', 'only this object'),
  )
    .addHelpText('after', GET_HELP)
    .action(async (kind: string, name: string | undefined, opts: GetOptions) => {
      if (!['table', 'json', 'yaml'].includes(opts.output))
        throw new UsageError(`--output must be table, json or yaml, not "${opts.output}"`);
      const code = await getObjects(kube(), kind, name, opts, out, signal).catch(failed);
      if (code !== 0) throw new ExitWith(code);
    });

  cmd
    .command('tree')
    .description('the objects a Sync owns (its inventory) and the health of each')
    .argument('<sync>', 'sync/<name>')
    .option('-n, --namespace <ns>', 'namespace of the Sync', 'default')
    .addHelpText(
      'after',
      '\nExamples:\n  capstan tree sync/web\n  capstan tree sync/apps -n flux-system\n\nExit 0 when every object is Current, 1 when one is not.',
    )
    .action(async (ref: string, opts: { namespace: string }) => {
      const { kind, name } = parseKindRef(ref);
      const code = await syncTree(kube(), kind, opts.namespace, name, out).catch(failed);
      if (code !== 0) throw new ExitWith(code);
    });

  for (const [verb, suspend] of [
    ['suspend', true],
    ['resume', false],
  ] as const) {
    cmd
      .command(verb)
      .description(
        suspend
          ? 'stop reconciling an object (spec.suspend: true); drift and new commits are left alone'
          : 'reconcile a suspended object again (spec.suspend: false)',
      )
      .argument('<object>', '<kind>/<name>: sync/web, repository/app, release/podinfo, canary/web, image/web')
      .option('-n, --namespace <ns>', 'namespace of the object', 'default')
      .addHelpText(
        'after',
        `\nExamples:\n  capstan ${verb} sync/web\n  capstan ${verb} release/podinfo -n apps`,
      )
      .action(async (ref: string, opts: { namespace: string }) => {
        const { kind, name } = parseKindRef(ref);
        await setSuspended(kube(), kind, opts.namespace, name, suspend).catch(failed);
        out(`${kind.kind} ${opts.namespace}/${name} ${suspend ? 'suspended' : 'resumed'}`);
      });
  }

  cmd
    .command('check')
    .description(
      'check the cluster, CRDs, NATS, PostgreSQL and the Capstan services: reachable and of the right version',
    )
    .option('--nats <url>', 'NATS server', config.CAPSTAN_NATS_URL)
    .option('--database <url>', 'PostgreSQL URL (skipped when not given)', config.CAPSTAN_DATABASE_URL)
    .option('--server <url>', 'audit service base URL', config.CAPSTAN_AUDIT_URL)
    .option(
      '--service <name=url>',
      'another Capstan service to check (repeatable)',
      (v: string, acc: Record<string, string>) => {
        const [name, url] = v.split('=', 2);
        if (!name || !url) throw new UsageError(`--service wants <name>=<url>, got "${v}"`);
        return { ...acc, [name]: url };
      },
      {},
    )
    .addHelpText(
      'after',
      '\nExamples:\n  capstan check\n  capstan check --database postgresql://capstan@db/capstan --service reconciler=http://reconciler:8080\n\nExit 0 when every check passes, 1 when one fails.',
    )
    .action(
      async (opts: { nats: string; database?: string; server: string; service: Record<string, string> }) => {
        const results = await runChecks({
          kube,
          natsUrl: opts.nats,
          databaseUrl: opts.database,
          services: { audit: opts.server, ...opts.service },
        });
        out(renderChecks(results));
        if (results.some((r) => r.ok === false)) throw new ExitWith(1);
      },
    );

  cmd
    .command('completion')
    .description('print a shell completion script')
    .addArgument(
      new Command().createArgument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  source <(capstan completion bash)      # in ~/.bashrc\n  source <(capstan completion zsh)       # in ~/.zshrc\n  capstan completion fish | source',
    )
    .action((shell: 'bash' | 'zsh' | 'fish') => {
      out(
        shell === 'bash' ? bashCompletion(cmd) : shell === 'zsh' ? zshCompletion(cmd) : fishCompletion(cmd),
      );
    });
}
