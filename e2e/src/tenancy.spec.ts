import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy } from '@kubernetes/client-node';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';

// Tenancy, tried as an attacker with write access to one team's repository would: two tenants
// with restricted ServiceAccounts on the real API server (RBAC on), the reconciler impersonating
// them. Each attack below succeeded before impersonation and cross-namespace checks existed.
const mallory: Person = { name: 'Mallory', email: 'mallory@example.com' };

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
interface Decision {
  action: string;
  reason: string;
  message: string;
  evidence: { refusals?: { policy: string; rule: string; object?: string }[] };
}

void describe('tenancy: a tenant gets exactly its ServiceAccount’s rights', () => {
  const id = randomBytes(3).toString('hex');
  const teamA = `ta-${id}`;
  const teamB = `tb-${id}`;
  const governed = `tc-${id}`;
  const bSecret = `b-password-${id}`;
  let platform: Platform;
  const repos: GitRepo[] = [];

  const newRepo = async (name: string, files: Record<string, string>) => {
    const repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-tenancy-${id}-${name}`));
    repos.push(repo);
    await repo.write(files);
    repo.commit(`${name}: initial`, mallory);
    return repo;
  };
  /** A GitRepository and a Sync of the same name in a tenant's namespace. */
  const tenantSync = (ns: string, name: string, url: string, path: string, spec = '') =>
    applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${name}, namespace: ${ns}}
spec: {url: "${url}", ref: {branch: main}, interval: 1s}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${name}, namespace: ${ns}}
spec: {sourceRef: {kind: GitRepository, name: ${name}}, path: "${path}", interval: 10m${spec ? `, ${spec}` : ''}}
`,
    );
  const readyOf = async (apiVersion: string, kind: string, ns: string, name: string) =>
    (
      await readObject<{ status?: { conditions?: Condition[] } }>(platform.api, apiVersion, kind, ns, name)
    )?.status?.conditions?.find((c) => c.type === 'Ready');
  const syncReady = (ns: string, name: string) => readyOf('capstan.dev/v1alpha1', 'Sync', ns, name);
  const waitReason = (ns: string, name: string, reason: string, timeoutMs = 60_000) =>
    waitFor(
      `Sync ${ns}/${name} Ready=False ${reason}`,
      async () => {
        const ready = await syncReady(ns, name);
        return ready?.status === 'False' && ready.reason === reason ? ready : undefined;
      },
      timeoutMs,
    );
  const configMap = (ns: string, name: string) =>
    readObject<{ data?: Record<string, string> }>(platform.api, 'v1', 'ConfigMap', ns, name);

  before(async () => {
    platform = await Platform.start({
      // Syncs that name no account act as `deployer` of their namespace, never as Capstan.
      DEFAULT_SERVICE_ACCOUNT: 'deployer',
      TENANCY_POLICIES: 'enabled',
    });
    // Each tenant: a namespace, a `deployer` that administers that namespace only (Kubernetes'
    // own `admin` role) and may write HelmReleases there. Team B keeps a Secret.
    const tenant = (ns: string) => `apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ${ns}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer-admin, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ${ns}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: releases, namespace: ${ns}}
rules: [{apiGroups: [capstan.dev, helm.fluxcd.io], resources: [helmreleases], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer-releases, namespace: ${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: releases}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ${ns}}]
`;
    // `wide`: an account a platform admin gave cluster-wide rights (in team A and the governed namespace).
    const wide = (ns: string) => `apiVersion: v1
kind: ServiceAccount
metadata: {name: wide, namespace: ${ns}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: wide-${ns}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: wide, namespace: ${ns}}]
`;
    await applyYaml(
      platform.api,
      `${tenant(teamA)}---
${tenant(teamB)}---
${tenant(governed)}---
${wide(teamA)}---
${wide(governed)}---
apiVersion: v1
kind: Secret
metadata: {name: db, namespace: ${teamB}}
stringData:
  values.yaml: |
    password: ${bSecret}
`,
    );
  });

  after(async () => {
    // Nothing of this spec may keep reconciling for the specs after it on the shared cluster.
    for (const ns of [teamA, teamB, governed])
      await platform.api
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
        .catch(() => undefined);
    for (const name of [`wide-${teamA}`, `wide-${governed}`, `pwn-${id}`])
      await platform.api
        .delete({
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'ClusterRoleBinding',
          metadata: { name },
        })
        .catch(() => undefined);
    await platform.api
      .delete({ apiVersion: 'capstan.dev/v1alpha1', kind: 'TenancyPolicy', metadata: { name: `tp-${id}` } })
      .catch(() => undefined);
    await platform.stop();
    for (const r of repos) await r.remove();
  });

  it('refuses a ClusterRoleBinding to cluster-admin, with the account named and with it omitted', async () => {
    const repo = await newRepo('escalate', {
      'escalate/crb.yaml': `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: pwn-${id}}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ${teamA}}]
`,
    });
    await tenantSync(teamA, 'named', repo.url, './escalate', 'serviceAccountName: deployer');
    await tenantSync(teamA, 'omitted', repo.url, './escalate');
    for (const name of ['named', 'omitted']) {
      const ready = await waitReason(teamA, name, 'ApplyFailed');
      assert.match(ready.message, /ClusterRoleBinding\/pwn-/);
      assert.match(ready.message, new RegExp(`system:serviceaccount:${teamA}:deployer`));
      assert.match(ready.message, /forbidden/);
    }
    assert.equal(
      await readObject(platform.api, 'rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', '', `pwn-${id}`),
      undefined,
    );
  });

  it('refuses a sourceRef into another tenant’s namespace', async () => {
    const bRepo = await newRepo('b-private', {
      'app/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b-content}\ndata: {secret: "${bSecret}"}\n`,
    });
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: private, namespace: ${teamB}}
spec: {url: "${bRepo.url}", ref: {branch: main}, interval: 1s}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: borrow, namespace: ${teamA}}
spec: {sourceRef: {kind: GitRepository, name: private, namespace: ${teamB}}, path: ./app, interval: 10m, targetNamespace: ${teamA}}
`,
    );
    const ready = await waitReason(teamA, 'borrow', 'CrossNamespaceRefNotAllowed');
    assert.match(
      ready.message,
      new RegExp(`spec.sourceRef: GitRepository ${teamB}/private is in another namespace than ${teamA}`),
    );
    assert.equal(await configMap(teamA, 'b-content'), undefined);
  });

  it('refuses a dependsOn naming another tenant’s Sync, and applies nothing meanwhile', async () => {
    const aRepo = await newRepo('a-waits', {
      'app/cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a-waits}\ndata: {k: v}\n',
    });
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: waits, namespace: ${teamA}}
spec: {url: "${aRepo.url}", ref: {branch: main}, interval: 1s}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: waits, namespace: ${teamA}}
spec: {sourceRef: {kind: GitRepository, name: waits}, path: ./app, interval: 10m, targetNamespace: ${teamA}, dependsOn: [{name: borrow}, {name: infra, namespace: ${teamB}}]}
`,
    );
    const ready = await waitReason(teamA, 'waits', 'CrossNamespaceRefNotAllowed');
    assert.match(
      ready.message,
      new RegExp(`spec.dependsOn\\[1\\]: Sync ${teamB}/infra is in another namespace than ${teamA}`),
    );
    assert.equal(await configMap(teamA, 'a-waits'), undefined);
  });

  it('refuses valuesFrom naming another tenant’s Secret; the rest of the Sync applies', async () => {
    const repo = await newRepo('leak', {});
    await repo.write({
      'charts/leak/Chart.yaml': 'apiVersion: v2\nname: leak\nversion: 1.0.0\n',
      'charts/leak/templates/cm.yaml':
        'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: leak}\ndata: {password: {{ .Values.password | default "none" | quote }}}\n',
      'deploy/release.yaml': `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: leak, namespace: ${teamA}}
spec:
  releaseName: leak
  chart: {git: "${repo.url}", ref: main, path: charts/leak}
  valuesFrom:
    - secretKeyRef: {name: db, namespace: ${teamB}, key: values.yaml}
`,
      'deploy/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain, namespace: ${teamA}}\ndata: {ok: "yes"}\n`,
    });
    repo.commit('Read team B values', mallory);
    await tenantSync(teamA, 'leak', repo.url, './deploy');
    const release = await waitFor('HelmRelease leak refused', async () => {
      const ready = await readyOf('helm.fluxcd.io/v1', 'HelmRelease', teamA, 'leak');
      return ready?.status === 'False' ? ready : undefined;
    });
    assert.equal(release.reason, 'CrossNamespaceRefNotAllowed');
    assert.match(
      release.message,
      new RegExp(`spec.valuesFrom\\[0\\]: Secret ${teamB}/db is in another namespace than ${teamA}`),
    );
    assert.equal((await configMap(teamA, 'plain'))?.data?.['ok'], 'yes', 'the rest of the Sync applied');
    assert.equal(await configMap(teamA, 'leak'), undefined);
  });

  it('writes a HelmRelease’s objects as the HelmRelease’s own account', async () => {
    const repo = await newRepo('narrow', {});
    await repo.write({
      'charts/spill/Chart.yaml': 'apiVersion: v2\nname: spill\nversion: 1.0.0\n',
      'charts/spill/templates/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: spill, namespace: ${teamB}}\ndata: {v: "1"}\n`,
      'deploy/release.yaml': `apiVersion: capstan.dev/v1alpha1
kind: HelmRelease
metadata: {name: spill, namespace: ${teamA}}
spec:
  serviceAccountName: deployer
  chart: {git: {path: charts/spill}}
`,
    });
    repo.commit('A release that writes into team B', mallory);
    // The Sync's own account could write into team B; the release's may not.
    await tenantSync(teamA, 'narrow', repo.url, './deploy', 'serviceAccountName: wide');
    const ready = await waitReason(teamA, 'narrow', 'ApplyFailed');
    assert.match(ready.message, new RegExp(`${teamB}/ConfigMap/spill`));
    assert.match(ready.message, new RegExp(`system:serviceaccount:${teamA}:deployer`));
    assert.equal(await configMap(teamB, 'spill'), undefined);
  });

  it('prunes and corrects drift only as the Sync’s account', async () => {
    const repo = await newRepo('scope', {
      'scope/a.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep, namespace: ${teamA}}\ndata: {v: "1"}\n`,
      'scope/b.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: victim, namespace: ${teamB}}\ndata: {v: "1"}\n`,
    });
    // Set up by a platform admin with a wide account: it writes into team B.
    await tenantSync(teamA, 'scope', repo.url, './scope', 'serviceAccountName: wide');
    await waitFor('victim applied into team B', async () =>
      (await configMap(teamB, 'victim'))?.data?.['v'] === '1' ? true : undefined,
    );
    // The Sync is handed to the tenant: its own account from now on.
    await platform.api.patch(
      {
        apiVersion: 'capstan.dev/v1alpha1',
        kind: 'Sync',
        metadata: { name: 'scope', namespace: teamA },
        spec: { serviceAccountName: 'deployer' },
      },
      undefined,
      undefined,
      'kubectl-edit',
      undefined,
      PatchStrategy.MergePatch,
    );
    await waitReason(teamA, 'scope', 'ApplyFailed');
    // Team B changes its object: a correction as team A's account is refused, the change stays.
    const failedCorrections = async () => {
      const text = await (await fetch(`${platform.reconcilerUrl}/metrics`)).text();
      return Number(
        /capstan_drift_corrections_total\{[^}]*result="failed"[^}]*\} (\d+)/.exec(text)?.[1] ?? 0,
      );
    };
    const before = await failedCorrections();
    await platform.api.patch(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'victim', namespace: teamB },
        data: { v: 'mine' },
      },
      undefined,
      undefined,
      'team-b',
      undefined,
      PatchStrategy.MergePatch,
    );
    await waitFor('drift correction refused', async () =>
      (await failedCorrections()) > before ? true : undefined,
    );
    assert.equal((await configMap(teamB, 'victim'))?.data?.['v'], 'mine');
    // The tenant removes it from Git: prune as team A's account is refused, the object stays.
    await repo.write({ 'scope/b.yaml': null });
    const sha = repo.commit('Drop team B object', mallory);
    const ready = await waitFor('prune refused', async () => {
      const sync = await readObject<{
        status?: { lastAttemptedRevision?: string; conditions?: Condition[] };
      }>(platform.api, 'capstan.dev/v1alpha1', 'Sync', teamA, 'scope');
      const r = sync?.status?.conditions?.find((c) => c.type === 'Ready');
      return sync?.status?.lastAttemptedRevision === `main@sha1:${sha}` && r?.status === 'False'
        ? r
        : undefined;
    });
    assert.match(ready.message, /ConfigMap\/victim/);
    assert.equal(ready.reason, 'ApplyFailed');
    assert.match(ready.message, /forbidden/);
    assert.ok(await configMap(teamB, 'victim'), 'team B’s object was not pruned');
  });

  it('refuses what RBAC allows but a TenancyPolicy does not, naming the rule in status and audit log', async () => {
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: TenancyPolicy
metadata: {name: tp-${id}}
spec:
  namespaces: [${governed}]
  sourceRepos: ["file://*/capstan-e2e-tenancy-${id}-governed/*"]
  destinationNamespaces: [${governed}]
`,
    );
    const repo = await newRepo('governed', {
      'app/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${governed}-extra}\n`,
      'app/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: ${governed}}\ndata: {v: "1"}\n`,
    });
    await tenantSync(governed, 'governed', repo.url, './app', 'serviceAccountName: wide');
    const ready = await waitReason(governed, 'governed', 'TenancyPolicyDenied');
    assert.match(ready.message, new RegExp(`TenancyPolicy tp-${id} \\(rule clusterResources\\)`));
    assert.equal(await readObject(platform.api, 'v1', 'Namespace', '', `${governed}-extra`), undefined);
    assert.equal(await configMap(governed, 'cm'), undefined, 'nothing of the commit was written');

    const other = await newRepo('elsewhere', {
      'app/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: ${governed}}\n`,
    });
    await tenantSync(governed, 'elsewhere', other.url, './app', 'serviceAccountName: wide');
    const source = await waitReason(governed, 'elsewhere', 'TenancyPolicyDenied');
    assert.match(source.message, /rule sourceRepos/);

    const refusal = await waitFor('the refusal in the audit log', async () =>
      (
        await platform.auditGet<{ items: Decision[] }>(
          `/api/v1/decisions?sync=${governed}/governed&action=failed`,
        )
      ).items.find((d) => d.reason === 'TenancyPolicyDenied'),
    );
    assert.deepEqual(
      refusal.evidence.refusals?.map(({ policy, rule, object }) => ({ policy, rule, object })),
      [{ policy: `tp-${id}`, rule: 'clusterResources', object: `Namespace/${governed}-extra` }],
    );
  });
});
