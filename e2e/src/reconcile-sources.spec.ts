import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { HttpGitServer } from './support/git-http.js';
import { GitWorkspace } from './support/git-workspace.js';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';

// What a GitRepository says reaches the reconciler: its credentials, its ignore rules, and the
// signature check of the commit, which a Sync may require.
interface Decision {
  action: string;
  reason: string;
  message: string;
  actors: { name: string; evidence: string }[];
}

describe('Syncs use their source settings', () => {
  const id = randomBytes(3).toString('hex');
  let platform: Platform;
  let resources: CapstanResources;
  const workspaces: GitWorkspace[] = [];
  const workspace = async (name: string) => {
    const ws = await GitWorkspace.create(join(tmpdir(), `capstan-rs-${id}`), name);
    workspaces.push(ws);
    return ws;
  };
  const ns = (n: string) => `rs-${n}-${id}`;
  const namespaceYaml = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`;
  const cm = (namespace: string, name: string) =>
    `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${namespace}}\ndata: {a: b}\n`;
  const sync = (name: string, extra = '') => `apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${name}, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${name}}, path: ./app, interval: 10m${extra}}
`;
  const readySync = (name: string, status: 'True' | 'False', reason?: string) =>
    waitFor(`Sync ${name} Ready=${status} ${reason ?? ''}`, async () => {
      const s = await resources.get('Sync', 'default', name);
      const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === status && (!reason || ready.reason === reason) ? ready : undefined;
    });
  const decisionsOf = async (sha: string) =>
    (
      await platform.auditGet<{ items: Decision[] }>(
        `/api/v1/decisions?revision=${encodeURIComponent(`main@sha1:${sha}`)}&limit=50`,
      )
    ).items;

  before(async () => {
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
  });
  after(async () => {
    for (const name of ['private', 'ignore', 'signed'].map((n) => `rs-${n}-${id}`)) {
      for (const kind of ['Sync', 'GitRepository']) {
        await platform.api
          .delete({ apiVersion: 'capstan.dev/v1alpha1', kind, metadata: { name, namespace: 'default' } })
          .catch(() => undefined);
      }
    }
    await platform.stop();
    for (const ws of workspaces) await ws.remove();
  });

  it('deploys from a private repository with the credentials of the GitRepository', async () => {
    const name = ns('private');
    const ws = await workspace('private');
    await ws.write({ 'app/ns.yaml': namespaceYaml(name), 'app/cm.yaml': cm(name, 'secret-source') });
    ws.commit('private app');
    const server = await HttpGitServer.start(ws.root, { username: 'deploy', password: 'pw-of-the-day' });
    try {
      await applyYaml(
        platform.api,
        `apiVersion: v1
kind: Secret
metadata: {name: ${name}-auth, namespace: default}
stringData: {username: deploy, password: pw-of-the-day}
---
apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${name}, namespace: default}
spec: {url: "${server.url(`${ws.name}.git`)}", interval: 10m, secretRef: {name: ${name}-auth}}
---
${sync(name)}`,
      );
      await waitFor('ConfigMap from the private repository', () =>
        readObject(platform.api, 'v1', 'ConfigMap', name, 'secret-source'),
      );
      await readySync(name, 'True');
    } finally {
      await server.stop();
    }
  });

  it('leaves out files matched by .capstanignore and by spec.ignore', async () => {
    const name = ns('ignore');
    const ws = await workspace('ignore');
    await ws.write({
      '.capstanignore': 'app/drafts/\n',
      'app/ns.yaml': namespaceYaml(name),
      'app/kept.yaml': cm(name, 'kept'),
      'app/drafts/draft.yaml': cm(name, 'draft'),
      'app/local-only.yaml': cm(name, 'local-only'),
    });
    ws.commit('app with drafts');
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${name}, namespace: default}
spec: {url: "${ws.url}", interval: 1s, ignore: "app/local-only.yaml"}
---
${sync(name)}`,
    );
    await waitFor('kept ConfigMap', () => readObject(platform.api, 'v1', 'ConfigMap', name, 'kept'));
    await readySync(name, 'True');
    assert.equal(await readObject(platform.api, 'v1', 'ConfigMap', name, 'draft'), undefined);
    assert.equal(await readObject(platform.api, 'v1', 'ConfigMap', name, 'local-only'), undefined);
    const inventory = (await resources.get('Sync', 'default', name)).status?.inventory?.entries.map(
      (e) => e.id,
    );
    assert.deepEqual(inventory?.sort(), [`${name}_kept__ConfigMap`, `_${name}__Namespace`].sort());
  });

  it('refuses an unsigned commit when the Sync requires verified commits, and credits the signer of a signed one', async () => {
    const name = ns('signed');
    const ws = await workspace('signed');
    const ada = ws.sshKey('ada');
    await ws.write({ 'app/ns.yaml': namespaceYaml(name), 'app/cm.yaml': cm(name, 'unsigned') });
    const unsigned = ws.commit('unsigned change');
    await applyYaml(
      platform.api,
      `apiVersion: v1
kind: Secret
metadata: {name: ${name}-keys, namespace: default}
stringData: {allowed_signers: "ada@example.com ${ada.publicKey}"}
---
apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${name}, namespace: default}
spec: {url: "${ws.url}", interval: 1s, verify: {mode: HEAD, secretRef: {name: ${name}-keys}}}
---
${sync(name, ', verification: {required: true}')}`,
    );
    const refused = await readySync(name, 'False', 'CommitNotVerified');
    assert.match(refused.message, /not signed/);
    const failed = await waitFor('failed decision', async () =>
      (await decisionsOf(unsigned)).find((d) => d.action === 'failed'),
    );
    assert.equal(failed.reason, 'CommitNotVerified');
    assert.equal(await readObject(platform.api, 'v1', 'Namespace', '', name), undefined, 'nothing applied');

    await ws.write({ 'app/cm.yaml': cm(name, 'signed') });
    const signed = ws.commit('signed change', ada.file);
    await waitFor('signed ConfigMap', () => readObject(platform.api, 'v1', 'ConfigMap', name, 'signed'));
    await readySync(name, 'True');
    const applied = await waitFor('applied decision', async () =>
      (await decisionsOf(signed)).find((d) => d.action === 'applied'),
    );
    assert.ok(applied.actors.some((a) => a.name === 'ada@example.com' && a.evidence === 'verified-signer'));

    // Two signed commits arriving at once: the earlier one's change is credited to it, with its
    // signer checked against the same keys (not only the applied commit's).
    await ws.write({ 'app/early.yaml': cm(name, 'early') });
    const early = ws.commit('an early change', ada.file, { push: false });
    await ws.write({ 'app/cm.yaml': cm(name, 'signed-again') });
    ws.commit('the later change', ada.file);
    const credited = await waitFor('the early commit credited', async () =>
      (await decisionsOf(early)).find((d) => d.action === 'applied'),
    );
    assert.ok(credited.actors.some((a) => a.name === 'ada@example.com' && a.evidence === 'verified-signer'));
  });
});
