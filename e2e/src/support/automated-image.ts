import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PagingRegistry } from '@capstan/testing';
import { GitRepo } from './git-repo.js';
import { applyYaml, readObject } from './kube.js';
import type { SyncFleet } from './sync-fleet.js';

/** Who the registry-watcher commits as (its AUTOMATION_AUTHOR_EMAIL default). */
const BOT_EMAIL = 'capstan@capstan.dev';

/**
 * Image automation beside a SyncFleet: a registry on loopback, a Git repository of its own (the
 * fleet's clone pushes without pulling, so an automation commit there would break its next push)
 * with one ConfigMap whose `image` carries a setter marker, and the ImageRepository, ImagePolicy,
 * ImageUpdateAutomation and Sync that turn a new tag into a commit and the commit into the object.
 */
export class AutomatedImage {
  private constructor(
    private readonly fleet: SyncFleet,
    private readonly registry: PagingRegistry,
    private readonly repo: GitRepo,
    private readonly tags: string[],
  ) {}

  /** `tags`: what the registry offers at first; the file starts at `tags[0]`. */
  static async start(fleet: SyncFleet, root: string, tags: string[]): Promise<AutomatedImage> {
    const offered = [...tags];
    const registry = await PagingRegistry.start({
      tags: (r) => (r === 'team/app' ? offered : undefined),
      pageCap: 100,
    });
    const repo = await GitRepo.create(join(root, 'images'));
    const self = new AutomatedImage(fleet, registry, repo, offered);
    const { ns } = fleet;
    await repo.write({
      'deploy/configmap.yaml': `apiVersion: v1
kind: ConfigMap
metadata: {name: automated, namespace: ${ns}}
data:
  image: ${self.image}:${tags[0] ?? ''} # {"$imagepolicy": "${ns}:app"}
`,
    });
    repo.commit('the app at its first tag', { name: 'Fleet', email: 'fleet@example.com' });
    await applyYaml(
      fleet.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: images, namespace: ${ns}}
spec: {url: "${repo.url}", ref: {branch: main}, interval: 1s}
---
apiVersion: capstan.dev/v1alpha1
kind: Sync
metadata: {name: images, namespace: ${ns}}
spec: {sourceRef: {kind: GitRepository, name: images}, path: ./deploy, interval: 1h}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: app, namespace: ${ns}}
spec: {image: ${self.image}, interval: 2s}
---
apiVersion: capstan.dev/v1alpha1
kind: ImagePolicy
metadata: {name: app, namespace: ${ns}}
spec:
  imageRepositoryRef: {name: app}
  policy: {semver: {range: ">=1.0.0"}}
---
apiVersion: capstan.dev/v1alpha1
kind: ImageUpdateAutomation
metadata: {name: app, namespace: ${ns}}
spec:
  sourceRef: {kind: GitRepository, name: images}
  interval: 1h
  update: {path: ./deploy, strategy: Setters}
`,
    );
    return self;
  }

  get image(): string {
    return `${this.registry.host}/team/app`;
  }

  /** A tag pushed to the registry (seen at the ImageRepository's next scan). */
  push(tag: string): void {
    this.tags.push(tag);
  }

  /** The automation's commits on the branch, newest first (subjects). */
  automationCommits(): string[] {
    const out = this.git('log', '--format=%s', `--author=${BOT_EMAIL}`, 'main');
    return out === '' ? [] : out.split('\n');
  }

  /** The image the file says on the branch. */
  imageOnBranch(): string | undefined {
    return /image: (\S+)/.exec(this.git('show', 'main:deploy/configmap.yaml'))?.[1];
  }

  /** The image the ConfigMap in the cluster says. */
  async imageApplied(): Promise<string | undefined> {
    const cm = await readObject<{ data?: Record<string, string> }>(
      this.fleet.api,
      'v1',
      'ConfigMap',
      this.fleet.ns,
      'automated',
    );
    return cm?.data?.['image'];
  }

  async stop(): Promise<void> {
    await this.registry.stop();
  }

  private git(...args: string[]): string {
    const bare = this.repo.url.replace(/^file:\/\//, '');
    return execFileSync('git', ['--git-dir', bare, ...args], { encoding: 'utf8' }).trim();
  }
}
