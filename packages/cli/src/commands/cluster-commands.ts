import type { Command } from 'commander';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { parseDuration } from '@capstan/gitops-core';
import type { CliConfig } from '../config.js';
import { UsageError } from '../object-ref.js';
import { CommandError, parseSyncRef, requestReconcile } from './reconcile.js';
import { WouldFailError, diffSync, renderDiff } from './diff.js';
import { urlRewritesFor } from './url-rewrites.js';

/** `capstan diff`'s exit code when the reconciler would record a failed decision for the revision. */
const DIFF_WOULD_FAIL = 4;

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
      'what reconciling a Sync would change (server-side dry-run); exit 0 no changes, 1 changes, 3 could not tell (cluster or a source unreachable), 4 the reconciler would refuse this revision',
    )
    .argument('<sync>', 'sync/<name>')
    .option('-n, --namespace <ns>', 'namespace of the Sync', 'default')
    .option('--path <folder>', "a local folder to render instead of the Sync's path in Git")
    .option('--ref <ref>', 'a branch, tag or commit of the Sync repository')
    .option(
      '--working-tree <dir>',
      "a local clone of the Sync's repository: diff its working tree, uncommitted files included",
    )
    .option('--field-manager <name>', "the reconciler's field manager", 'capstan')
    .action(
      async (
        ref: string,
        opts: { namespace: string; path?: string; ref?: string; workingTree?: string; fieldManager: string },
      ) => {
        const name = parseSyncRef(ref);
        if ([opts.path, opts.ref, opts.workingTree].filter(Boolean).length > 1)
          throw new UsageError('--path, --ref and --working-tree cannot be used together');
        const kc = kube();
        const { entries, failedReleases } = await urlRewritesFor(kc, config.CAPSTAN_URL_REWRITES)
          .then((urlRewrites) =>
            diffSync(kc, {
              namespace: opts.namespace,
              name,
              ...(opts.path ? { path: opts.path } : {}),
              ...(opts.ref ? { ref: opts.ref } : {}),
              ...(opts.workingTree ? { workingTree: opts.workingTree } : {}),
              fieldManager: opts.fieldManager,
              urlRewrites,
              cacheDir: config.CAPSTAN_CACHE_DIR,
              helm: config.HELM_BIN,
              kustomize: config.KUSTOMIZE_BIN,
            }),
          )
          .catch((e: unknown) => {
            if (!(e instanceof WouldFailError)) return failed(e);
            err(`the reconciler would refuse this revision: ${e.message}`);
            throw new ExitWith(DIFF_WOULD_FAIL);
          });
        out(renderDiff(entries));
        // A release left out on its own is that release's failure; the rest still applies.
        for (const release of failedReleases) err(`warning: left out: ${release}`);
        if (entries.length > 0) throw new ExitWith(1);
      },
    );
}
