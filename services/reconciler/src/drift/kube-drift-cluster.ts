import {
  HttpMethod,
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { ObjectApi, isNotFound, type ServiceAccountRef } from '@capstan/kube';
import type { TenantClients } from '../cluster/tenant-clients.js';
import type { KubeObject, WatchedObject } from '@capstan/gitops-core';

// Typed as the client's objects for its informer; they are raw JSON (times are strings).
type Listed = KubernetesObject;

export type WatchHandler = (type: 'upsert' | 'delete', object: WatchedObject) => void;

/** One running watch over one kind. */
export interface KindWatch {
  stop(): Promise<void>;
}

/** What the drift monitor needs from the API server; the real one is below, tests use it too. */
export abstract class DriftCluster {
  /** One cluster-wide watch of `kind` restricted to `labelSelector`, resumed on errors until stopped. */
  abstract watchKind(
    apiVersion: string,
    kind: string,
    labelSelector: string,
    handler: WatchHandler,
    onError: (e: unknown) => void,
  ): KindWatch;
  abstract read(ref: {
    apiVersion: string;
    kind: string;
    namespace: string;
    name: string;
  }): Promise<WatchedObject | undefined>;
  /**
   * Server-side apply with force; a `metadata.resourceVersion` in the object is a precondition.
   * `identity`: the ServiceAccount to impersonate (the Sync's), the reconciler's own if unset.
   */
  abstract apply(object: KubeObject, fieldManager: string, identity?: ServiceAccountRef): Promise<void>;
}

/** ObjectApi plus raw (untyped) reads: the client's models would turn times into Dates and drop fields. */
class RawObjectApi extends ObjectApi {
  async collectionPath(apiVersion: string, kind: string): Promise<string> {
    return this.specUriPath({ apiVersion, kind, metadata: {} }, 'list');
  }

  async getRaw<T>(path: string, query: Record<string, string> = {}): Promise<T> {
    const ctx = this.configuration.baseServer.makeRequestContext(path, HttpMethod.GET);
    ctx.setHeaderParam('Accept', 'application/json');
    for (const [k, v] of Object.entries(query)) ctx.setQueryParam(k, v);
    return (await this.requestPromise(ctx, 'any')) as T;
  }

  async readRaw(o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }) {
    return this.getRaw<WatchedObject>(await this.specUriPath(o, 'read'));
  }
}

export class KubeDriftCluster extends DriftCluster {
  private readonly api: RawObjectApi;

  constructor(
    private readonly kc: KubeConfig,
    private readonly tenants: TenantClients,
  ) {
    super();
    const api: ObjectApi = ObjectApi.fromKubeConfig(kc);
    Object.setPrototypeOf(api, RawObjectApi.prototype);
    this.api = api as RawObjectApi;
  }

  watchKind(
    apiVersion: string,
    kind: string,
    labelSelector: string,
    handler: WatchHandler,
    onError: (e: unknown) => void,
  ): KindWatch {
    let stopped = false;
    let informer: Informer<Listed> | undefined;
    const start = async (): Promise<void> => {
      while (!stopped) {
        try {
          informer ??= await this.informer(apiVersion, kind, labelSelector, handler, (e) => {
            if (stopped) return; // stopping aborts the watch; that is not a failure
            onError(e);
            // The informer relists on restart, so nothing changed meanwhile is missed.
            setTimeout(() => void start(), 1_000);
          });
          await informer.start();
          return;
        } catch (e) {
          onError(e);
          await new Promise((r) => setTimeout(r, 2_000));
        }
      }
    };
    void start();
    return {
      stop: async () => {
        stopped = true;
        await informer?.stop();
      },
    };
  }

  private async informer(
    apiVersion: string,
    kind: string,
    labelSelector: string,
    handler: WatchHandler,
    onError: (e: unknown) => void,
  ): Promise<Informer<Listed>> {
    const path = await this.api.collectionPath(apiVersion, kind);
    const informer = makeInformer<Listed>(
      this.kc,
      path,
      () => this.api.getRaw<KubernetesListObject<Listed>>(path, { labelSelector }),
      labelSelector,
    );
    informer.on('add', (o) => handler('upsert', o as WatchedObject));
    informer.on('update', (o) => handler('upsert', o as WatchedObject));
    informer.on('delete', (o) => handler('delete', o as WatchedObject));
    informer.on('error', onError);
    return informer;
  }

  async read(ref: { apiVersion: string; kind: string; namespace: string; name: string }) {
    try {
      return await this.api.readRaw({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
      });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async apply(object: KubeObject, fieldManager: string, identity?: ServiceAccountRef): Promise<void> {
    await this.tenants.for(identity).api.applyRaw(object, { fieldManager, force: true });
  }
}
