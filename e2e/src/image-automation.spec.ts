import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEPLOY_DECISION_RECORDED_V1, DeployDecisionV1Data, stableId, topology } from '@capstan/events';
import { HttpGitServer, TestRepository } from '@capstan/git/testing';
import { connectBus, type Bus } from '@capstan/messaging';
import { run } from '@capstan/cli';
import { registryWebhookSignature, startRegistryWatcher } from '@capstan/registry-watcher';
import { DockerRegistry, PagingRegistry } from '@capstan/testing';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

interface Decision {
  action: string;
  outcome: string;
  reason: string;
  message: string;
  correlationId: string | null;
  source: { sha: string } | null;
  image: { repository: string; tag: string; digest?: string } | null;
  decidedBy: { kind: string; name: string };
  targets: { kind: string; name: string; namespace: string }[];
  evidence: Record<string, unknown>;
  actors: { name: string; evidence: string }[];
}
type Condition = { type: string; status: string; reason: string; message: string };
type WithConditions = { status?: { conditions?: Condition[] } };

// The seed workshop's Flux v1 shape, end to end on real components: a helm.fluxcd.io/v1
// HelmRelease automated with `fluxcd.io/tag.chart-image: semver:~3.0`, images pushed with skopeo
// to distribution 2.8 whose notifications reach the registry-watcher, commits landing in Git,
// and the existing git-watcher + reconciler applying them; decisions checked in the audit log.
describe('image automation: registry push to Git commit to Deployment', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `images-${id}`;
  const token = `webhook-${randomBytes(12).toString('hex')}`;
  let root: string;
  let platform: Platform;
  /** What `before` started, stopped in reverse, so a failed start does not hang the run. */
  const stops: (() => Promise<unknown>)[] = [];
  let watcher: Awaited<ReturnType<typeof startRegistryWatcher>>;
  let watcherUrl: string;
  let registry: DockerRegistry;
  let repo: TestRepository;
  let bus: Bus;
  let image: string;

  const head = () =>
    execFileSync('git', ['--git-dir', repo.bare, 'log', '-1', '--format=%H', 'main'], {
      encoding: 'utf8',
    }).trim();
  const fileAt = (path: string) =>
    execFileSync('git', ['--git-dir', repo.bare, 'show', `main:${path}`], { encoding: 'utf8' });
  const messageOf = (sha: string) =>
    execFileSync('git', ['--git-dir', repo.bare, 'log', '-1', '--format=%B', sha], {
      encoding: 'utf8',
    }).trim();
  const decisions = async (query: string) =>
    (await platform.auditGet<{ items: Decision[] }>(`/api/v1/decisions?${query}&limit=200`)).items;
  const deploymentImage = async () =>
    (
      await readObject<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(
        platform.api,
        'apps/v1',
        'Deployment',
        ns,
        'podinfo',
      )
    )?.spec.template.spec.containers[0]?.image;
  const ready = async (kind: string, name: string) => {
    const o = await readObject<WithConditions>(platform.api, 'capstan.dev/v1alpha1', kind, ns, name);
    return o?.status?.conditions?.find((c) => c.type === 'Ready');
  };
  const notify = (body: unknown, auth = `Bearer ${token}`) =>
    fetch(`${watcherUrl}/registry/v1/notifications/distribution`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json', authorization: auth },
      body: JSON.stringify(body),
    });

  const release = (name: string, extra = '') => `apiVersion: helm.fluxcd.io/v1
kind: HelmRelease
metadata:
  name: ${name}
  namespace: ${ns}
  annotations:
    fluxcd.io/automated: "true"
    fluxcd.io/tag.chart-image: semver:~3.0
${extra}spec:
  releaseName: ${name}
  chart:
    git: ${repo.fileUrl}
    ref: main
    path: charts/podinfo
  values:
    image:
      repository: ${image} # pushed by CI
      tag: 3.0.0
`;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), `capstan-e2e-images-${id}-`));
    platform = await Platform.start();
    stops.push(() => platform.stop());
    watcher = await startRegistryWatcher({
      ...platform.env,
      GIT_CACHE_DIR: join(root, 'registry-watcher'),
      REGISTRY_WEBHOOK_TOKEN: token,
      // The automation below writes to the GitRepository of `default`, as one platform team's
      // repository serving several namespaces would; the installation allows it.
      ALLOW_CROSS_NAMESPACE_REFS: 'true',
    });
    watcherUrl = `http://127.0.0.1:${watcher.port}`;
    stops.push(() => watcher.close());
    registry = await DockerRegistry.start({
      notifications: [{ url: `${watcherUrl}/registry/v1/notifications/distribution`, token }],
    });
    image = `${registry.host}/team/podinfo`;
    stops.push(() => registry.stop());
    bus = await connectBus({
      url: platform.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
      topology: topology(platform.env['EVENT_PREFIX']),
    });
    stops.push(() => bus.close());
    await registry.push('team/podinfo', '3.0.0');

    repo = await TestRepository.create(root, 'fleet');
    await repo.write({
      'charts/podinfo/Chart.yaml': 'apiVersion: v2\nname: podinfo\nversion: 3.0.0\n',
      'charts/podinfo/templates/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: {name: {{ .Release.Name }}}
spec:
  replicas: 1
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      containers:
        - name: podinfo
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
`,
      'deploy/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
      'deploy/podinfo.yaml': release('podinfo'),
      'deploy/frozen.yaml': release(
        'frozen',
        '    fluxcd.io/locked: "true"\n    fluxcd.io/locked_user: Ada\n    fluxcd.io/locked_msg: load test running\n',
      ),
    });
    repo.commit('podinfo 3.0.0, automated');
    // Removed first at the end: a GitRepository left behind would be polled (and fail) forever.
    stops.push(async () => {
      for (const kind of ['Sync', 'GitRepository'])
        await platform.api
          .delete({ apiVersion: 'capstan.dev/v1alpha1', kind, metadata: { name: ns, namespace: 'default' } })
          .catch(() => undefined);
      await platform.api
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
        .catch(() => undefined);
    });
    await applyYaml(
      platform.api,
      `${repositoryAndSync(ns, repo.fileUrl, './deploy')}---
apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: podinfo, namespace: ${ns}}
spec: {image: ${image}, interval: 1h}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageUpdateAutomation
metadata: {name: fleet, namespace: ${ns}}
spec:
  sourceRef: {kind: GitRepository, name: ${ns}, namespace: default}
  interval: 1h
  git:
    commit: {author: {name: Capstan Bot, email: capstan@capstan.dev}}
  update: {path: ./deploy, strategy: Setters}
`,
    );
    await waitFor('podinfo 3.0.0 applied', async () =>
      (await deploymentImage()) === `${image}:3.0.0` ? true : undefined,
    );
    await waitFor('ImageRepository baseline scan', async () =>
      (await ready('ImageRepository', 'podinfo'))?.status === 'True' ? true : undefined,
    );
  });

  after(async () => {
    for (const stop of stops.reverse()) await stop();
    await rm(root, { recursive: true, force: true });
  });

  it('pushing 3.0.1 commits the new tag to Git and the Deployment runs it, under one correlation id', async () => {
    const before = head();
    const digest = await registry.push('team/podinfo', '3.0.1');
    const sha = await waitFor('automation commit', () => {
      const h = head();
      return h !== before ? h : undefined;
    });
    const message = messageOf(sha);
    assert.match(message, new RegExp(`^Auto-release ${image.replaceAll('.', '\\.')}:3\\.0\\.1`));
    const pushId = stableId('image-pushed', registry.host, 'team/podinfo', '3.0.1', digest);
    assert.match(message, new RegExp(`Capstan-Correlation-Id: ${pushId}`));
    // Only the tag changed: the comment and the locked release's file are as the author left them.
    assert.equal(fileAt('deploy/podinfo.yaml'), release('podinfo').replace('tag: 3.0.0', 'tag: 3.0.1'));
    assert.match(fileAt('deploy/frozen.yaml'), /tag: 3\.0\.0/);

    await waitFor('Deployment runs 3.0.1', async () =>
      (await deploymentImage()) === `${image}:3.0.1` ? true : undefined,
    );
    const updated = await waitFor('image.updated decision', async () => {
      const d = await decisions(`action=image.updated&namespace=${ns}&kind=HelmRelease&name=podinfo`);
      return d[0];
    });
    assert.equal(updated.correlationId, pushId);
    assert.equal(updated.source?.sha, sha);
    assert.deepEqual(updated.image, { repository: image, tag: '3.0.1' });
    assert.equal(updated.decidedBy.kind, 'ImageUpdateAutomation');
    assert.match(
      String(updated.evidence['why']),
      /3\.0\.1 is the highest of 2 tag\(s\) in semver range ~3\.0/,
    );
    assert.deepEqual(updated.evidence['push'], {
      event: pushId,
      image: `${image}:3.0.1`,
      digest,
      pushedAt: (updated.evidence['push'] as { pushedAt: string }).pushedAt,
      pusher: null,
    });
    // The apply of that commit is found by the commit the decision names.
    const applied = await waitFor(
      'applied decision for the automation commit',
      async () => (await decisions(`revision=${sha}&action=applied`))[0],
    );
    assert.equal(applied.source?.sha, sha);
    assert.equal(applied.correlationId, pushId, 'push, policy decision, commit and apply share one id');
    // `capstan why` tells that chain from the Deployment the chart rendered.
    const lines: string[] = [];
    assert.equal(
      await run(
        ['why', `${ns}/Deployment/podinfo`],
        (l) => lines.push(l),
        (l) => lines.push(l),
        platform.cliEnv,
      ),
      0,
    );
    const why = lines.join('\n');
    assert.match(why, new RegExp(`runs ${image.replaceAll('.', '\\.')}:3\\.0\\.1 because:`));
    assert.match(why, /1\. pushed +.*:3\.0\.1 sha256:/);
    assert.match(why, /2\. policy +fluxcd\.io\/tag\.chart-image: semver:~3\.0: 3\.0\.1 is the highest/);
    assert.match(why, /3\. commit +main@sha1:[0-9a-f]+ "Auto-release/);
    assert.match(why, /\d\. skipped +HelmRelease\/frozen: .*locked/);
    assert.match(why, /\d\. applied +Sync default\//);
    const locked = await waitFor(
      'locked release skipped',
      async () => (await decisions(`action=skipped&namespace=${ns}&kind=HelmRelease&name=frozen`))[0],
    );
    assert.equal(locked.reason, 'Locked');
    assert.match(locked.message, /is locked by Ada: load test running/);
    assert.equal(locked.correlationId, pushId);
  });

  it('pushing 3.1.0 changes nothing and records why', async () => {
    const before = head();
    await registry.push('team/podinfo', '3.1.0');
    const skipped = await waitFor('NotSelected decision', async () =>
      (await decisions(`action=skipped&namespace=${ns}&kind=HelmRelease&name=podinfo`)).find(
        (d) => d.reason === 'NotSelected',
      ),
    );
    assert.match(skipped.message, /3\.1\.0 not selected by fluxcd\.io\/tag\.chart-image: semver:~3\.0/);
    assert.match(skipped.message, /already runs/);
    assert.equal(head(), before, 'no commit for a tag outside the range');
    assert.equal(await deploymentImage(), `${image}:3.0.1`);
  });

  it('leaves a person rollback alone, refuses an image a canary failed with, then moves on to a newer one', async () => {
    // A person rolls podinfo back to 3.0.0 by hand.
    execFileSync('git', ['-C', join(root, 'fleet-work'), 'pull', '-q', '--rebase', 'origin', 'main']);
    await repo.write({
      'deploy/podinfo.yaml': fileAt('deploy/podinfo.yaml').replace('tag: 3.0.1', 'tag: 3.0.0'),
    });
    const rollback = repo.commit('roll podinfo back to 3.0.0');
    await waitFor('rollback applied', async () =>
      (await deploymentImage()) === `${image}:3.0.0` ? true : undefined,
    );
    // Any push to the repository re-runs the automation: 3.0.1 is still the pick, and stays out.
    await registry.push('team/podinfo', '2.0.0');
    const kept = await waitFor('rollback kept', async () =>
      (await decisions(`action=skipped&namespace=${ns}&kind=HelmRelease&name=podinfo`)).find(
        (d) => d.reason === 'HumanRollback',
      ),
    );
    assert.match(kept.message, /Ada rolled .*podinfo back from 3\.0\.1 to 3\.0\.0/);
    assert.equal(head(), rollback);
    // A canary of podinfo failed with 3.0.2 (what the canary-analyzer records).
    await bus.publish({
      specversion: '1.0',
      id: `canary-failed-${id}`,
      source: '/capstan/canary-analyzer',
      type: DEPLOY_DECISION_RECORDED_V1,
      subject: `Canary/${ns}/podinfo`,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      data: DeployDecisionV1Data.parse({
        action: 'canary.rolled-back',
        outcome: 'failed',
        reason: 'AnalysisFailed',
        message: 'error rate above threshold',
        decidedBy: { kind: 'Canary', namespace: ns, name: 'podinfo' },
        cluster: 'e2e',
        actor: { kind: 'capstan', name: 'canary-analyzer', evidence: 'controller' },
        image: { repository: image, tag: '3.0.2' },
        targets: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: ns, name: 'podinfo' }],
        decidedAt: new Date().toISOString(),
      }),
    });
    await registry.push('team/podinfo', '3.0.2');
    const refused = await waitFor('3.0.2 refused', async () =>
      (await decisions(`action=skipped&namespace=${ns}&kind=HelmRelease&name=podinfo`)).find(
        (d) => d.reason === 'CanaryFailed',
      ),
    );
    assert.match(refused.message, /failed with .*:3\.0\.2/);
    assert.equal(head(), rollback, 'neither the rolled-back 3.0.1 nor the failed 3.0.2 is written');
    await registry.push('team/podinfo', '3.0.3');
    const sha = await waitFor('commit of 3.0.3', () => (head() !== rollback ? head() : undefined));
    assert.match(fileAt('deploy/podinfo.yaml'), /tag: 3\.0\.3/);
    assert.match(messageOf(sha), /^Auto-release .*:3\.0\.3/);
  });

  it('updates a Flux v2 setter to the newest build, digest pinned, and says when images have no build time', async () => {
    await registry.push('team/web', 'build-1', { created: '2026-01-01T00:00:00Z' });
    await registry.push('team/repro', 'r1', { created: null });
    await registry.push('team/repro', 'r2', { created: null });
    execFileSync('git', ['-C', join(root, 'fleet-work'), 'pull', '-q', '--rebase', 'origin', 'main']);
    const web = (tag: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: ${registry.host}/team/web:${tag} # {"$imagepolicy": "${ns}:web-newest"}
`;
    await repo.write({ 'deploy/web.yaml': web('build-1') });
    const before = repo.commit('web, following the newest build');
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: web, namespace: ${ns}}
spec: {image: ${registry.host}/team/web, interval: 1h}
---
apiVersion: capstan.dev/v1alpha1
kind: ImagePolicy
metadata: {name: web-newest, namespace: ${ns}}
spec:
  imageRepositoryRef: {name: web}
  policy: {newestBuild: {}}
  digestReflectionPolicy: Always
