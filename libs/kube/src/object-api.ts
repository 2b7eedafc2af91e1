import {
  HttpMethod,
  KubernetesObjectApi,
  PatchStrategy,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

export interface ApplyRequest {
  fieldManager: string;
  dryRun?: boolean;
  force?: boolean;
}

/**
 * KubernetesObjectApi with two additions: whether a kind is namespaced (discovery is already
 * cached there), and a server-side apply that sends the object exactly as written.
 */
export class ObjectApi extends KubernetesObjectApi {
  static fromKubeConfig(kc: KubeConfig): ObjectApi {
    // makeApiClient wires auth and the server; re-prototyping its result keeps that wiring.
    const api: KubernetesObjectApi = KubernetesObjectApi.makeApiClient(kc);
    Object.setPrototypeOf(api, ObjectApi.prototype);
    return api as ObjectApi;
  }

  /**
   * A client for another identity of the same cluster (see impersonatingKubeConfig) that shares
   * this one's discovery cache: which kinds exist and whether they are namespaced is the same
   * for every tenant, so a thousand impersonating clients cost no extra discovery requests.
   */
  withKubeConfig(kc: KubeConfig): ObjectApi {
    const api = ObjectApi.fromKubeConfig(kc);
    api.apiVersionResourceCache = this.apiVersionResourceCache;
    return api;
  }

  /** undefined when the API server does not know the kind (yet: a CRD may be on its way). */
  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    const resource = await this.resource(apiVersion, kind);
    return resource?.namespaced;
  }

  /**
   * Whether the API server serves the kind in that API version (discovery, cached per version).
   * An unknown API version (a removed one, a group not installed) answers false, not an error.
   */
  async serves(apiVersion: string, kind: string): Promise<boolean> {
    try {
      return (await this.resource(apiVersion, kind)) !== undefined;
    } catch (e) {
      if ((e as { code?: unknown } | null)?.code === 404) return false;
      throw e;
    }
  }

  /**
   * Merge-patches the status subresource of any object (a custom resource's status writer).
   */
  async patchStatus(object: KubernetesObject, status: Record<string, unknown>): Promise<void> {
    const path = `${await this.specUriPath(object, 'patch')}/status`;
    const ctx = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH);
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('Content-Type', PatchStrategy.MergePatch);
    ctx.setBody(JSON.stringify({ status }));
    await this.requestPromise(ctx);
  }

  /**
   * Server-side apply with the raw object as the body. The inherited `patch` first runs the
   * object through the client's typed models, which silently drops every field they do not
   * know (CEL rules and defaults in CRD schemas, typos in user manifests). Sending the object
   * untouched, with strict field validation, lets the API server judge what Git says.
   */
  async applyRaw<T extends KubernetesObject>(object: T, request: ApplyRequest): Promise<T> {
    const path = await this.specUriPath(object, 'patch');
    const ctx = this.configuration.baseServer.makeRequestContext(path, HttpMethod.PATCH);
    ctx.setHeaderParam('Accept', 'application/json');
    ctx.setHeaderParam('Content-Type', PatchStrategy.ServerSideApply);
    ctx.setQueryParam('fieldManager', request.fieldManager);
    ctx.setQueryParam('fieldValidation', 'Strict');
    if (request.force ?? true) ctx.setQueryParam('force', 'true');
    if (request.dryRun) ctx.setQueryParam('dryRun', 'All');
    ctx.setBody(JSON.stringify(object));
    return this.requestPromise<T>(ctx);
  }
}
