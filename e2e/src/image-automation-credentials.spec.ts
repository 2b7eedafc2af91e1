import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestRepository } from '@capstan/git/testing';
import { startRegistryWatcher } from '@capstan/registry-watcher';
import { DockerRegistry, TokenServer } from '@capstan/testing';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';

interface Decision {
  action: string;
  reason: string;
  source: { sha: string } | null;
  actors: { name: string; evidence: string }[];
}
type Condition = { type: string; status: string; reason: string; message: string };
type WithConditions = { status?: { conditions?: Condition[] } };

// Image automation where nothing is open: the registry wants a token for a user whose password
// is in a Kubernetes Secret (distribution 2.8 with token auth), the automation signs its commits
// with an SSH key from another Secret, and the Sync applies only commits whose signature the
// GitRepository verified. An unsigned human commit is refused; the automation's signed update is
// applied and credited to the key's principal. One tenant's login never opens the registry for
// another: an ImageRepository without it is refused, and so is a policy in another namespace.
describe('image automation with credentials: private registry, signed commits, verified deploys', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `images-auth-${id}`;
  const user = { username: 'ci', password: `pw-${randomBytes(8).toString('hex')}` };
  let root: string;
  let platform: Platform;
  const stops: (() => Promise<unknown>)[] = [];
  let tokens: TokenServer;
  let registry: DockerRegistry;
  let repo: TestRepository;
  let image: string;
  let unsigned = '';
  let allowedSigners = '';

  const head = () =>
    execFileSync('git', ['--git-dir', repo.bare, 'log', '-1', '--format=%H', 'main'], {
      encoding: 'utf8',
    }).trim();
  const ready = async (kind: string, name: string, apiVersion = 'capstan.dev/v1alpha1') => {
    const o = await readObject<WithConditions>(platform.api, apiVersion, kind, ns, name);
    return o?.status?.conditions?.find((c) => c.type === 'Ready');
  };
  const decisionsOf = async (sha: string) =>
    (
      await platform.auditGet<{ items: Decision[] }>(
        `/api/v1/decisions?revision=${encodeURIComponent(`main@sha1:${sha}`)}&limit=50`,
      )
    ).items;
  const deploymentImage = async () =>
    (
      await readObject<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
        platform.api,
        'apps/v1',
        'Deployment',
        ns,
        'api',
      )
    )?.spec.template.spec.containers[0]?.image;
  const api = (tag: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: api
          image: ${image}:${tag} # {"$imagepolicy": "${ns}:api"}
`;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), `capstan-e2e-images-auth-${id}-`));
    platform = await Platform.start();
    stops.push(() => platform.stop());
    tokens = await TokenServer.start(user);
    stops.push(() => tokens.stop());
    registry = await DockerRegistry.start({
      tokenAuth: {
        realm: tokens.realm,
        service: tokens.service,
        issuer: tokens.issuer,
        certPath: tokens.certPath,
      },
    });
    stops.push(() => registry.stop());
    image = `${registry.host}/team/api`;
    await registry.push('team/api', '1.0.0', { credentials: user });
    const watcher = await startRegistryWatcher({
      ...platform.env,
      GIT_CACHE_DIR: join(root, 'registry-watcher'),
    });
    stops.push(() => watcher.close());

    const keyFile = join(root, 'signing');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'capstan', '-f', keyFile]);
    const privateKey = await readFile(keyFile, 'utf8');
    const publicKey = (await readFile(`${keyFile}.pub`, 'utf8')).trim();
    allowedSigners = join(root, 'allowed_signers');
    await writeFile(allowedSigners, `capstan@capstan.dev ${publicKey}\n`);

    repo = await TestRepository.create(root, 'fleet');
    await repo.write({ 'deploy/api.yaml': api('1.0.0') });
    unsigned = repo.commit('api 1.0.0, committed by a person without a signature');
    stops.push(() =>
      platform.api
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
        .catch(() => undefined),
    );
    await applyYaml(platform.api, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
    const dockerConfig = JSON.stringify({ auths: { [registry.host]: user } });
    await applyYaml(
      platform.api,
      `apiVersion: v1
kind: Secret
metadata: {name: registry-login, namespace: ${ns}}
type: kubernetes.io/dockerconfigjson
stringData: {.dockerconfigjson: '${dockerConfig}'}
---
apiVersion: v1
kind: Secret
metadata: {name: bot-signing-key, namespace: ${ns}}
stringData:
  identity: |
${privateKey
  .trimEnd()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
---
apiVersion: v1
kind: Secret
metadata: {name: trusted-keys, namespace: ${ns}}
stringData: {allowed_signers: "capstan@capstan.dev ${publicKey}"}
---
apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: fleet, namespace: ${ns}}
spec: {url: "${repo.fileUrl}", ref: {branch: main}, interval: 1s, verify: {mode: HEAD, secretRef: {name: trusted-keys}}}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: fleet, namespace: ${ns}}
spec: {sourceRef: {kind: GitRepository, name: fleet}, path: ./deploy, interval: 10m, verification: {required: true}}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: api, namespace: ${ns}}
spec: {image: ${image}, interval: 2s, secretRef: {name: registry-login}}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: api-anonymous, namespace: ${ns}}
spec: {image: ${image}, interval: 1h}
---
apiVersion: capstan.dev/v1alpha1
kind: ImagePolicy
metadata: {name: api, namespace: ${ns}}
spec:
  imageRepositoryRef: {name: api}
  policy: {semver: {range: ^1.0.0}}
