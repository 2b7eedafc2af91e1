import type { Condition } from '@capstan/gitops-core';

interface Meta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

interface Status {
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface ImageRepository {
  apiVersion: 'capstan.dev/v1alpha1';
  kind: 'ImageRepository';
  metadata: Meta;
  spec: {
    image: string;
    interval?: string;
    secretRef?: { name: string };
    exclusionList?: string[];
    insecure?: boolean;
    suspend?: boolean;
  };
  status?: ImageRepositoryStatus;
}

export interface ImageRepositoryStatus extends Status {
  canonicalImageName?: string;
  lastScanResult?: {
    tagCount: number;
    newTags: number;
    requests: number;
    scanTime: string;
    latestTags: string[];
  };
}

export interface ImagePolicy {
  apiVersion: 'capstan.dev/v1alpha1';
  kind: 'ImagePolicy';
  metadata: Meta;
  spec: {
    imageRepositoryRef: { name: string; namespace?: string };
    policy: {
      semver?: { range: string };
      alphabetical?: { order?: 'asc' | 'desc' };
      numerical?: { order?: 'asc' | 'desc' };
      newestBuild?: Record<string, never>;
    };
    filterTags?: { pattern: string; extract?: string };
    digestReflectionPolicy?: 'Never' | 'IfNotPresent' | 'Always';
  };
  status?: ImagePolicyStatus;
}

export interface ImageRefStatus {
  name: string;
  tag: string;
  digest?: string;
}

export interface ImagePolicyStatus extends Status {
  latestRef?: ImageRefStatus | null;
  observedPreviousRef?: ImageRefStatus | null;
  why?: string;
}

export interface ImageUpdateAutomation {
  apiVersion: 'capstan.dev/v1alpha1';
  kind: 'ImageUpdateAutomation';
  metadata: Meta;
  spec: {
    sourceRef: { kind?: 'GitRepository'; name: string; namespace?: string };
    interval?: string;
    git?: {
      checkout?: { ref?: { branch?: string } };
      commit?: {
        author?: { name?: string; email?: string };
        messageTemplate?: string;
        ciSkip?: boolean;
        /** An SSH private key (Secret key `identity`) that signs every commit. */
        signingKey?: { secretRef: { name: string } };
      };
      push?: { branch?: string };
    };
    update?: { path?: string; strategy?: 'Setters' };
    suspend?: boolean;
  };
  status?: ImageUpdateAutomationStatus;
}

export interface ImageUpdateAutomationStatus extends Status {
  lastPushCommit?: string;
  lastPushTime?: string;
  lastAutomationRunTime?: string;
  observedPolicies?: Record<string, ImageRefStatus>;
}

export type ImageKind = 'ImageRepository' | 'ImagePolicy' | 'ImageUpdateAutomation';
export type ImageObject = ImageRepository | ImagePolicy | ImageUpdateAutomation;
export type ImageObjectOf<K extends ImageKind> = Extract<ImageObject, { kind: K }>;
export type StatusOf<K extends ImageKind> = NonNullable<ImageObjectOf<K>['status']>;
