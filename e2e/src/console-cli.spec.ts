// The CLI verbs people scan and steer with, end to end against a running Capstan on the real
// API server: `capstan get` (table, -A, -o json|yaml, -w), `capstan tree`, `capstan suspend` /
// `resume`, `capstan check` (cluster, CRDs, NATS, Postgres, services and their version),
// shell completion, and `--help` with examples on every verb.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { run } from '@capstan/cli';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { startRegistryWatcher } from '@capstan/registry-watcher';
import { PagingRegistry } from '@capstan/testing';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, installFlaggerCrds } from './support/kube.js';
import { Platform } from './support/platform.js';
import { repositoryAndSync } from './support/sync-yaml.js';
import { waitFor } from './support/wait.js';

const ada: Person = { name: 'Ada Lovelace', email: 'ada@example.com' };

describe('capstan get, tree, suspend, resume, check, completion', { timeout: 300_000 }, () => {
  const id = randomBytes(3).toString('hex');
  const name = `cli-${id}`;
  const appNs = `e2e-cli-${id}`;
  let platform: Platform;
  let repo: GitRepo;
  let resources: CapstanResources;
  let sha = '';

  const capstan = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await run(
      argv,
      (s) => out.push(s),
      (s) => err.push(s),
      { ...platform.cliEnv, KUBECONFIG: platform.kubeconfigPath },
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  before(async () => {
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-cli-${id}`));
    await repo.write({
      'deploy/app.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${appNs}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: greeting, namespace: ${appNs}}\ndata: {greeting: hello}\n`,
    });
    sha = repo.commit('Deploy the greeting', ada);
    await applyYaml(platform.api, repositoryAndSync(name, repo.url, './deploy'));
    await waitFor('Sync applied and Ready', async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAppliedRevision === `main@sha1:${sha}` &&
        s.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
        ? s
        : undefined;
    });
  });

  after(async () => {
    await platform.api
      .delete({ apiVersion: 'capstan.dev/v1alpha1', kind: 'Sync', metadata: { name, namespace: 'default' } })
      .catch(() => undefined);
    await platform.api
      .delete({
        apiVersion: 'capstan.dev/v1alpha1',
        kind: 'GitRepository',
        metadata: { name, namespace: 'default' },
      })
      .catch(() => undefined);
    await platform.stop();
    await repo.remove();
    await platform.api
      .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: appNs } })
      .catch(() => undefined);
  });

  it('get syncs: the columns a person scans, in one namespace or all', async () => {
    const one = await capstan('get', 'syncs');
    assert.equal(one.code, 0, one.err);
    const [header, ...rows] = one.out.split('\n');
    assert.match(header ?? '', /^NAME\s+READY\s+STATUS\s+REVISION\s+SUSPENDED\s+AGE$/);
    const row = rows.find((r) => r.startsWith(`${name} `));
    assert.ok(row, one.out);
    assert.match(
      row,
      new RegExp(`^${name}\\s+True\\s+.*main@sha1:${sha.slice(0, 12)}\\s+False\\s+\\d+[smhd]$`),
    );

    const all = await capstan('get', 'syncs', '-A');
    assert.match(all.out.split('\n')[0] ?? '', /^NAMESPACE\s+NAME\s+READY/);
    assert.ok(all.out.split('\n').some((r) => new RegExp(`^default\\s+${name}\\s+True`).test(r)));

    const repos = await capstan('get', 'repositories', name);
    assert.match(repos.out, new RegExp(`${name}\\s+True\\s+.*main@sha1:${sha.slice(0, 12)}`));
    const releases = await capstan('get', 'releases', '-n', appNs);
    assert.equal(releases.code, 0, releases.err);
    assert.equal(releases.out, `no helmreleases found in namespace ${appNs}`);
  });

  it("get releases and canaries: Flux v1 HelmReleases and Flagger Canaries with Capstan's own", async () => {
    await installFlaggerCrds(platform.api);
    const canary = (apiVersion: string, n: string) => `apiVersion: ${apiVersion}
kind: Canary
metadata: {name: ${n}, namespace: ${appNs}}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: ${n}}
  service: {port: 9898}
  analysis: {interval: 1m, threshold: 5, maxWeight: 50, stepWeight: 10}
`;
    await applyYaml(
      platform.api,
      [
        canary('flagger.app/v1beta1', 'podinfo'),
        canary('capstan.dev/v1alpha1', 'shop'),
        `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata: {name: redis, namespace: ${appNs}, annotations: {fluxcd.io/ignore: "true"}}
spec:
  releaseName: redis
  chart: {repository: "https://charts.example.com/", name: redis, version: 1.0.0}
`,
      ].join('---\n'),
    );
    const canaries = await capstan('get', 'canaries', '-n', appNs);
    assert.equal(canaries.code, 0, canaries.err);
    assert.deepEqual(
      canaries.out
        .split('\n')
        .slice(1)
        .map((r) => r.split(/\s+/)[0]),
      ['podinfo', 'shop'],
    );
    const flagger = await capstan('get', 'canary', 'podinfo', '-n', appNs, '-o', 'json');
    assert.equal((JSON.parse(flagger.out) as { apiVersion: string }).apiVersion, 'flagger.app/v1beta1');
    const releases = await capstan('get', 'hr', '-n', appNs);
    assert.equal(releases.code, 0, releases.err);
    assert.match(releases.out.split('\n')[1] ?? '', /^redis\s/);
  });

  it('get images: each ImagePolicy with its latest pick, as the registry-watcher chose it', async () => {
    const registry = await PagingRegistry.start({
      tags: (repository) => (repository === 'team/web' ? ['1.0.0', '1.1.0', '2.0.0-rc.1'] : undefined),
      pageCap: 100,
    });
    const cache = join(tmpdir(), `capstan-e2e-cli-registry-${id}`);
    const watcher = await startRegistryWatcher({ ...platform.env, GIT_CACHE_DIR: cache });
    try {
      await applyYaml(
        platform.api,
        `apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: web, namespace: ${appNs}}
spec: {image: ${registry.host}/team/web, interval: 1h}
---
apiVersion: capstan.dev/v1alpha1
kind: ImagePolicy
metadata: {name: web, namespace: ${appNs}}
spec:
  imageRepositoryRef: {name: web}
  policy: {semver: {range: ">=1.0.0"}}
`,
      );
      const latest = `${registry.host}/team/web:1.1.0`;
      const images = await waitFor('the policy picked 1.1.0', async () => {
        const r = await capstan('get', 'images', '-n', appNs);
        return r.out.includes(latest) ? r : undefined;
      });
      assert.equal(images.code, 0, images.err);
      const [header, row] = images.out.split('\n');
      assert.match(header ?? '', /^NAME\s+READY\s+STATUS\s+REVISION\s+SUSPENDED\s+AGE$/);
      assert.match(row ?? '', /^web\s+True\s/);
      // The REVISION column holds the pick (the STATUS message may name it too).
      const column = (header ?? '').indexOf('REVISION');
      const revision = (row ?? '').slice(column, (header ?? '').indexOf('SUSPENDED')).trim();
      assert.equal(revision, latest);
      const json = JSON.parse((await capstan('get', 'image', 'web', '-n', appNs, '-o', 'json')).out) as {
        kind: string;
        status: { latestRef: { name: string; tag: string } };
      };
      assert.deepEqual(
        [json.kind, json.status.latestRef.name, json.status.latestRef.tag],
        ['ImagePolicy', `${registry.host}/team/web`, '1.1.0'],
      );
    } finally {
      await watcher.close();
      await registry.stop();
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('get -o json and -o yaml print the objects as a List, or one object', async () => {
    const json = JSON.parse((await capstan('get', 'syncs', '-o', 'json')).out) as {
      kind: string;
      items: { metadata: { name: string } }[];
    };
    assert.equal(json.kind, 'List');
    assert.ok(json.items.some((i) => i.metadata.name === name));
    const yaml = parse((await capstan('get', 'sync', name, '-o', 'yaml')).out) as {
      kind: string;
      status: { lastAppliedRevision: string };
    };
    assert.equal(yaml.kind, 'Sync');
    assert.equal(yaml.status.lastAppliedRevision, `main@sha1:${sha}`);
  });

  it('bad kinds and formats are usage errors (exit 2)', async () => {
    const kind = await capstan('get', 'widgets');
    assert.equal(kind.code, 2);
    assert.match(
      kind.err,
      /unknown kind "widgets"; use one of syncs, repositories, releases, canaries, images/,
    );
    const format = await capstan('get', 'syncs', '-o', 'xml');
    assert.equal(format.code, 2);
    assert.match(format.err, /--output must be table, json or yaml/);
  });

  it('tree: the objects the Sync owns, each with its health', async () => {
    const tree = await capstan('tree', `sync/${name}`);
    assert.equal(tree.code, 0, tree.out + tree.err);
    const lines = tree.out.split('\n');
    assert.match(lines[0] ?? '', new RegExp(`^Sync/default/${name}  Ready=True  main@sha1:${sha}`));
    assert.ok(lines.includes(`├── Namespace/${appNs}  Current`), tree.out);
    assert.ok(lines.includes(`└── ConfigMap/${appNs}/greeting  Current`), tree.out);
    const missing = await capstan('tree', `sync/nope-${id}`);
    assert.equal(missing.code, 1);
  });

  it('suspend and resume set spec.suspend, and get -w prints the change as it happens', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const watching = run(
      ['get', 'syncs', '-w'],
      (s) => seen.push(s),
      () => undefined,
      { ...platform.cliEnv, KUBECONFIG: platform.kubeconfigPath },
      controller.signal,
    );
    await waitFor('the first table', () => (seen.length > 0 ? true : undefined));
    const suspended = await capstan('suspend', `sync/${name}`);
    assert.equal(suspended.out, `Sync default/${name} suspended`);
    assert.equal((await resources.get('Sync', 'default', name)).spec.suspend, true);
    const change = await waitFor('the watch printing the suspended Sync', () =>
      seen.slice(1).find((s) => new RegExp(`^${name}\\s+.*\\s+True\\s+\\d+[smhd]$`).test(s)),
    );
    assert.ok(!change.startsWith('NAME'), 'changes come without the header again');
    controller.abort();
    assert.equal(await watching, 0);
    const resumed = await capstan('resume', `sync/${name}`);
    assert.equal(resumed.out, `Sync default/${name} resumed`);
    assert.equal((await resources.get('Sync', 'default', name)).spec.suspend, false);
  });

  it('check: everything reachable and of the right version, and says what is not', async () => {
    const ok = await capstan(
      'check',
      '--database',
      platform.db.url,
      '--service',
      `git-watcher=${platform.gitWatcherUrl}`,
      '--service',
      `reconciler=${platform.reconcilerUrl}`,
    );
    assert.equal(ok.code, 0, ok.out);
    for (const check of ['kubernetes', 'crds', 'nats', 'postgres', 'audit', 'git-watcher', 'reconciler'])
      assert.match(ok.out, new RegExp(`^${check}\\s+ok\\s+`, 'm'));
    assert.match(ok.out, /^audit\s+ok\s+ready \(.*database ok.*\), version 0\.1\.0$/m);
    const bad = await capstan('check', '--nats', 'nats://127.0.0.1:1');
    assert.equal(bad.code, 1);
    assert.match(bad.out, /^nats\s+FAILED\s+/m);
    assert.match(bad.out, /^postgres\s+skipped\s+/m);
  });

  it('completion scripts and --help with examples on every verb; exit codes documented', async () => {
    const bash = await capstan('completion', 'bash');
    assert.match(bash.out, /complete -F _capstan capstan/);
    assert.match(
      bash.out,
      /get\) opts="[^"]*--all-namespaces[^"]* syncs repositories releases canaries images"/,
    );
    assert.match(
      (await capstan('completion', 'fish')).out,
      /complete -c capstan -n '__fish_use_subcommand' -a tree/,
    );
    assert.match((await capstan('completion', 'zsh')).out, /^#compdef capstan/);
    const root = await capstan('--help');
    assert.match(root.out, /Exit codes:\n\s+0 {2}success/);
    // The verbs of this issue and those registered before it; verbs other issues add bring their own.
    const verbs = [
      'who',
      'history',
      'events',
      'reconcile',
      'diff',
      'audit',
      'get',
      'tree',
      'suspend',
      'resume',
      'check',
      'completion',
    ];
    for (const verb of verbs)
      assert.match(root.out, new RegExp(`^  ${verb}\\b`, 'm'), `capstan --help lists ${verb}`);
    for (const verb of verbs) {
      const help = await capstan(verb, '--help');
      assert.match(help.out, /Examples:\n {2}(capstan|source) /, `capstan ${verb} --help shows examples`);
    }
  });
});
