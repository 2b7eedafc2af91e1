import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapstanResources, createKubeConfig, type GitRepository } from '@capstan/kube';
import { GitWorkspace } from './support/git-workspace.js';
import { HttpGitServer } from './support/git-http.js';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';

// Flux-class Git sources against the running git-watcher and reconciler: semver refs, HTTPS
// credentials from a Secret, and push webhooks that beat a 10-minute poll interval.
describe('git sources', () => {
  const id = randomBytes(3).toString('hex');
  let platform: Platform;
  let resources: CapstanResources;
  const workspaces: GitWorkspace[] = [];

  const workspace = async (name: string) => {
    const ws = await GitWorkspace.create(join(tmpdir(), `capstan-sources-${id}-${name}`));
    workspaces.push(ws);
    return ws;
  };
  const gitRepository = (name: string) => resources.get('GitRepository', 'default', name);
  const readyOf = (repo: GitRepository) => repo.status?.conditions?.find((c) => c.type === 'Ready');
  const configMapValue = (ns: string) => async () =>
    (await readObject<{ data?: { value?: string } }>(platform.api, 'v1', 'ConfigMap', ns, 'probe'))?.data
      ?.value;
  const manifests = (ns: string, value: string) => ({
    'app/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
    'app/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: probe, namespace: ${ns}}\ndata: {value: "${value}"}\n`,
  });
  const valueIs = (ns: string, value: string, timeoutMs = 60_000) =>
    waitFor(
      `ConfigMap ${ns}/probe value=${value}`,
      async () => ((await configMapValue(ns)()) === value ? true : undefined),
      timeoutMs,
    );

  before(async () => {
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
  });
  after(async () => {
    // Sources whose repositories are about to be deleted would otherwise be retried by the
    // git-watchers of later tests on the shared cluster.
    for (const name of ['semver', 'private', 'hook', 'signed', 'xns'].map((n) => `${n}-${id}`)) {
      for (const kind of ['GitRepository', 'Receiver']) {
        await platform.api
          .delete({ apiVersion: 'capstan.dev/v1alpha1', kind, metadata: { name, namespace: 'default' } })
          .catch(() => undefined);
      }
    }
    await platform.stop();
    for (const ws of workspaces) await ws.remove();
  });

  it('follows the highest tag in a semver range and moves when a higher tag is pushed', async () => {
    const name = `semver-${id}`;
    const ws = await workspace('semver');
    for (const version of ['1.0.0', '1.1.0', '2.0.0']) {
      await ws.write(manifests(name, version));
      ws.commit(`release ${version}`);
      ws.tag(`v${version}`);
    }
    await ws.write(manifests(name, 'unreleased'));
    ws.commit('work in progress on main');
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${name}, namespace: default}
spec: {url: "${ws.url}", interval: 1s, ref: {semver: "^1.0.0"}}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${name}, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${name}}, path: ./app, interval: 10m}
`,
    );
    await valueIs(name, '1.1.0');
    const repo = await gitRepository(name);
    assert.match(repo.status?.artifact?.revision ?? '', /^v1\.1\.0@sha1:[0-9a-f]{40}$/);

    await ws.write(manifests(name, '1.2.0'));
    const sha = ws.commit('release 1.2.0');
    ws.tag('v1.2.0');
    await valueIs(name, '1.2.0');
    assert.equal((await gitRepository(name)).status?.artifact?.revision, `v1.2.0@sha1:${sha}`);
  });

  it('fetches over HTTPS-style basic auth with credentials from a Secret, and says why it cannot without', async () => {
    const name = `private-${id}`;
    const ws = await workspace('private');
    const sha = ws.commit('private history');
    const server = await HttpGitServer.start(ws.root, { username: 'deploy', password: 'pw-0f-the-day' });
    try {
      const gitRepo = (secretRef: string) => `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${name}, namespace: default}
