import {
  AuthenticationV1Api,
  AuthorizationV1Api,
  type KubeConfig,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import {
  AUDIT_API_GROUP,
  AUDIT_RESOURCE,
  AUDIT_VERB,
  type AccessReviewer,
  type Caller,
  type Scope,
} from './access.js';

/**
 * Asks the Kubernetes API server: TokenReview for who a token belongs to (any authenticator the
 * cluster trusts: service-account tokens, OIDC, static tokens...), SubjectAccessReview for
 * whether RBAC (or any authorizer) lets them read decisions. The audit service's own identity
 * needs `create` on both review resources (system:auth-delegator).
 */
export class KubernetesReviewer implements AccessReviewer {
  private readonly authn: AuthenticationV1Api;
  private readonly authz: AuthorizationV1Api;

  constructor(
    kc: KubeConfig,
    /** Audiences the token must be meant for; empty accepts the API server's own. */
    private readonly audiences: string[] = [],
  ) {
    this.authn = kc.makeApiClient(AuthenticationV1Api);
    this.authz = kc.makeApiClient(AuthorizationV1Api);
  }

  async authenticate(token: string): Promise<Caller | null> {
    const review = await this.authn.createTokenReview({
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token, ...(this.audiences.length > 0 ? { audiences: this.audiences } : {}) },
      },
    });
    const status = review.status;
    if (!status?.authenticated || !status.user?.username) return null;
    return {
      username: status.user.username,
      uid: status.user.uid ?? '',
      groups: status.user.groups ?? [],
      extra: status.user.extra ?? {},
    };
  }

  allowed(caller: Caller, scope: Scope): Promise<boolean> {
    return subjectMay(this.authz, caller, {
      group: AUDIT_API_GROUP,
      resource: AUDIT_RESOURCE,
      verb: AUDIT_VERB,
      // Omitted namespace = every namespace, which is what a cluster-wide question needs.
      ...(scope === null ? {} : { namespace: scope }),
    });
  }
}

/** One SubjectAccessReview for an authenticated caller: may they do this to that resource? */
export async function subjectMay(
  authz: AuthorizationV1Api,
  caller: Caller,
  resourceAttributes: V1ResourceAttributes,
): Promise<boolean> {
  const review = await authz.createSubjectAccessReview({
    body: {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: caller.username,
        uid: caller.uid,
        groups: caller.groups,
        extra: caller.extra,
        resourceAttributes,
      },
    },
  });
  return review.status?.allowed === true && review.status.denied !== true;
}
