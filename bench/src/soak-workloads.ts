import { PagingRegistry } from '@capstan/testing';
import { applyYaml, readObject, type SyncFleet } from '@capstan/e2e';

/** Repositories the soak's registry-watcher scans, and the tags each keeps (a sliding window). */
const REPOSITORIES = 10;
const WINDOW = 200;
/** Canaries the soak's analyzer drives; one of them gets a new revision every `CANARY_EVERY` ticks. */
const CANARIES = 5;
const CANARY_EVERY = 6;

/**
 * What the soak gives the registry-watcher and the canary-analyzer to do at a steady rate, so
 * all five services run for the hour. Image tags slide (one new, the oldest gone, each tick) so
 * the amount of data stays the same and memory can only grow by a leak; Canaries are blue/green
 * on plain Services (no metrics, no data plane), each new revision a full analysis and promotion.
 */
export class SoakWorkloads {
  private tick = 0;
  private rollouts = 0;

  private constructor(
    private readonly fleet: SyncFleet,
    private readonly registry: PagingRegistry,
  ) {}

  static async start(fleet: SyncFleet): Promise<SoakWorkloads> {
    const holder: { self?: SoakWorkloads } = {};
    const registry = await PagingRegistry.start({
      tags: (r) => (/^soak\/app-\d+$/.test(r) ? (holder.self?.tags() ?? []) : undefined),
      pageCap: 1_000,
    });
    const self = new SoakWorkloads(fleet, registry);
    holder.self = self;
    const ns = fleet.ns;
    const images = Array.from(
      { length: REPOSITORIES },
      (_, i) => `apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: app-${i}, namespace: ${ns}}
spec: {image: ${registry.host}/soak/app-${i}, interval: 10s}
---
apiVersion: capstan.dev/v1alpha1
kind: ImagePolicy
metadata: {name: app-${i}, namespace: ${ns}}
spec: {imageRepositoryRef: {name: app-${i}}, policy: {semver: {range: ">=1.0.0"}}}
`,
    );
    const canaries = Array.from({ length: CANARIES }, (_, i) => canaryYaml(ns, `web-${i}`, 0));
    await applyYaml(fleet.api, [...images, ...canaries].join('---\n'));
    return self;
  }

  /** The window of tags the registry serves now: `1.0.<tick>` back to `WINDOW` ticks ago. */
  private tags(): string[] {
    const first = Math.max(0, this.tick - WINDOW + 1);
    return Array.from({ length: this.tick - first + 1 }, (_, i) => `1.0.${first + i}`);
  }

  /** One step of the steady rate: a new tag everywhere, and every few ticks a Canary's new revision. */
  async step(): Promise<void> {
    this.tick++;
    if (this.tick % CANARY_EVERY === 0) {
      const i = (this.tick / CANARY_EVERY) % CANARIES;
      await applyYaml(this.fleet.api, canaryYaml(this.fleet.ns, `web-${i}`, this.tick));
      this.rollouts++;
    }
  }

  /** How much happened: tags published and Canary revisions started. */
  summary(): string {
    return `${this.tick} new tags in each of ${REPOSITORIES} repositories (a window of ${WINDOW}, scanned every 10 s) and ${this.rollouts} Canary revisions across ${CANARIES} blue/green Canaries (2 iterations of 10 s each, then promotion)`;
  }

  /**
   * Whether the two services kept up, read from their status: ImagePolicies whose pick is the
   * newest tag, and Canaries whose last revision was promoted. A leak check is worthless if the
   * service stopped working.
   */
  async outcome(): Promise<string> {
    const newest = `1.0.${this.tick}`;
    let current = 0;
    for (let i = 0; i < REPOSITORIES; i++) {
      const p = await readObject<{ status?: { latestRef?: { tag?: string } | null } }>(
        this.fleet.api,
        'capstan.dev/v1alpha1',
        'ImagePolicy',
        this.fleet.ns,
        `app-${i}`,
      );
      if (p?.status?.latestRef?.tag === newest) current++;
    }
    const phases: string[] = [];
    for (let i = 0; i < CANARIES; i++) {
      const c = await readObject<{ status?: { phase?: string } }>(
        this.fleet.api,
        'capstan.dev/v1alpha1',
        'Canary',
        this.fleet.ns,
        `web-${i}`,
      );
      phases.push(c?.status?.phase ?? 'none');
    }
    return `At the end, ${current} of ${REPOSITORIES} ImagePolicies picked the newest tag (${newest}); Canary phases: ${phases.join(', ')}.`;
  }

  async stop(): Promise<void> {
    await this.registry.stop();
  }
}

/** A Deployment (kwok runs its pods) and its blue/green Canary; `revision` changes the pod template. */
function canaryYaml(ns: string, name: string, revision: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}, annotations: {soak/revision: "${revision}"}}
    spec: {containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]}
---
apiVersion: capstan.dev/v1alpha1
kind: Canary
metadata: {name: ${name}, namespace: ${ns}}
spec:
  provider: kubernetes
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: ${name}}
  service: {port: 80}
  analysis:
    interval: 10s
    threshold: 2
    iterations: 2
    metrics: []
`;
}
