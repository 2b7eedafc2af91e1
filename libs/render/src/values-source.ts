import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { isNotFound } from '@capstan/kube';

/** Reads one key of a ConfigMap or Secret; undefined when the object or the key does not exist. */
export interface ValuesSource {
  read(
    kind: 'ConfigMap' | 'Secret',
    namespace: string,
    name: string,
    key: string,
  ): Promise<string | undefined>;
}

/** ValuesSource over the Kubernetes API (Secret data is base64, ConfigMaps may use binaryData). */
export class KubeValuesSource implements ValuesSource {
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async read(
    kind: 'ConfigMap' | 'Secret',
    namespace: string,
    name: string,
    key: string,
  ): Promise<string | undefined> {
    try {
      if (kind === 'ConfigMap') {
        const cm = await this.core.readNamespacedConfigMap({ namespace, name });
        const binary = cm.binaryData?.[key];
        return (
          cm.data?.[key] ?? (binary === undefined ? undefined : Buffer.from(binary, 'base64').toString())
        );
      }
      const secret = await this.core.readNamespacedSecret({ namespace, name });
      const data = secret.data?.[key];
      return data === undefined ? secret.stringData?.[key] : Buffer.from(data, 'base64').toString();
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }
}
