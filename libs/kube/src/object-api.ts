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

  /** undefined when the API server does not know the kind (yet: a CRD may be on its way). */
  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    const resource = await this.resource(apiVersion, kind);
    return resource?.namespaced;
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
