import { KubeConfig } from '@kubernetes/client-node';

type DispatcherFactory = (cluster: unknown, agentOptions: unknown) => unknown;

/** A kubeconfig path wins; without one we are in a cluster (service account) or use ~/.kube/config. */
export function createKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  pooled(kc);
  return kc;
}

/**
 * client-node 2.0 builds a new undici Agent for every request, so every API call opens a new
 * TCP + TLS connection and leaves it idling until the agent is collected. With a thousand Syncs
 * that is thousands of handshakes (CPU on both sides) and hundreds of MiB of TLS buffers in the
 * reconciler. One agent per cluster and user keeps a connection pool instead. Credentials are
 * unaffected: tokens go in headers per request; certificates belong to the cluster/user pair.
 */
function pooled(kc: KubeConfig): void {
  const target = kc as unknown as { createDispatcher: DispatcherFactory };
  const create = target.createDispatcher.bind(kc);
  const agents = new Map<string, unknown>();
  target.createDispatcher = (cluster, agentOptions) => {
    const key = JSON.stringify([kc.getCurrentCluster()?.name, kc.getCurrentUser()?.name]);
    if (!agents.has(key)) agents.set(key, create(cluster, agentOptions));
    return agents.get(key);
  };
}
