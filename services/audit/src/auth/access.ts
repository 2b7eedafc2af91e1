/**
 * Who may read the audit log, as plain data. Access is Kubernetes RBAC on Capstan's own
 * (virtual) resource: verb `get` on `decisions` in API group `audit.capstan.dev`, in the
 * namespace being asked about; a question about every namespace, or about cluster-scoped
 * objects, needs that permission cluster-wide.
 */
export const AUDIT_API_GROUP = 'audit.capstan.dev';
export const AUDIT_RESOURCE = 'decisions';
export const AUDIT_VERB = 'get';

/** An authenticated caller, as TokenReview describes them; passed on verbatim to SubjectAccessReview. */
export interface Caller {
  username: string;
  uid: string;
  groups: string[];
  extra: Record<string, string[]>;
}

/** Where a request reads: one namespace, or the whole cluster (`null`). */
export type Scope = string | null;

/**
 * The scopes a request may be authorized by: any one of them suffices, because every filter
 * narrows the result (decisions "touching namespace X made by Sync Y/Z" are a subset of both).
 * No namespace named at all means the whole cluster. Namespace-scoped users are therefore
 * refused (403), not silently given a partial answer, when they forget `?namespace=`: the same
 * thing `kubectl get pods -A` does to them, and a filtered answer would look complete.
 */
export function scopesOf(named: readonly (string | undefined)[]): Scope[] {
  const namespaces = [...new Set(named.filter((n): n is string => n !== undefined))];
  // '' is "cluster-scoped objects": only a cluster-wide reader may see them.
  return namespaces.length === 0 || namespaces.includes('') ? [null] : namespaces;
}

export const describeScope = (scope: Scope): string =>
  scope === null ? 'cluster-wide' : `in namespace "${scope}"`;

/** No usable bearer token, or one the API server does not accept. */
export class UnauthenticatedError extends Error {
  constructor(readonly reason: 'missing-token' | 'invalid-token') {
    super(
      reason === 'missing-token'
        ? 'a bearer token is required (Authorization: Bearer <token>)'
        : 'the bearer token was not accepted by the Kubernetes API server',
    );
    this.name = 'UnauthenticatedError';
  }
}

/** Authenticated, but RBAC does not allow reading decisions in any of the scopes asked about. */
export class AccessDeniedError extends Error {
  constructor(
    readonly username: string,
    readonly scopes: readonly Scope[],
  ) {
    super(
      `${username} may not ${AUDIT_VERB} ${AUDIT_RESOURCE}.${AUDIT_API_GROUP} ${scopes.map(describeScope).join(' or ')}` +
        (scopes.includes(null)
          ? '; ask for one namespace with ?namespace=<ns>, or get cluster-wide access'
          : ''),
    );
    this.name = 'AccessDeniedError';
  }
}

/** The port to whatever decides identity and permissions (the Kubernetes API server in production). */
export interface AccessReviewer {
  /** The caller a token belongs to; null when the token is not valid. */
  authenticate(token: string): Promise<Caller | null>;
  /** Whether the caller may read decisions in the scope. */
  allowed(caller: Caller, scope: Scope): Promise<boolean>;
}
export const ACCESS_REVIEWER = Symbol('AccessReviewer');