spec: {url: "${server.url(`${ws.name}.git`)}", interval: 10m${secretRef}}
`;
      await applyYaml(platform.api, gitRepo(''));
      const refused = await waitFor('Ready=False AuthenticationFailed', async () => {
        const ready = readyOf(await gitRepository(name));
        return ready?.status === 'False' && ready.reason === 'AuthenticationFailed' ? ready : undefined;
      });
      assert.match(refused.message, /could not read Username|Authentication failed/);

      await applyYaml(
        platform.api,
        `apiVersion: v1
kind: Secret
metadata: {name: ${name}-auth, namespace: default}
stringData: {username: deploy, password: pw-0f-the-day}
`,
      );
      await applyYaml(platform.api, gitRepo(`, secretRef: {name: ${name}-auth}`));
      const repo = await waitFor('commit observed with credentials', async () => {
        const r = await gitRepository(name);
        return r.status?.artifact?.sha === sha && readyOf(r)?.status === 'True' ? r : undefined;
      });
      assert.equal(repo.status?.artifact?.revision, `main@sha1:${sha}`);
      assert.ok(!JSON.stringify(repo.status).includes('pw-0f-the-day'));
    } finally {
      await server.stop();
    }
  });

  it('polls at once on a signed push webhook and refuses a badly signed one', async () => {
    const name = `hook-${id}`;
    const token = randomBytes(16).toString('hex');
    const ws = await workspace('hook');
    await ws.write(manifests(name, 'first'));
    const first = ws.commit('first');
    await applyYaml(
      platform.api,
      `apiVersion: v1
kind: Secret
metadata: {name: ${name}-token, namespace: default}
stringData: {token: ${token}}
---
apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${name}, namespace: default}
spec: {url: "${ws.url}", interval: 10m}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${name}, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${name}}, path: ./app, interval: 10m}
`,
    );
    // The Receiver CRD may still be getting established right after installation.
    await waitFor('Receiver created', async () => {
      await applyYaml(
        platform.api,
        `apiVersion: capstan.dev/v1alpha1
kind: Receiver
metadata: {name: ${name}, namespace: default}
spec:
  type: github
  secretRef: {name: ${name}-token}
  resources: [{kind: GitRepository, name: ${name}}]
`,
      );
      return true;
    });
    const path = await waitFor('Receiver ready with its webhook path', async () => {
      const r = await readObject<{
        status?: { webhookPath?: string; conditions?: { type: string; status: string }[] };
      }>(platform.api, 'capstan.dev/v1alpha1', 'Receiver', 'default', name);
      const ready = r?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready ? r?.status?.webhookPath : undefined;
    });
    assert.equal(path, `/hooks/default/${name}`);
    await valueIs(name, 'first');
    assert.equal((await gitRepository(name)).status?.artifact?.sha, first);

    await ws.write(manifests(name, 'second'));
    const second = ws.commit('second');
    const body = JSON.stringify({ ref: 'refs/heads/main', after: second });
    const post = (signature: string | undefined, to = path) =>
      fetch(new URL(to, platform.gitWatcherUrl), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'push',
          ...(signature ? { 'x-hub-signature-256': signature } : {}),
        },
        body,
      });
    const sign = (key: string) => `sha256=${createHmac('sha256', key).update(body).digest('hex')}`;

    assert.equal((await post(undefined)).status, 401);
    assert.equal((await post(sign('not-the-token'))).status, 401);
    assert.equal((await post(sign(token), `/hooks/default/nobody-${id}`)).status, 404);
    // Nothing was polled: the 10-minute interval still holds the first commit.
    assert.equal((await gitRepository(name)).status?.artifact?.sha, first);

    const accepted = await post(sign(token));
    assert.equal(accepted.status, 202);
    assert.deepEqual(await accepted.json(), { requested: [`default/${name}`], unknown: [], refused: [] });
    // Well before the 10-minute interval; speed itself is measured in bench/.
    await valueIs(name, 'second', 30_000);
    assert.equal((await gitRepository(name)).status?.artifact?.sha, second);

    // The same signed delivery again is a replay, whatever delivery id a replayer puts on it.
    const replay = await fetch(new URL(path, platform.gitWatcherUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-delivery': randomBytes(8).toString('hex'),
        'x-hub-signature-256': sign(token),
      },
      body,
    });
    assert.equal(replay.status, 409);
    assert.match(((await replay.json()) as { message: string }).message, /already received/);

    // A body that is not JSON is verified over its own bytes: signed right it passes, and a
    // signature of an empty body (what an unparsed body used to be checked against) does not.
    const plain = `ping ${id}`;
    const postPlain = (signature: string) =>
      fetch(new URL(path, platform.gitWatcherUrl), {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'x-hub-signature-256': signature },
        body: plain,
      });
    assert.equal(
      (await postPlain(`sha256=${createHmac('sha256', token).update('').digest('hex')}`)).status,
      401,
    );
    assert.equal(
      (await postPlain(`sha256=${createHmac('sha256', token).update(plain).digest('hex')}`)).status,
      202,
    );
  });

  it('refuses to let a Receiver trigger a GitRepository in another namespace', async () => {
    const name = `xns-${id}`;
    const token = randomBytes(16).toString('hex');
    await applyYaml(
      platform.api,
      `apiVersion: v1
