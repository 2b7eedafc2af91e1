import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Caller } from '../auth/access.js';
import { subjectMay } from '../auth/kubernetes-reviewer.js';

/** The RBAC question a Canary command asks: may this person `patch` this Canary? */
export const CANARY_COMMAND_VERB = 'patch';
export const CANARY_RESOURCE = 'canaries';

export interface CanaryCommandAuthorizer {
  allowed(caller: Caller, group: string, namespace: string, name: string): Promise<boolean>;
}

/** SubjectAccessReview on `canaries` (group flagger.app or capstan.dev), verb patch, in the namespace. */
export class KubernetesCanaryAuthorizer implements CanaryCommandAuthorizer {
  private readonly authz: AuthorizationV1Api;

  constructor(kc: KubeConfig) {
    this.authz = kc.makeApiClient(AuthorizationV1Api);
  }

  allowed(caller: Caller, group: string, namespace: string, name: string): Promise<boolean> {
    return subjectMay(this.authz, caller, {
      group,
      resource: CANARY_RESOURCE,
      verb: CANARY_COMMAND_VERB,
      namespace,
      name,
    });
  }
}

export const allowEveryone: CanaryCommandAuthorizer = { allowed: () => Promise.resolve(true) };
