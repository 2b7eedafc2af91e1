import { join } from 'node:path';
import type { ObjectApi } from '@capstan/kube';
import { GitRepo } from '../support/git-repo.js';
import { applyYaml, readObject } from '../support/kube.js';
import { waitFor } from '../support/wait.js';

type Condition = { type: string; status: string; reason?: string; message?: string };

/**
 * The demo's look at tenancy: a team's Sync acts as the team's ServiceAccount (impersonation),
 * so a commit in the team's repository that asks for cluster-admin is refused by the API server
 * itself (the whole commit: a failed commit applies nothing). Nothing of it reaches the cluster.
 */
export async function showTenancy(say: (s: string) => void, api: ObjectApi, home: string): Promise<void> {
  const ns = 'team-a';
  await applyYaml(
    api,
    `apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ${ns}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer-edit, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ${ns}}]
`,
  );
  const repo = await GitRepo.create(join(home, 'team-a-repo'));
  await repo.write({
    'deploy/config.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: ${ns}}\ndata: {color: blue}\n`,
    'deploy/escalate.yaml': `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: team-a-is-admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ${ns}}]
`,
  });
  repo.commit('Make team A cluster-admin', { name: 'Mallory', email: 'mallory@example.com' });
  say(`team A's repository asks for a ClusterRoleBinding to cluster-admin; its Sync runs as ${ns}/deployer`);
  await applyYaml(
    api,
    `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: team-a, namespace: ${ns}}
spec: {url: "${repo.url}", ref: {branch: main}, interval: 2s}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: team-a, namespace: ${ns}}
spec: {sourceRef: {kind: GitRepository, name: team-a}, path: ./deploy, interval: 5m, serviceAccountName: deployer}
`,
  );
  const refused = await waitFor(
    'team A Sync refused',
    async () => {
      const sync = await readObject<{ status?: { conditions?: Condition[] } }>(
        api,
        'capstan.dev/v1alpha1',
        'Sync',
        ns,
        'team-a',
      );
      const ready = sync?.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'False' ? ready : undefined;
    },
    120_000,
  );
  say(`Sync ${ns}/team-a Ready=False ${refused.reason ?? ''}: ${refused.message ?? ''}`);
  const binding = await readObject(
    api,
    'rbac.authorization.k8s.io/v1',
    'ClusterRoleBinding',
    '',
    'team-a-is-admin',
  );
  if (binding) throw new Error('the ClusterRoleBinding team-a-is-admin exists: impersonation did not hold');
  say(
    'no ClusterRoleBinding team-a-is-admin in the cluster: the API server refused it to team A’s account\n',
  );
}
