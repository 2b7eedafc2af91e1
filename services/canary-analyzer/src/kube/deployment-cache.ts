import { makeInformer, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
// The client's own model serializer: a watch event is raw JSON, a read is a typed V1Deployment.
// Both go through it here, so a cached Deployment is exactly what a read returns (the revision
// hash of a pod template must not depend on which of the two delivered it).
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { KeptWatch, type ObjectApi } from '@capstan/kube';
import type { DeploymentLike } from '../domain/workload-objects.js';

type Deployment = DeploymentLike & KubernetesObject;

/**
 * Deployments of the watched namespaces, kept by a watch. Every tick of every Canary looks at
 * its target and primary; with 100 Canaries stepping every 10 s, reading them from the API
 * server each time was most of the analyzer's calls and most of a step's lateness. A cached
 * object may lag a write by the watch's latency: every use tolerates that (the writes are
 * idempotent applies and scales, and readiness is awaited tick after tick anyway).
 */
export class DeploymentCache {
  private readonly objects = new Map<string, Deployment>();
  private readonly watches: KeptWatch<Deployment>[] = [];

  constructor(
    private readonly kc: KubeConfig,
    private readonly api: ObjectApi,
    /** Empty: every namespace (one cluster-wide watch). */
    private readonly namespaces: readonly string[],
    private readonly warn: (m: string) => void,
  ) {}

  /** Starts the watches; until they have listed, `covers` is false and reads go to the API server. */
  async start(): Promise<void> {
    const scopes = this.namespaces.length > 0 ? this.namespaces : [undefined];
    for (const ns of scopes) {
      const path = ns ? `/apis/apps/v1/namespaces/${ns}/deployments` : '/apis/apps/v1/deployments';
      const informer = makeInformer<Deployment>(this.kc, path, async () => {
        const list = (await this.api.list('apps/v1', 'Deployment', ns)) as {
          items: Deployment[];
          metadata?: { resourceVersion?: string };
        };
        return { items: list.items, metadata: list.metadata ?? {} };
      });
      informer.on('add', (d) => this.put(d));
      informer.on('update', (d) => this.put(d));
      informer.on('delete', (d) => this.objects.delete(keyOf(d)));
      const watch = new KeptWatch(informer, `deployments${ns ? ` in ${ns}` : ''}`, this.warn);
      this.watches.push(watch);
      await watch.start();
    }
  }

  /** Whether the cache can answer for this namespace now (listed and watching). */
  covers(namespace: string): boolean {
    if (this.watches.length === 0 || !this.watches.every((w) => w.synced)) return false;
    return this.namespaces.length === 0 || this.namespaces.includes(namespace);
  }

  get(namespace: string, name: string): Deployment | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  async stop(): Promise<void> {
    for (const w of this.watches) await w.stop();
  }

  private put(d: Deployment): void {
    // Items of the list are typed already; watch events are raw JSON.
    const typed = (
      d.constructor === Object ? ObjectSerializer.deserialize(d, 'V1Deployment') : d
    ) as Deployment;
    // Who wrote which field is most of a Deployment's bytes and nothing the analyzer reads;
    // with hundreds of Deployments it was megabytes of the analyzer's heap (the informer keeps
    // the object it was given as well, so both lose it).
    delete d.metadata?.managedFields;
    delete typed.metadata?.managedFields;
    this.objects.set(keyOf(d), typed);
  }
}

const keyOf = (d: KubernetesObject) => `${d.metadata?.namespace ?? ''}/${d.metadata?.name ?? ''}`;