---
apiVersion: capstan.dev/v1alpha1
kind: ImagePolicy
metadata: {name: someone-elses, namespace: ${ns}}
spec:
  imageRepositoryRef: {name: api, namespace: default}
  policy: {semver: {range: ">=0.0.0"}}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageUpdateAutomation
metadata: {name: fleet, namespace: ${ns}}
spec:
  sourceRef: {kind: GitRepository, name: fleet}
  interval: 1h
  git:
    commit:
      author: {name: Capstan Bot, email: capstan@capstan.dev}
      signingKey: {secretRef: {name: bot-signing-key}}
  update: {path: ./deploy, strategy: Setters}
`,
    );
  });

  after(async () => {
    for (const stop of stops.reverse()) await stop();
    await rm(root, { recursive: true, force: true });
  });

  it('scans the private registry with the Secret’s login, and says why it cannot without one', async () => {
    await waitFor('ImageRepository api scanned with credentials', async () =>
      (await ready('ImageRepository', 'api'))?.status === 'True' ? true : undefined,
    );
    assert.ok(tokens.issued > 0, 'the registry-watcher obtained a token with the Secret’s password');
    let last: Condition | undefined;
    const anonymous = await waitFor('ImageRepository api-anonymous refused', async () => {
      last = await ready('ImageRepository', 'api-anonymous');
      return last?.status === 'False' ? last : undefined;
    }).catch((e: unknown) => {
      throw new Error(`${String(e)}; Ready was ${JSON.stringify(last)}`);
    });
    assert.match(`${anonymous.reason}: ${anonymous.message}`, /401|unauthori[sz]ed|credentials/i);
    // Nor can a policy follow another namespace's ImageRepository (and its login).
    const crossNamespace = await waitFor('cross-namespace ImagePolicy refused', async () => {
      const c = await ready('ImagePolicy', 'someone-elses');
      return c?.status === 'False' ? c : undefined;
    });
    assert.equal(crossNamespace.reason, 'CrossNamespaceRefNotAllowed');
    assert.match(
      crossNamespace.message,
      /^spec\.imageRepositoryRef: ImageRepository default\/api is in another namespace/,
    );
    const policy = await waitFor('ImagePolicy api at 1.0.0', async () => {
      const p = await readObject<{ status?: { latestRef?: { tag: string } } }>(
        platform.api,
        'capstan.dev/v1alpha1',
        'ImagePolicy',
        ns,
        'api',
      );
      return p?.status?.latestRef?.tag === '1.0.0' ? p : undefined;
    });
    assert.equal(policy.status?.latestRef?.tag, '1.0.0');
  });

  it('refuses the unsigned human commit, then applies the automation’s signed update, crediting its key', async () => {
    const refused = await waitFor('Sync refuses the unsigned commit', async () => {
      const c = await ready('Sync', 'fleet');
      return c?.status === 'False' && c.reason === 'CommitNotVerified' ? c : undefined;
    });
    assert.match(refused.message, /not signed/);
    assert.equal(await deploymentImage(), undefined, 'nothing of the unsigned commit was applied');

    // This registry sends no notifications: the next scan (every 2 s here) finds the new tag.
    await registry.push('team/api', '1.1.0', { credentials: user });
    const sha = await waitFor('the automation’s commit', () => (head() !== unsigned ? head() : undefined));
    // Git itself checks the SSH signature against the bot's public key.
    const signature = execFileSync(
      'git',
      [
        '--git-dir',
        repo.bare,
        '-c',
        `gpg.ssh.allowedSignersFile=${allowedSigners}`,
        'log',
        '-1',
        '--format=%G?|%GS|%an',
        sha,
      ],
      { encoding: 'utf8' },
    ).trim();
    assert.equal(signature, 'G|capstan@capstan.dev|Capstan Bot');
    await waitFor('1.1.0 deployed', async () =>
      (await deploymentImage()) === `${image}:1.1.0` ? true : undefined,
    );
    const applied = await waitFor('applied decision for the signed commit', async () =>
      (await decisionsOf(sha)).find((d) => d.action === 'applied'),
    );
    assert.ok(
      applied.actors.some((a) => a.name === 'capstan@capstan.dev' && a.evidence === 'verified-signer'),
      JSON.stringify(applied.actors),
    );
    const failed = (await decisionsOf(unsigned)).find((d) => d.action === 'failed');
    assert.equal(failed?.reason, 'CommitNotVerified');
  });
});
