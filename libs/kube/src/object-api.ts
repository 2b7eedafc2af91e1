import { KubernetesObjectApi, type KubeConfig } from '@kubernetes/client-node';

/** KubernetesObjectApi already caches discovery; we only need to ask it whether a kind is namespaced. */
export class ObjectApi extends KubernetesObjectApi {
  static fromKubeConfig(kc: KubeConfig): ObjectApi {
    const api = KubernetesObjectApi.makeApiClient(kc) as ObjectApi;
    Object.setPrototypeOf(api, ObjectApi.prototype);
    return api;
  }

  /** undefined when the API server does not know the kind (yet: a CRD may be on its way). */
  async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    const resource = await this.resource(apiVersion, kind);
    return resource?.namespaced;
  }
}
