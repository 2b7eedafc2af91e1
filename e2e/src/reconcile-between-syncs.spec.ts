import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as capstan } from '@capstan/cli';
import { CapstanResources, createKubeConfig, type Sync } from '@capstan/kube';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';

// dependsOn, suspend, `capstan reconcile` and `capstan diff`, through the running services and
// the CLI run in-process against the real API server.
const ada: Person = { name: 'Ada', email: 'ada@example.com' };

describe('reconcile: between Syncs, and the CLI', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `rbs-${id}`;
  const repoName = `rbs-${id}`;
  let platform: Platform;
  let repo: GitRepo;
  let resources: CapstanResources;
  let scratch: string;

  const get = (name: string) => resources.get('Sync', 'default', name);
  const condition = (s: Sync, type: string) => s.status?.conditions?.find((c) => c.type === type);
  const syncState = (name: string, pred: (s: Sync) => boolean, what: string) =>
    waitFor(
      `${name}: ${what}`,
      async () => {
        const s = await get(name);
        return pred(s) ? s : undefined;
      },
      90_000,
    );
  const sync = (name: string, path: string, extra = '') => `apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${name}, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${repoName}}, path: ${path}, interval: 10m${extra}}
`;
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await capstan(
      argv,
      (s) => out.push(s),
      (s) => err.push(s),
      {
        KUBECONFIG: platform.kubeconfigPath,
        CAPSTAN_CACHE_DIR: join(scratch, 'cli-cache'),
      },
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  before(async () => {
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    scratch = join(tmpdir(), `capstan-rbs-${id}`);
    repo = await GitRepo.create(join(scratch, 'repo'));
    await repo.write({
      'infra/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
      // Broken on purpose: infra is not Ready until it is fixed.
      'infra/broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n',
      'app/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: ${ns}}\ndata: {greeting: hello}\n`,
      'app/secret.yaml': `apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: ${ns}}\nstringData: {password: hunter2}\n`,
      'paused/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: paused, namespace: default}\ndata: {a: b}\n`,
    });
    repo.commit('initial', ada);
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${repoName}, namespace: default}
spec: {url: "${repo.url}", ref: {branch: main}, interval: 1s}
`,
    );
  });
  after(async () => {
    await platform.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('holds a Sync until its dependency is Ready at its latest revision', async () => {
    await applyYaml(platform.api, sync(`infra-${id}`, './infra'));
    await applyYaml(platform.api, sync(`app-${id}`, './app', `, dependsOn: [{name: infra-${id}}]`));
    const blocked = await syncState(
      `app-${id}`,
      (s) => condition(s, 'Ready')?.reason === 'DependencyNotReady',
      'DependencyNotReady',
    );
    assert.equal(condition(blocked, 'Ready')?.status, 'False');
    assert.match(condition(blocked, 'Ready')?.message ?? '', new RegExp(`default/infra-${id}`));
    assert.equal(await readObject(platform.api, 'v1', 'ConfigMap', ns, 'app'), undefined);

    await repo.write({ 'infra/broken.yaml': null });
    const fixed = repo.commit('fix infra', ada);
    const app = await syncState(
      `app-${id}`,
      (s) => condition(s, 'Ready')?.status === 'True',
      'Ready once infra is',
    );
    assert.equal(app.status?.lastAppliedRevision, `main@sha1:${fixed}`);
    const infra = await get(`infra-${id}`);
    assert.equal(infra.status?.lastAppliedRevision, `main@sha1:${fixed}`);
    assert.ok(await readObject(platform.api, 'v1', 'ConfigMap', ns, 'app'));
  });

  it('leaves a suspended Sync alone: nothing applied, status untouched', async () => {
    await applyYaml(platform.api, sync(`paused-${id}`, './paused', ', suspend: true'));
    // Another Sync of the same repository reconciling the next commit shows the commit was seen.
    await repo.write({
      'app/extra.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: ${ns}}\n`,
    });
    const sha = repo.commit('extra', ada);
    await syncState(
      `app-${id}`,
      (s) => s.status?.lastAppliedRevision === `main@sha1:${sha}`,
      'applied extra',
    );
    const paused = await get(`paused-${id}`);
    assert.equal(paused.status, undefined);
    assert.equal(await readObject(platform.api, 'v1', 'ConfigMap', 'default', 'paused'), undefined);
  });

  it('capstan reconcile --wait sets the request annotation and returns once it is handled', async () => {
    const result = await cli('reconcile', `sync/app-${id}`, '-n', 'default', '--wait', '--timeout', '60s');
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /reconciled/);
    const s = await get(`app-${id}`);
    const requested = s.metadata.annotations?.['capstan.dev/reconcile-requested-at'];
    assert.ok(requested);
    assert.equal(s.status?.lastHandledReconcileAt, requested);
    assert.equal((await cli('reconcile', 'sync/missing', '--wait')).code, 3);
    assert.equal((await cli('reconcile', 'deployment/x')).code, 2);
  });

  it('capstan diff shows nothing when in sync, and created/changed/pruned objects with Secrets masked', async () => {
    const clean = await cli('diff', `sync/app-${id}`);
    assert.equal(clean.code, 0, clean.out + clean.err);
    assert.match(clean.out, /No changes/);

    const local = join(scratch, 'local-app');
    await mkdir(local, { recursive: true });
    await writeFile(
      join(local, 'cm.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app, namespace: ${ns}}\ndata: {greeting: bonjour}\n`,
    );
    await writeFile(
      join(local, 'secret.yaml'),
      `apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: ${ns}}\nstringData: {password: correct-horse}\n`,
    );
    await writeFile(
      join(local, 'new.yaml'),
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: brand-new, namespace: ${ns}}\ndata: {a: b}\n`,
    );
    const changed = await cli('diff', `sync/app-${id}`, '--path', local);
    assert.equal(changed.code, 1, changed.err);
    assert.match(changed.out, new RegExp(`${ns}/ConfigMap/app changed`));
    assert.match(changed.out, /-\s+greeting: hello\n\+\s+greeting: bonjour/);
    assert.match(changed.out, new RegExp(`${ns}/ConfigMap/brand-new created`));
    assert.match(changed.out, new RegExp(`${ns}/Secret/creds changed`));
    assert.match(changed.out, new RegExp(`${ns}/ConfigMap/extra deleted \\(prune\\)`));
    assert.doesNotMatch(changed.out, /hunter2|correct-horse|aHVudGVyMg|Y29ycmVjdC1ob3JzZQ/);
    // A dry-run only: nothing changed in the cluster.
    const cm = await readObject<{ data: { greeting: string } }>(platform.api, 'v1', 'ConfigMap', ns, 'app');
    assert.equal(cm?.data.greeting, 'hello');
    assert.ok(await readObject(platform.api, 'v1', 'ConfigMap', ns, 'extra'));

    const atRef = await cli('diff', `sync/app-${id}`, '--ref', 'main');
    assert.equal(atRef.code, 0, atRef.out + atRef.err);
    assert.equal((await cli('diff', 'sync/does-not-exist')).code, 3);
  });
});