---
apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: repro, namespace: ${ns}}
spec: {image: ${registry.host}/team/repro, interval: 1h}
---
apiVersion: capstan.dev/v1alpha1
kind: ImagePolicy
metadata: {name: repro-newest, namespace: ${ns}}
spec:
  imageRepositoryRef: {name: repro}
  policy: {newestBuild: {}}
`,
    );
    // Until its ImageRepository has listed the tags itself, a policy only says it waits for that.
    const noTime = await waitFor('repro policy without build times', async () => {
      const c = await ready('ImagePolicy', 'repro-newest');
      return c?.status === 'False' && c.reason !== 'RepositoryNotReady' ? c : undefined;
    });
    assert.equal(noTime.reason, 'NoCreatedTime');
    assert.match(noTime.message, /no tag by build time has a created time in its image config \(r1, r2\)/);
    await waitFor('web scanned', async () =>
      (await ready('ImageRepository', 'web'))?.status === 'True' ? true : undefined,
    );
    // Older by its tag's name, newer by its build: only newest-build picks it.
    const digest = await registry.push('team/web', 'build-0', { created: '2026-03-01T00:00:00Z' });
    const sha = await waitFor('setter commit', () => (head() !== before ? head() : undefined));
    assert.equal(fileAt('deploy/web.yaml'), web(`build-0@${digest}`));
    assert.match(
      messageOf(sha),
      new RegExp(`^Auto-release ${registry.host.replaceAll('.', '\\.')}/team/web:build-0@${digest}`),
    );
    const policy = await readObject<{
      status?: { latestRef?: { tag: string; digest?: string }; why?: string };
    }>(platform.api, 'capstan.dev/v1alpha1', 'ImagePolicy', ns, 'web-newest');
    assert.equal(policy?.status?.latestRef?.tag, 'build-0');
    assert.match(policy.status.why ?? '', /newest build \(2026-03-01T00:00:00Z\)/);
  });

  it('rejects bad notifications and reports bad policies and registries on their objects', async () => {
    assert.equal((await notify({ events: [] }, 'Bearer wrong-token-of-some-length')).status, 401);
    assert.equal((await notify({ events: [] }, '')).status, 401);
    const malformed = await notify({ events: [{ id: 'x', action: 'push', target: {} }] });
    assert.equal(malformed.status, 400);
    assert.match(await malformed.text(), /events\[0\]\.target\.repository/);
    const dup = {
      events: [
        {
          id: `evt-${id}`,
          timestamp: new Date().toISOString(),
          action: 'push',
          target: {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            digest: `sha256:${'b'.repeat(64)}`,
            repository: 'team/other',
            url: `http://${registry.host}/v2/team/other/manifests/sha256:bbb`,
            tag: 'v1',
          },
          actor: { name: 'ci' },
        },
      ],
    };
    const first = (await (await notify(dup)).json()) as { published: number };
    const again = (await (await notify(dup)).json()) as { published: number; duplicates: number };
    assert.deepEqual([first.published, again.published, again.duplicates], [1, 0, 1]);

    // GHCR (GitHub's HMAC signature), Docker Hub (?token=, no digest: a scan finds it), Harbor.
    const post = (format: string, body: unknown, headers: Record<string, string>, query = '') =>
      fetch(`${watcherUrl}/registry/v1/notifications/${format}${query}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const ghcr = {
      action: 'published',
      package: {
        name: 'app',
        package_type: 'CONTAINER',
        owner: { login: 'acme' },
        package_version: {
          id: 1,
          container_metadata: { tag: { name: 'v1', digest: `sha256:${'c'.repeat(64)}` } },
        },
      },
      sender: { login: 'octocat' },
    };
    const signed = registryWebhookSignature(JSON.stringify(ghcr), token);
    assert.equal((await post('ghcr', ghcr, { 'x-hub-signature-256': signed })).status, 202);
    assert.equal(
      (await post('ghcr', ghcr, { 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` })).status,
      401,
    );
    const hub = {
      push_data: { pushed_at: 1764842400, pusher: 'ada', tag: '1.0' },
      repository: { repo_name: 'acme/app' },
    };
    assert.equal((await post('dockerhub', hub, {}, `?token=${token}`)).status, 202);
    assert.equal((await post('dockerhub', hub, {}, '?token=nope')).status, 401);
    const harbor = {
      type: 'PUSH_ARTIFACT',
      occur_at: 1764842400,
      operator: 'admin',
      event_data: {
        resources: [
          {
            digest: `sha256:${'d'.repeat(64)}`,
            tag: 'v1',
            resource_url: 'harbor.example.com/library/app:v1',
          },
        ],
        repository: { repo_full_name: 'library/app' },
      },
    };
    assert.equal((await post('harbor', harbor, { authorization: token })).status, 202);
    assert.equal((await post('harbor', harbor, {})).status, 401);

    const failing = await PagingRegistry.start({ tags: () => ['1.0.0'], pageCap: 100 });
    failing.fail(500, 1000, undefined, /tags/);
    try {
      await applyYaml(
        platform.api,
        `apiVersion: capstan.dev/v1alpha1
kind: ImagePolicy
metadata: {name: broken, namespace: ${ns}}
spec:
  imageRepositoryRef: {name: podinfo}
  policy: {semver: {range: "~>3.x.y"}}
---
apiVersion: capstan.dev/v1alpha1
kind: ImagePolicy
metadata: {name: badregex, namespace: ${ns}}
spec:
  imageRepositoryRef: {name: podinfo}
  policy: {alphabetical: {order: asc}}
  filterTags: {pattern: "(unclosed"}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: flaky, namespace: ${ns}}
spec: {image: ${failing.host}/team/app, interval: 1h}
`,
      );
      const semver = await waitFor('broken policy not ready', async () => {
        const c = await ready('ImagePolicy', 'broken');
        return c?.status === 'False' ? c : undefined;
      });
      assert.equal(semver.reason, 'InvalidPolicy');
      assert.match(semver.message, /spec\.policy\.semver\.range: invalid semver range "~>3\.x\.y"/);
      const regex = await waitFor('bad regex not ready', async () => {
        const c = await ready('ImagePolicy', 'badregex');
        return c?.status === 'False' ? c : undefined;
      });
      assert.match(regex.message, /spec\.filterTags\.pattern: invalid regular expression/);
      const flaky = await waitFor('registry answering 500 reported', async () => {
        const c = await ready('ImageRepository', 'flaky');
        return c?.status === 'False' ? c : undefined;
      });
      assert.equal(flaky.reason, 'ScanFailed');
      assert.match(flaky.message, new RegExp(`${failing.host}: 500`));
    } finally {
      await failing.stop();
    }
  });

  it('records a failed decision when Git rejects the push', async () => {
    const rejecting = await TestRepository.create(root, 'rejecting');
    await rejecting.write({ 'apps/web.yaml': release('web') });
    rejecting.commit('web');
    execFileSync('sh', [
      '-c',
      `printf '#!/bin/sh\\necho "protected branch" >&2\\nexit 1\\n' > ${rejecting.bare}/hooks/pre-receive && chmod +x ${rejecting.bare}/hooks/pre-receive`,
    ]);
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: rejecting-${id}, namespace: ${ns}}
spec: {url: "${rejecting.fileUrl}", ref: {branch: main}, interval: 1h}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageUpdateAutomation
metadata: {name: rejecting, namespace: ${ns}}
spec:
  sourceRef: {kind: GitRepository, name: rejecting-${id}}
  interval: 1h
  update: {path: ./apps}
`,
    );
    const c = await waitFor('automation not ready', async () => {
      const r = await ready('ImageUpdateAutomation', 'rejecting');
      return r?.status === 'False' ? r : undefined;
    });
    assert.equal(c.reason, 'PushFailed');
    assert.match(c.message, /protected branch|pre-receive/);
    const failed = await waitFor('failed decision', async () =>
      (await decisions(`action=failed`)).find(
        (d) => d.decidedBy.kind === 'ImageUpdateAutomation' && d.decidedBy.name === 'rejecting',
      ),
    );
    assert.equal(failed.reason, 'PushFailed');
  });

  it("keeps a person's push that lands between its fetch and its push: both commits are on the branch", async () => {
    // A repository served over smart HTTP by git itself. When the automation's pack arrives (it
    // has fetched, committed and read the branch tip), a person's commit is pushed first, so git
    // refuses the automation's push as it would on any busy repository.
    const racing = await TestRepository.create(root, 'racing');
    const racer = `${registry.host}/team/racer`;
    const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: racer
  namespace: ${ns}
  annotations:
    fluxcd.io/automated: "true"
    fluxcd.io/tag.racer: semver:~1.0
spec:
  selector: {matchLabels: {app: racer}}
  template:
    metadata: {labels: {app: racer}}
    spec:
      containers:
        - name: racer
          image: ${racer}:1.0.0 # pushed by CI
`;
    // Pushed before the automation exists: its first run finds the repository and nothing to do.
    await registry.push('team/racer', '1.0.0');
    await racing.write({ 'apps/racer.yaml': deployment, 'apps/notes.yaml': 'owner: team-a\n' });
    const initial = racing.commit('racer 1.0.0');
    let human: string | undefined;
    let pushesSeen = 0;
    const server = await HttpGitServer.start(root, undefined, {
      beforePush: async (repository) => {
        if (repository !== 'racing.git') return;
        pushesSeen++;
        if (human) return;
        await racing.write({ 'apps/notes.yaml': 'owner: team-b\n' });
        human = racing.commit('hand racer to team B');
      },
    });
    try {
      await applyYaml(
        platform.api,
        `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: racing-${id}, namespace: ${ns}}
spec: {url: "${server.url('racing.git')}", ref: {branch: main}, interval: 1h}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageUpdateAutomation
metadata: {name: racing, namespace: ${ns}}
spec:
  sourceRef: {kind: GitRepository, name: racing-${id}}
  interval: 1h
  git:
    commit: {author: {name: Capstan Bot, email: capstan@capstan.dev}}
  update: {path: ./apps}
`,
      );
      await waitFor('racing automation ready', async () =>
        (await ready('ImageUpdateAutomation', 'racing'))?.status === 'True' ? true : undefined,
      );
      assert.equal(pushesSeen, 0, 'nothing to commit before the push');
      const digest = await registry.push('team/racer', '1.0.1');
      const log = () =>
        execFileSync('git', ['--git-dir', racing.bare, 'log', '--format=%H|%P|%an|%s', 'main'], {
          encoding: 'utf8',
        })
          .trim()
          .split('\n')
          .map((l) => {
            const [sha = '', parents = '', author = '', subject = ''] = l.split('|');
            return { sha, parents, author, subject };
          });
      // Two pushes, a fetch and a rebase through a CGI server: slow on a loaded machine.
      const commits = await waitFor(
        "automation commit on top of the person's",
        () => {
          const c = log();
          return c[0]?.author === 'Capstan Bot' ? c : undefined;
        },
        180_000,
      );
      assert.ok(human, 'the person pushed while the automation was pushing');
      assert.equal(pushesSeen, 2, 'refused once, then pushed after the rebase');
      assert.deepEqual(
        commits.map((c) => c.subject),
        [`Auto-release ${racer}:1.0.1`, 'hand racer to team B', 'racer 1.0.0'],
      );
      assert.equal(commits[0]?.parents, human);
      assert.equal(commits[1]?.sha, human);
      assert.equal(commits[2]?.sha, initial);
      const show = (path: string) =>
        execFileSync('git', ['--git-dir', racing.bare, 'show', `main:${path}`], { encoding: 'utf8' });
      assert.equal(show('apps/racer.yaml'), deployment.replace(`${racer}:1.0.0`, `${racer}:1.0.1`));
      assert.equal(show('apps/notes.yaml'), 'owner: team-b\n');
      const updated = await waitFor(
        'image.updated decision naming the rebased commit',
        async () => (await decisions(`action=image.updated&namespace=${ns}&kind=Deployment&name=racer`))[0],
      );
      assert.equal(updated.source?.sha, commits.at(0)?.sha);
      assert.equal(
        updated.correlationId,
        stableId('image-pushed', registry.host, 'team/racer', '1.0.1', digest),
      );
    } finally {
      await platform.api
        .delete({
          apiVersion: 'capstan.dev/v1alpha1',
          kind: 'ImageUpdateAutomation',
          metadata: { name: 'racing', namespace: ns },
        })
        .catch(() => undefined);
      await platform.api
        .delete({
          apiVersion: 'capstan.dev/v1alpha1',
          kind: 'GitRepository',
          metadata: { name: `racing-${id}`, namespace: ns },
        })
        .catch(() => undefined);
      await server.stop();
    }
  });

  it('remembers what it has seen across a restart: nothing is published again', async () => {
    const stream = bus.topology.streams.events.name;
    const count = async () => {
      const info = await bus.jsm.streams.info(stream, {
        subjects_filter: `${bus.topology.prefix}.registry.>`,
      });
      return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
    };
    const before = await count();
    const scanned = (
      await readObject<{ status?: { lastScanResult?: { scanTime: string } } }>(
        platform.api,
        'capstan.dev/v1alpha1',
        'ImageRepository',
        ns,
        'podinfo',
      )
    )?.status?.lastScanResult?.scanTime;
    await watcher.close();
    watcher = await startRegistryWatcher({
      ...platform.env,
      GIT_CACHE_DIR: join(root, 'registry-watcher'),
      REGISTRY_WEBHOOK_TOKEN: token,
    });
    // The restarted watcher lists every ImageRepository and scans it at once.
    const r = await waitFor('rescan after restart', async () => {
      const o = await readObject<{
        status?: { lastScanResult?: { scanTime: string; newTags: number; tagCount: number } };
      }>(platform.api, 'capstan.dev/v1alpha1', 'ImageRepository', ns, 'podinfo');
      const s = o?.status?.lastScanResult;
      return s && s.scanTime !== scanned ? s : undefined;
    });
    assert.equal(r.newTags, 0);
    assert.equal(r.tagCount, 6);
    assert.equal(await count(), before);
  });
});
