import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateText } from '@capstan/render/testing';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';

// One hostile commit against the running services: a 1 MB YAML whose aliases expand to 100 MB
// fails its own Sync by name and limit while another Sync of the same repository keeps
// reconciling; a GitRepository into the services' caches is refused; bad requests get a 4xx;
// every service stays ready throughout. The unit corpora (fixtures/hostile/) cover the rest.
const eve: Person = { name: 'Eve', email: 'eve@example.com' };

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
}
type WithConditions = { status?: { conditions?: Condition[] } };

describe('hostile input', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `hostile-${id}`;
  const repoName = `hostile-${id}`;
  let platform: Platform;
  let repo: GitRepo;
  let scratch: string;

  const ready = async (kind: string, name: string) =>
    (
      await readObject<WithConditions>(platform.api, 'capstan.dev/v1alpha1', kind, 'default', name)
    )?.status?.conditions?.find((c) => c.type === 'Ready');
  const configMap = (name: string) =>
    readObject<{ data?: Record<string, string> }>(platform.api, 'v1', 'ConfigMap', ns, name);
  const healthy = async () => {
    for (const url of [platform.gitWatcherUrl, platform.reconcilerUrl, platform.auditUrl]) {
      const res = await fetch(new URL('/readyz', url));
      assert.equal(res.status, 200, `${url}/readyz: ${await res.text()}`);
    }
  };

  before(async () => {
    platform = await Platform.start();
    scratch = join(tmpdir(), `capstan-hostile-e2e-${id}`);
    repo = await GitRepo.create(join(scratch, 'repo'));
    await repo.write({
      'good/ns.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
      'good/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good, namespace: ${ns}}\ndata: {v: "1"}\n`,
      'hostile/bomb.yaml': generateText({ bigAlias: { bytes: 1_000_000, aliases: 100 } }),
    });
    repo.commit('a good app and a bomb', eve);
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${repoName}, namespace: default}
spec: {url: "${repo.url}", ref: {branch: main}, interval: 1s}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${repoName}-good, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${repoName}}, path: good, interval: 10m}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: ${repoName}-bomb, namespace: default}
spec: {sourceRef: {kind: GitRepository, name: ${repoName}}, path: hostile, interval: 10m}
`,
    );
  });
  after(async () => {
    await platform.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('fails the bomb by file and limit, and the other Sync keeps reconciling', async () => {
    const bomb = await waitFor(
      'the bomb Sync fails',
      async () => {
        const c = await ready('Sync', `${repoName}-bomb`);
        return c?.status === 'False' && c.reason === 'BuildFailed' ? c : undefined;
      },
      90_000,
    );
    assert.match(bomb.message, /hostile\/bomb\.yaml/);
    assert.match(bomb.message, /limit maxYamlExpandedBytes/);
    await waitFor(
      'the good Sync applies',
      async () => (await configMap('good'))?.data?.['v'] === '1',
      90_000,
    );
    await healthy();

    // The next commit reaches the good Sync while the bomb is still in the repository.
    await repo.write({
      'good/cm.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: good, namespace: ${ns}}\ndata: {v: "2"}\n`,
    });
    repo.commit('good v2', eve);
    await waitFor(
      'the good Sync applies v2',
      async () => (await configMap('good'))?.data?.['v'] === '2',
      90_000,
    );
    const still = await ready('Sync', `${repoName}-bomb`);
    assert.equal(still?.reason, 'BuildFailed');
    await healthy();
  });

  it("refuses a GitRepository that points into the services' own caches", async () => {
    const name = `${repoName}-cache`;
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${name}, namespace: default}
spec: {url: "file://${join(platform.scratch, 'reconciler')}/../reconciler/anything.git", interval: 1s}
`,
    );
    const refused = await waitFor(
      'the GitRepository is refused',
      async () => {
        const c = await ready('GitRepository', name);
        return c?.status === 'False' ? c : undefined;
      },
      60_000,
    );
    assert.equal(refused.reason, 'URLNotAllowed');
    assert.match(refused.message, /inside a Capstan cache folder/);
    await healthy();
  });

  it('answers bad requests with a 4xx naming what is wrong, and stays ready', async () => {
    const hook = await fetch(new URL(`/hooks/default/nobody-${id}`, platform.gitWatcherUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': 'sha256=00' },
      body: '{"ref":"refs/heads/main"}',
    });
    assert.equal(hook.status, 404);
    const nul = await fetch(new URL('/api/v1/decisions?namespace=a%00b', platform.auditUrl), {
      headers: { authorization: `Bearer ${platform.auditToken}` },
    });
    assert.equal(nul.status, 400);
    assert.match(
      ((await nul.json()) as { message: string }).message,
      /namespace: must not contain a NUL byte/,
    );
    const limit = await fetch(new URL('/api/v1/decisions?limit=99999999999', platform.auditUrl), {
      headers: { authorization: `Bearer ${platform.auditToken}` },
    });
    assert.equal(limit.status, 400);
    await healthy();
  });
});
