import { Injectable } from '@nestjs/common';
import type { ImageRef } from '@capstan/image-policy';
import { SecretReader } from '@capstan/kube';
import type { RegistryCredentials, RepositoryRef } from '@capstan/registry';
import type { ImageRepository } from '../resources/image-types.js';
import { registryCredentials } from './registry-access.js';
import { InvalidRepositoryError } from './invalid-repository.js';

/**
 * An ImageRepository's own login, from the Secret its `spec.secretRef` names in its namespace.
 * It goes with each request of that repository only (RepositoryRef.credentials): a login is never
 * remembered per registry, where another tenant's ImageRepository would be let in with it.
 */
@Injectable()
export class RepositoryLogin {
  constructor(private readonly secrets: SecretReader) {}

  /** The image as this ImageRepository may reach it: its login and its plain-HTTP choice. */
  async access(
    repo: ImageRepository,
    image: Pick<ImageRef, 'registry' | 'repository'>,
  ): Promise<RepositoryRef> {
    const credentials = await this.of(repo, image);
    return {
      registry: image.registry,
      repository: image.repository,
      ...(credentials ? { credentials } : {}),
      ...(repo.spec.insecure ? { plainHttp: true } : {}),
    };
  }

  async of(
    repo: ImageRepository,
    image: Pick<ImageRef, 'registry'>,
  ): Promise<RegistryCredentials | undefined> {
    if (!repo.spec.secretRef) return undefined;
    const data = await this.secrets.read(repo.metadata.namespace, repo.spec.secretRef.name);
    const credentials = registryCredentials(image.registry, data);
    if (!credentials)
      throw new InvalidRepositoryError(
        'spec.secretRef',
        `secret ${repo.spec.secretRef.name} has no username/password or .dockerconfigjson entry for ${image.registry}`,
      );
    return credentials;
  }
}
