import { run as capstan } from '@capstan/cli';

/**
 * The demo's look at what runs: `capstan get syncs -A` and `capstan tree sync/demo` against the
 * cluster, and where the web console is while the services run.
 */
export async function showWhatRuns(
  say: (s: string) => void,
  auditUrl: string,
  kubeconfigPath: string,
): Promise<void> {
  const env = { KUBECONFIG: kubeconfigPath };
  const print = (s: string) => process.stdout.write(`${s}\n`);
  for (const argv of [
    ['get', 'syncs', '-A'],
    ['tree', 'sync/demo'],
  ]) {
    say(`capstan ${argv.join(' ')}\n`);
    const code = await capstan(argv, print, (s) => process.stderr.write(`${s}\n`), env);
    // tree exits 1 while an object is not Current yet: worth seeing, not worth failing the demo.
    if (code !== 0) say(`(exit ${code})`);
    process.stdout.write('\n');
  }
  say(`web console (while the services run): ${auditUrl}/console/ (log in with a Kubernetes token)`);
}
