import type { Command } from 'commander';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { parseDuration } from '@capstan/gitops-core';
import type { CliConfig } from '../config.js';
import { UsageError } from '../object-ref.js';
import { CommandError, parseSyncRef, requestReconcile } from './reconcile.js';
import { diffSync, renderDiff } from './diff.js';

/**
 * An exit code for `run` without a message: commander's own convention (`exitCode`), which
 * `run` returns as is. `diff` uses it to say "there are changes".
 */
class ExitWith extends Error {
  constructor(readonly exitCode: number) {
    super(`exit ${exitCode}`);
  }
}

/** `capstan reconcile` and `capstan diff`: commands that talk to the cluster (KUBECONFIG). */
export function registerCluster(
  cmd: Command,
  out: (s: string) => void,
  err: (s: string) => void,
  config: CliConfig,
): void {
  const kube = () => createKubeConfig(config.KUBECONFIG);
  const failed = (e: unknown): never => {
    if (e instanceof UsageError || e instanceof ExitWith) throw e;
    const code = e instanceof CommandError ? e.exitCode : 3;
    err(`error: ${e instanceof Error ? e.message : String(e)}`);
    throw new ExitWith(code);
  };

  cmd
    .command('reconcile')
    .description('reconcile a Sync now; with --wait, wait until it is handled and report Ready')
    .argument('<sync>', 'sync/<name>')
    .option('-n, --namespace <ns>', 'namespace of the Sync', 'default')
    .option('--wait', 'wait until the reconciler handled the request', false)
    .option('--timeout <duration>', 'how long --wait waits', '5m')
    .action(async (ref: string, opts: { namespace: string; wait: boolean; timeout: string }) => {
      const name = parseSyncRef(ref);
      const code = await requestReconcile(
        new CapstanResources(kube()),
        {
          namespace: opts.namespace,
          name,
          wait: opts.wait,
          timeoutMs: parseDuration(opts.timeout),
          now: new Date(),
        },
        out,
      ).catch(failed);
      if (code !== 0) throw new ExitWith(code);
    });

  cmd
    .command('diff')
    .description(
      'what reconciling a Sync would change (server-side dry-run); exit 0 none, 1 changes, >1 error',
    )
    .argument('<sync>', 'sync/<name>')
    .option('-n, --namespace <ns>', 'namespace of the Sync', 'default')
    .option('--path <folder>', "a local folder to render instead of the Sync's path in Git")
    .option('--ref <ref>', 'a branch, tag or commit of the Sync repository')
    .option('--field-manager <name>', "the reconciler's field manager", 'capstan')
    .action(
      async (ref: string, opts: { namespace: string; path?: string; ref?: string; fieldManager: string }) => {
        const name = parseSyncRef(ref);
        if (opts.path && opts.ref) throw new UsageError('--path and --ref cannot be used together');
        const entries = await diffSync(kube(), {
          namespace: opts.namespace,
          name,
          ...(opts.path ? { path: opts.path } : {}),
          ...(opts.ref ? { ref: opts.ref } : {}),
          fieldManager: opts.fieldManager,
          cacheDir: config.CAPSTAN_CACHE_DIR,
          helm: config.HELM_BIN,
          kustomize: config.KUSTOMIZE_BIN,
        }).catch(failed);
        out(renderDiff(entries));
        if (entries.length > 0) throw new ExitWith(1);
      },
    );
}
