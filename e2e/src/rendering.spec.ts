import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, readObject, repoRoot } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

// Rendering end to end: a Flux v1 repository (namespaces, workloads, a helm.fluxcd.io/v1
// HelmRelease with its chart in the same repository, fluxcd.io/ignore annotations) deploys
// unchanged, a kustomize overlay deploys, and a chart that fails to render stops the Sync.
const ada: Person = { name: 'Ada Lovelace', email: 'ada@example.com' };

interface DecisionItem {
  action: string;
  reason: string;
  message: string;
}

/** A fixture folder as files for GitRepo.write, with the per-run tokens filled in (see fixtures/README.md). */
async function fixture(name: string, tokens: Record<string, string>): Promise<Record<string, string>> {
  const base = join(repoRoot, 'e2e', 'fixtures', name);
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else {
        let content = await readFile(full, 'utf8');
        for (const [token, value] of Object.entries(tokens)) content = content.replaceAll(token, value);
        out[relative(base, full)] = content;
      }
    }
  };
  await walk(base);
  return out;
}

describe('rendering: plain YAML, kustomize, Helm and Flux v1 HelmReleases', () => {
  const id = randomBytes(3).toString('hex');
  const fluxNs = `flux-${id}`;
  let platform: Platform;
  let resources: CapstanResources;
  const repos: GitRepo[] = [];

  const syncFor = (name: string, url: string, path: string) => repositoryAndSync(name, url, path);
  const applied = (name: string, sha: string) =>
    waitFor(`Sync ${name} applied ${sha.slice(0, 8)} and Ready`, async () => {
      const s = await resources.get('Sync', 'default', name);
      const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
      return s.status?.lastAppliedRevision === `main@sha1:${sha}` && ready?.status === 'True' ? s : undefined;
    });

  before(async () => {
    // The Flux v1 repository's HelmRelease reads values the platform team keeps in `default`, a
    // cross-namespace reference that this installation allows (it is off by default).
    platform = await Platform.start({ ALLOW_CROSS_NAMESPACE_REFS: 'true' });
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    // Values the platform team keeps in the cluster, read through valuesFrom.configMapKeyRef.
    await applyYaml(
      platform.api,
      `apiVersion: v1
kind: ConfigMap
metadata: {name: greeter-values-${id}, namespace: default}
data:
  values.yaml: |
    greeting: hello from the cluster
`,
    );
  });
  after(async () => {
    await platform.stop();
    for (const r of repos) await r.remove();
  });

  describe('a Flux v1 style repository', () => {
    const name = `flux-${id}`;
    let repo: GitRepo;
    let good = '';

    it('deploys unchanged: namespaces, workloads, a git-chart HelmRelease, ignore annotations honoured', async () => {
      repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-flux-${id}`));
      repos.push(repo);
      await repo.write(await fixture('flux-v1', { __ID__: id, __REPO_URL__: repo.url }));
      good = repo.commit('Flux v1 repository', ada);
      await applyYaml(platform.api, syncFor(name, repo.url, './'));

      const sync = await applied(name, good);
      const web = await readObject<{ spec: { replicas: number } }>(
        platform.api,
        'apps/v1',
        'Deployment',
        fluxNs,
        'web',
      );
      assert.equal(web?.spec.replicas, 1);
      assert.ok(await readObject(platform.api, 'v1', 'Service', fluxNs, 'web'));

      // The HelmRelease was rendered (release name from spec.releaseName); the HelmRelease object
      // itself exists too (helm.fluxcd.io/v1 CRD from the chart), with Helm Operator's status.
      const greeter = await readObject<{
        spec: { replicas: number; template: { spec: { containers: { image: string }[] } } };
      }>(platform.api, 'apps/v1', 'Deployment', fluxNs, 'greeter');
      assert.equal(greeter?.spec.replicas, 2, 'inline values win over the chart');
      assert.equal(greeter.spec.template.spec.containers[0]?.image, 'nginx:1.27');
      const settings = await readObject<{ data: Record<string, string> }>(
        platform.api,
        'v1',
        'ConfigMap',
        fluxNs,
        'greeter-settings',
      );
      assert.deepEqual(settings?.data, { greeting: 'hello from the cluster', environment: 'production' });
      const ids = (sync.status?.inventory?.entries ?? []).map((e) => e.id);
      assert.ok(
        ids.includes(`${fluxNs}_greeter_helm.fluxcd.io_HelmRelease`),
        `the HelmRelease is in the inventory: ${ids.join(', ')}`,
      );
      const hr = await waitFor('HelmRelease status', async () => {
        const o = await readObject<{
          status?: { phase?: string; releaseName?: string; releaseStatus?: string; revision?: string };
        }>(platform.api, 'helm.fluxcd.io/v1', 'HelmRelease', fluxNs, 'greeter');
        return o?.status?.phase ? o.status : undefined;
      });
      assert.deepEqual(
        [hr.phase, hr.releaseName, hr.releaseStatus, hr.revision],
        ['Deployed', 'greeter', 'deployed', '0.3.0'],
      );
      assert.ok(ids.includes(`${fluxNs}_greeter_apps_Deployment`));

      // fluxcd.io/ignore: "true" never reaches the cluster; sync_only is applied.
      assert.equal(await readObject(platform.api, 'v1', 'ConfigMap', fluxNs, 'hand-managed'), undefined);
      assert.ok(!ids.includes(`${fluxNs}_hand-managed__ConfigMap`));
      const kept = await readObject<{ data: Record<string, string> }>(
        platform.api,
        'v1',
        'ConfigMap',
        fluxNs,
        'keep-forever',
      );
      assert.deepEqual(kept?.data, { kept: 'yes' });
    });

    it('fails a chart that does not render as that release alone: its file named, a failed decision, nothing of it applied', async () => {
      const release = (await readFile(join(repoRoot, 'e2e/fixtures/flux-v1/releases/greeter.yaml'), 'utf8'))
        .replaceAll('__ID__', id)
        .replaceAll('__REPO_URL__', repo.url);
      await repo.write({
        // null deletes the chart's default: the template's `required` fails.
        'releases/greeter.yaml': release.replace(
          'replicaCount: 2',
          'replicaCount: 4\n    image: {repository: null}',
        ),
      });
      const bad = repo.commit('Break the greeter image', ada);

      // Each HelmRelease is its own release (Helm Operator): the Sync applies the rest.
      const sync = await waitFor('Sync attempted the broken release', async () => {
        const s = await resources.get('Sync', 'default', name);
        return s.status?.lastAttemptedRevision === `main@sha1:${bad}` &&
          !s.status.conditions?.some((c) => c.type === 'Reconciling')
          ? s
          : undefined;
      });
      const greeterStatus = sync.status?.releases?.find((r) => r.name === 'greeter');
      assert.equal(greeterStatus?.phase, 'Failed');
      assert.match(greeterStatus.message, /releases\/greeter\.yaml/);
      assert.match(greeterStatus.message, /image\.repository is required/);

      const decision = await waitFor('failed decision', async () =>
        (
          await platform.auditGet<{ items: DecisionItem[] }>(
            `/api/v1/decisions?revision=${encodeURIComponent(`main@sha1:${bad}`)}&limit=500`,
          )
        ).items.find((d) => d.action === 'failed'),
      );
      assert.equal(decision.reason, 'ReleaseFailed');
      assert.match(decision.message, /releases\/greeter\.yaml/);
      const greeter = await readObject<{ spec: { replicas: number } }>(
        platform.api,
        'apps/v1',
        'Deployment',
        fluxNs,
        'greeter',
      );
      assert.equal(greeter?.spec.replicas, 2, 'nothing of the broken release was applied, nor pruned');
      assert.equal(await readObject(platform.api, 'v1', 'ConfigMap', fluxNs, 'hand-managed'), undefined);
    });
  });

  it('deploys a kustomize overlay over its base', async () => {
    const name = `kust-${id}`;
    const repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-kust-${id}`));
    repos.push(repo);
    await repo.write(await fixture('kustomize', { __ID__: id }));
    const sha = repo.commit('Kustomize base and staging overlay', ada);
    await applyYaml(platform.api, syncFor(name, repo.url, 'overlays/staging'));

    await applied(name, sha);
    const ns = `kust-${id}`;
    const api = await readObject<{ spec: { replicas: number } }>(
      platform.api,
      'apps/v1',
      'Deployment',
      ns,
      'staging-api',
    );
    assert.equal(api?.spec.replicas, 3);
    const settings = await readObject<{ data: Record<string, string> }>(
      platform.api,
      'v1',
      'ConfigMap',
      ns,
      'staging-api-settings',
    );
    assert.deepEqual(settings?.data, { level: 'staging' });
    assert.equal(await readObject(platform.api, 'apps/v1', 'Deployment', ns, 'api'), undefined);
  });
});