kind: Secret
metadata: {name: ${name}-token, namespace: default}
stringData: {token: ${token}}
---
apiVersion: capstan.dev/v1alpha1
kind: Receiver
metadata: {name: ${name}, namespace: default}
spec:
  type: generic
  secretRef: {name: ${name}-token}
  resources: [{kind: GitRepository, name: victim, namespace: kube-system}]
`,
    );
    const ready = await waitFor('Receiver refused with a reason', async () => {
      const r = await readObject<{
        status?: { conditions?: { type: string; status: string; reason: string; message: string }[] };
      }>(platform.api, 'capstan.dev/v1alpha1', 'Receiver', 'default', name);
      return r?.status?.conditions?.find((c) => c.type === 'Ready');
    });
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'CrossNamespaceRefNotAllowed');
    assert.match(ready.message, /kube-system\/victim/);
    const body = JSON.stringify({ id });
    const res = await fetch(new URL(`/hooks/default/${name}`, platform.gitWatcherUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-signature': `sha256=${createHmac('sha256', token).update(body).digest('hex')}`,
      },
      body,
    });
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { requested: [], unknown: [], refused: ['kube-system/victim'] });
  });

  it('verifies commit signatures against the keys in a Secret and reports the signer', async () => {
    const name = `signed-${id}`;
    const ws = await workspace('signed');
    const ada = ws.sshKey('ada');
    const eve = ws.sshKey('eve');
    const signed = ws.commit('signed by ada', ada.file);
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
`,
    );
    const verifiedOf = async (sha: string) => {
      const r = await gitRepository(name);
      return r.status?.artifact?.sha === sha
        ? r.status.conditions?.find((c) => c.type === 'SourceVerified')
        : undefined;
    };
    const good = await waitFor('SourceVerified for the signed commit', () => verifiedOf(signed));
    assert.equal(good.status, 'True');
    assert.match(good.message, /signed by ada@example.com \(ssh key SHA256:/);
    const artifact = (await gitRepository(name)).status?.artifact as { verification?: object } | undefined;
    assert.deepEqual(
      { ...artifact?.verification, keyId: undefined },
      {
        status: 'verified',
        signer: 'ada@example.com',
        format: 'ssh',
        keyId: undefined,
      },
    );

    const byEve = ws.commit('signed by eve', eve.file);
    const bad = await waitFor('SourceVerified for the commit by an unknown key', () => verifiedOf(byEve));
    assert.equal(bad.status, 'False');
    assert.equal(bad.reason, 'VerificationFailed');
    // The commit is still observed: whether it may deploy is each Sync's verification.required.
    assert.equal(readyOf(await gitRepository(name))?.status, 'True');

    const unsigned = ws.commit('unsigned');
    const none = await waitFor('SourceVerified for the unsigned commit', () => verifiedOf(unsigned));
    assert.match(none.message, /is not signed/);
  });
});
