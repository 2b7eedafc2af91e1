import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run as capstan } from '@capstan/cli';

/**
 * The demo's look at a change before it is committed: `capstan diff --working-tree` renders the
 * uncommitted files through the reconciler's own recipe and validation, so an Ingress written
 * for an old cluster (extensions/v1beta1, removed in Kubernetes 1.22) is refused with the file
 * and the apiVersion to use, as the reconciler would refuse the commit.
 */
export async function showValidation(
  say: (s: string) => void,
  workTree: string,
  kubeconfigPath: string,
): Promise<void> {
  const file = join(workTree, 'apps/hello/ingress.yaml');
  await writeFile(
    file,
    'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: hello-web, namespace: demo}\nspec: {backend: {serviceName: hello-web, servicePort: 80}}\n',
  );
  try {
    say(`an uncommitted Ingress for an old cluster: capstan diff sync/demo --working-tree ${workTree}\n`);
    const code = await capstan(
      ['diff', 'sync/demo', '--working-tree', workTree],
      (s) => process.stdout.write(`${s}\n`),
      (s) => process.stdout.write(`${s}\n`),
      { KUBECONFIG: kubeconfigPath },
    );
    say(`(exit ${code}: the reconciler would refuse this commit the same way, before writing anything)\n`);
  } finally {
    await rm(file, { force: true });
  }
}
