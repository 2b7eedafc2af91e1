import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { isNotFound } from './errors.js';

/** The Secret a spec names does not exist (yet): reported on the object's status, retried with backoff. */
export class SecretNotFoundError extends Error {
  constructor(
    readonly namespace: string,
    readonly secret: string,
  ) {
    super(`secret ${namespace}/${secret} not found`);
    this.name = 'SecretNotFoundError';
  }
}

/** Reads Secrets through the Kubernetes API, decoded; the only way Capstan's services see credentials. */
export class SecretReader {
  // Built on the first read: with lazily loaded API groups (lazy-api-groups.ts), a service that
  // never reads a Secret never loads the core group's code (the largest, ~8 MiB resident).
  private core?: CoreV1Api;

  constructor(private readonly kc: KubeConfig) {}

  async read(namespace: string, name: string): Promise<Record<string, string>> {
    try {
      this.core ??= this.kc.makeApiClient(CoreV1Api);
      const secret = await this.core.readNamespacedSecret({ namespace, name });
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(secret.data ?? {}))
        data[k] = Buffer.from(v, 'base64').toString('utf8');
      for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = v;
      return data;
    } catch (e) {
      if (isNotFound(e)) throw new SecretNotFoundError(namespace, name);
      throw e;
    }
  }
}
