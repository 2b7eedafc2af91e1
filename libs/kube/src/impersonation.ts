import type { KubeConfig } from '@kubernetes/client-node';

/** A ServiceAccount the reconciler acts as on a tenant's behalf. */
export interface ServiceAccountRef {
  namespace: string;
  name: string;
}

/** The user name the API server gives a ServiceAccount's tokens, which impersonation names. */
export function serviceAccountUser(sa: ServiceAccountRef): string {
  return `system:serviceaccount:${sa.namespace}:${sa.name}`;
}

interface RequestContextLike {
  setHeaderParam(name: string, value: string): void;
}

/**
 * The same kubeconfig, every request sent with `Impersonate-User: <user>`. Only the user is
 * named: for a `system:serviceaccount:` user the API server adds the ServiceAccount's groups
 * itself, so the reconciler needs `impersonate` on serviceaccounts and nothing on groups.
 *
 * WHY a prototype view instead of a copied kubeconfig with `user.as` set: a copy would be a new
 * cluster/user pair, and client-node keys its connection pools (and our `pooled` agent) on that
 * pair, so a thousand tenants would open a thousand pools. The view shares the base's
 * credentials, certificates and connection pool; the header is the only difference.
 */
export function impersonatingKubeConfig(kc: KubeConfig, user: string): KubeConfig {
  const view = Object.create(kc) as KubeConfig;
  const base = kc.applySecurityAuthentication.bind(kc);
  Object.defineProperty(view, 'applySecurityAuthentication', {
    value: async (context: RequestContextLike) => {
      await base(context as Parameters<KubeConfig['applySecurityAuthentication']>[0]);
      context.setHeaderParam('Impersonate-User', user);
    },
  });
  return view;
}
