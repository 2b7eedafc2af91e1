import { KubeConfig } from '@kubernetes/client-node';

/** A kubeconfig path wins; without one we are in a cluster (service account) or use ~/.kube/config. */
export function createKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}
