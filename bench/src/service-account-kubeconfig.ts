import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { ObjectApi } from '@capstan/kube';
import { applyYaml } from '@capstan/e2e';

const NAMESPACE = 'capstan-bench-system';
const NAME = 'capstan-reconciler';

/**
 * A kubeconfig that authenticates as a ServiceAccount bound to cluster-admin, written to `dir`.
 *
 * WHY: in a real install the reconciler is a ServiceAccount, and so are the tenants it
 * impersonates. The cluster's admin kubeconfig is in `system:masters`, which API Priority and
 * Fairness exempts from queueing while ServiceAccounts queue, so a baseline run as admin and an
 * impersonating run would differ by more than impersonation. Both sides of a comparison use this.
 */
export async function serviceAccountKubeconfig(
  adminKubeconfigPath: string,
  api: ObjectApi,
  dir: string,
): Promise<string> {
  await applyYaml(
    api,
    `apiVersion: v1
kind: Namespace
metadata: {name: ${NAMESPACE}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: ${NAME}, namespace: ${NAMESPACE}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ${NAMESPACE}-${NAME}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: ${NAME}, namespace: ${NAMESPACE}}]
`,
  );
  const admin = new KubeConfig();
  admin.loadFromFile(adminKubeconfigPath);
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    namespace: NAMESPACE,
    name: NAME,
    body: { spec: { expirationSeconds: 24 * 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error(`${adminKubeconfigPath}: no current cluster`);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: NAME, token: token.status?.token }],
    contexts: [{ name: NAME, cluster: cluster.name, user: NAME }],
    currentContext: NAME,
  });
  const path = join(dir, 'reconciler-serviceaccount.kubeconfig');
  await writeFile(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}
