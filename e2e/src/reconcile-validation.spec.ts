import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as capstan } from '@capstan/cli';
import { CapstanResources, createKubeConfig, type Sync } from '@capstan/kube';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

// A commit is judged whole before anything is written (kinds against discovery, objects of new
// Namespaces dry-run elsewhere); what a staged apply still writes before failing is recorded and
// pruned after a revert; a failed revision is one decision; `capstan diff` sees the same.
// Against the real API server, NATS, Postgres and Git.
const ada: Person = { name: 'Ada', email: 'ada@example.com' };
const grace: Person = { name: 'Grace Hopper', email: 'grace@example.com' };
const linus: Person = { name: 'Linus Example', email: 'linus@example.com' };

interface DecisionItem {
  action: string;
  reason: string;
  message: string;
  changeSet: { kind: string; name: string; action: string }[];
}

describe('reconcile: validate the whole set, record partial writes', () => {
  const id = randomBytes(3).toString('hex');
  const name = `val-${id}`;
  const group = `v${id}.example.com`;
  let platform: Platform;
  let repo: GitRepo;
  let resources: CapstanResources;
  let scratch: string;

  const namespace = (ns: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`;
  const condition = (s: Sync, type: string) => s.status?.conditions?.find((c) => c.type === type);
  const attempted = (sha: string) =>
    waitFor(`Sync attempted ${sha.slice(0, 8)}`, async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAttemptedRevision === `main@sha1:${sha}` && !condition(s, 'Reconciling')
        ? s
        : undefined;
    });
  const decisionsOf = async (sha: string) =>
    (
      await platform.auditGet<{ items: DecisionItem[] }>(
        `/api/v1/decisions?revision=${encodeURIComponent(`main@sha1:${sha}`)}&limit=100`,
      )
    ).items;
  const cli = async (...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await capstan(
      argv,
      (s) => out.push(s),
      (s) => err.push(s),
      {
        ...platform.cliEnv,
        KUBECONFIG: platform.kubeconfigPath,
        CAPSTAN_CACHE_DIR: join(scratch, 'cli-cache'),
      },
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  before(async () => {
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    scratch = await mkdtemp(join(tmpdir(), `capstan-val-${id}-`));
    repo = await GitRepo.create(join(scratch, 'repo'));
    await repo.write({ 'app/base.yaml': namespace(`val-base-${id}`) });
    const sha = repo.commit('base namespace', ada);
    await applyYaml(platform.api, repositoryAndSync(name, repo.url, './app'));
    await waitFor('base applied', async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAppliedRevision === `main@sha1:${sha}` ? s : undefined;
    });
  });
  after(async () => {
    await platform.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('fails a removed API and an uninstalled kind before creating any Namespace, naming each file and the version to use', async () => {
    const ns = `val-new-${id}`;
    await repo.write({
      'app/ns.yaml': namespace(ns),
      'app/ingress.yaml': `apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: web, namespace: ${ns}}\nspec: {backend: {serviceName: web, servicePort: 80}}\n`,
      'app/widget.yaml': `apiVersion: ${group}/v1\nkind: Widget\nmetadata: {name: w, namespace: ${ns}}\nspec: {size: 1}\n`,
    });
    const bad = repo.commit('ingress and widget', ada);
    const sync = await attempted(bad);
    const ready = condition(sync, 'Ready');
    assert.equal(ready?.reason, 'ValidationFailed');
    assert.match(
      ready.message,
      /Ingress\/web \(app\/ingress\.yaml, document 1\).*use apiVersion: networking\.k8s\.io\/v1/,
    );
    assert.match(
      ready.message,
      new RegExp(`Widget/w \\(app/widget\\.yaml, document 1\\).*kind Widget in ${group}/v1`),
    );
    assert.equal(await readObject(platform.api, 'v1', 'Namespace', '', ns), undefined, 'nothing was written');

    // `capstan diff` predicts the same failure instead of "created".
    const diff = await cli('diff', `sync/${name}`);
    assert.equal(diff.code, 4, `diff exit code ${diff.code}: the reconciler would refuse this revision`);
    assert.match(diff.err, /app\/ingress\.yaml.*networking\.k8s\.io\/v1/);

    // Reconciling the same failed revision again records no second decision.
    for (let i = 0; i < 2; i++) await cli('reconcile', `sync/${name}`, '--wait', '--timeout', '1m');
    await repo.write({ 'app/ingress.yaml': null, 'app/widget.yaml': null });
    const fixed = repo.commit('drop them', ada);
    await waitFor('fix applied', async () => {
      const items = await decisionsOf(fixed);
      return items.some((d) => d.action === 'applied') ? items : undefined;
    });
    const failed = (await decisionsOf(bad)).filter((d) => d.action === 'failed');
    assert.equal(failed.length, 1, 'one decision for the failed revision');
    assert.equal(failed[0]?.reason, 'ValidationFailed');
  });

  it('dry-runs the objects of a new Namespace before creating it', async () => {
    const ns = `val-schema-${id}`;
    await repo.write({
      'app/schema-ns.yaml': namespace(ns),
      'app/schema-cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ${ns}}\ndata: {a: b}\nbogus: field\n`,
    });
    const bad = repo.commit('config map with an unknown field in a new namespace', ada);
    const sync = await attempted(bad);
    assert.equal(condition(sync, 'Ready')?.reason, 'ApplyFailed');
    assert.match(
      condition(sync, 'Ready')?.message ?? '',
      /ConfigMap\/c \(app\/schema-cm\.yaml, document 1\).*bogus/,
    );
    assert.equal(await readObject(platform.api, 'v1', 'Namespace', '', ns), undefined);
    await repo.write({ 'app/schema-ns.yaml': null, 'app/schema-cm.yaml': null });
    await attempted(repo.commit('drop them', ada));
  });

  it('records what a staged apply wrote before a later stage failed, and prunes it after a revert', async () => {
    const ns = `val-crd-${id}`;
    await repo.write({
      'app/crd-ns.yaml': namespace(ns),
      'app/crd.yaml': `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.${group}}
spec:
  group: ${group}
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
`,
      'app/gadget.yaml': `apiVersion: ${group}/v1\nkind: Gadget\nmetadata: {name: g, namespace: ${ns}}\nspec: {size: big}\n`,
    });
    const bad = repo.commit('gadget CRD with a bad gadget', ada);
    const sync = await attempted(bad);
    assert.equal(condition(sync, 'Ready')?.reason, 'ApplyFailed');
    assert.match(condition(sync, 'Ready')?.message ?? '', /Gadget\/g \(app\/gadget\.yaml/);
    const failed = await waitFor('failed decision', async () =>
      (await decisionsOf(bad)).find((d) => d.action === 'failed'),
    );
    assert.deepEqual(failed.changeSet.map((c) => `${c.kind}/${c.name} ${c.action}`).sort(), [
      `CustomResourceDefinition/gadgets.${group} created`,
      `Namespace/${ns} created`,
    ]);
    assert.match(failed.message, /written before the failure: 2 created/);
    assert.ok(sync.status?.inventory?.entries.some((e) => e.id === `_${ns}__Namespace`));

    await repo.write({ 'app/crd-ns.yaml': null, 'app/crd.yaml': null, 'app/gadget.yaml': null });
    const revert = repo.commit('revert the gadget', ada);
    await waitFor('revert pruned the Namespace and the CRD', async () => {
      const s = await resources.get('Sync', 'default', name);
      if (s.status?.lastAppliedRevision !== `main@sha1:${revert}`) return undefined;
      const live = await readObject<{ status?: { phase?: string } }>(platform.api, 'v1', 'Namespace', '', ns);
      const crd = await readObject(
        platform.api,
        'apiextensions.k8s.io/v1',
        'CustomResourceDefinition',
        '',
        `gadgets.${group}`,
      );
      return (!live || live.status?.phase === 'Terminating') && !crd ? true : undefined;
    });
  });

  it('diffs uncommitted files of a working tree through the reconciler recipe', async () => {
    await repo.write({
      'app/draft.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: draft, namespace: default}\ndata: {a: b}\n`,
      'app/ignored.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ignored, namespace: default}\ndata: {a: b}\n`,
      '.capstanignore': 'app/ignored.yaml\n',
    });
    const diff = await cli('diff', `sync/${name}`, '--working-tree', repo.work);
    assert.equal(diff.code, 1, diff.err);
    assert.match(diff.out, /default\/ConfigMap\/draft created/);
    assert.doesNotMatch(diff.out, /ignored/, 'the ignore rules apply to the working tree too');
    assert.equal((await cli('diff', `sync/${name}`)).code, 0, 'nothing committed changes anything');
    await repo.write({ 'app/draft.yaml': null, 'app/ignored.yaml': null, '.capstanignore': null });
  });

  it('credits each change to the commit that made it when a failed commit is fixed by the next', async () => {
    const cm = (n: string, extra = '') =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${n}, namespace: default}\ndata: {a: b}\n${extra}`;
    await repo.write({
      'app/credit-a.yaml': cm(`credit-a-${id}`),
      'app/credit-b.yaml': cm(`credit-b-${id}`, 'bogus: field\n'),
    });
    const failing = repo.commit('add two config maps, one broken', grace);
    assert.equal(condition(await attempted(failing), 'Ready')?.reason, 'ApplyFailed');
    await repo.write({ 'app/credit-b.yaml': cm(`credit-b-${id}`) });
    const fix = repo.commit('fix the broken config map', linus);
    await waitFor('fix applied', async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAppliedRevision === `main@sha1:${fix}` ? s : undefined;
    });
    const who = async (object: string) =>
      waitFor(`who ${object}`, async () => {
        const r = await cli('who', object, '--server', platform.auditUrl);
        return /applied/.test(r.out) ? r.out : undefined;
      });
    const a = await who(`default/configmap/credit-a-${id}`);
    assert.match(a, /Grace Hopper <grace@example.com>/);
    assert.match(a, new RegExp(`main@sha1:${failing.slice(0, 12)}`));
    assert.doesNotMatch(a, /Linus/);
    const b = await who(`default/ConfigMap/credit-b-${id}`);
    assert.match(b, /Linus Example <linus@example.com>/);
    await repo.write({ 'app/credit-a.yaml': null, 'app/credit-b.yaml': null });
    await attempted(repo.commit('drop the credit config maps', ada));
  });
});
