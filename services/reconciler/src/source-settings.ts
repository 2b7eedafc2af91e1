import { Injectable } from '@nestjs/common';
import type { CommitVerification } from '@capstan/events';
import { credentialsFromSecret, type FetchOptions } from '@capstan/git';
import { CapstanResources, SecretReader, type GitRepository, type Sync } from '@capstan/kube';

export interface SourceSettings {
  /** Credentials from the GitRepository's secretRef, for private repositories. */
  fetch: FetchOptions;
  /** The GitRepository's `spec.ignore` (gitignore syntax), applied with the repo's `.capstanignore`. */
  ignore?: string;
  /** What the git-watcher found about the signature of the commit the source points at. */
  artifactVerification?: { sha: string; verification: CommitVerification };
}

/** What a Sync's source says about how to read it: read from the GitRepository and its Secret. */
@Injectable()
export class SourceSettingsReader {
  constructor(
    private readonly resources: CapstanResources,
    private readonly secrets: SecretReader,
  ) {}

  async forSync(sync: Sync): Promise<SourceSettings> {
    const namespace = sync.spec.sourceRef.namespace ?? sync.metadata.namespace;
    return this.forRepository(await this.resources.get('GitRepository', namespace, sync.spec.sourceRef.name));
  }

  async forRepository(repo: GitRepository): Promise<SourceSettings> {
    const secretName = repo.spec.secretRef?.name;
    const fetch: FetchOptions = secretName
      ? {
          credentials: credentialsFromSecret(
            secretName,
            await this.secrets.read(repo.metadata.namespace, secretName),
          ),
        }
      : {};
    const artifact = repo.status?.artifact;
    return {
      fetch,
      ...(repo.spec.ignore ? { ignore: repo.spec.ignore } : {}),
      ...(artifact?.verification
        ? { artifactVerification: { sha: artifact.sha, verification: artifact.verification } }
        : {}),
    };
  }
}
