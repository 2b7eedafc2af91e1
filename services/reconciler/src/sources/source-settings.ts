import { Injectable } from '@nestjs/common';
import type { CommitVerification } from '@capstan/events';
import {
  credentialsFromSecret,
  keysFromSecret,
  type FetchOptions,
  type VerificationKeys,
} from '@capstan/git';
import { SecretReader, type GitRepository, type Sync } from '@capstan/kube';
import { RepositoryCache } from './repository-cache.js';

export interface SourceSettings {
  /**
   * The GitRepository's URL as written, credentials included: only for fetching. What is
   * reported (decisions, status, logs) is the commit's `source.url`, stripped of them.
   */
  url: string;
  /** Credentials from the GitRepository's secretRef, for private repositories. */
  fetch: FetchOptions;
  /** The GitRepository's `spec.ignore` (gitignore syntax), applied with the repo's `.capstanignore`. */
  ignore?: string;
  /** What the git-watcher found about the signature of the commit the source points at. */
  artifactVerification?: { sha: string; verification: CommitVerification };
  /**
   * The keys of `spec.verify`, read only when asked (attribution checks the signatures of earlier
   * commits it credits; the git-watcher checked the applied one).
   */
  verificationKeys?: () => Promise<VerificationKeys>;
}

/** What a Sync's source says about how to read it: read from the GitRepository and its Secret. */
@Injectable()
export class SourceSettingsReader {
  constructor(
    private readonly repositories: RepositoryCache,
    private readonly secrets: SecretReader,
  ) {}

  async forSync(sync: Sync): Promise<SourceSettings> {
    const namespace = sync.spec.sourceRef.namespace ?? sync.metadata.namespace;
    const repo = await this.repositories.get(namespace, sync.spec.sourceRef.name);
    if (!repo) throw new Error(`GitRepository ${namespace}/${sync.spec.sourceRef.name} not found`);
    return this.forRepository(repo);
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
    const verifySecret = (repo.spec as { verify?: { secretRef?: { name?: string } } }).verify?.secretRef
      ?.name;
    return {
      url: repo.spec.url,
      fetch,
      ...(verifySecret
        ? {
            verificationKeys: async () =>
              keysFromSecret(verifySecret, await this.secrets.read(repo.metadata.namespace, verifySecret)),
          }
        : {}),
      ...(repo.spec.ignore ? { ignore: repo.spec.ignore } : {}),
      ...(artifact?.verification
        ? { artifactVerification: { sha: artifact.sha, verification: artifact.verification } }
        : {}),
    };
  }
}
