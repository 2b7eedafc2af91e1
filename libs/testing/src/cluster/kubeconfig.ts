import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';

export interface KubeconfigInput {
  dir: string;
  server: string;
  caPem: string;
  token: string;
}

/**
 * Writes an admin kubeconfig (JSON is valid YAML, so no YAML library is needed).
 * Names carry a short hash of the cluster dir: @kubernetes/client-node caches
 * credentials per user name, so two clusters in one process must not share one.
 */
export function writeKubeconfig(path: string, input: KubeconfigInput): void {
  const id = createHash('sha256').update(input.dir).digest('hex').slice(0, 8);
  const cluster = `capstan-local-${id}`;
  const user = `capstan-admin-${id}`;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster,
        cluster: {
          server: input.server,
          'certificate-authority-data': Buffer.from(input.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: user, user: { token: input.token } }],
    contexts: [{ name: cluster, context: { cluster, user, namespace: 'default' } }],
    'current-context': cluster,
    preferences: {},
  };
  writeFileSync(path, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
}

interface KubeconfigView {
  clusters?: { cluster?: { server?: string; 'certificate-authority-data'?: string } }[];
  users?: { user?: { token?: string } }[];
}

/** Reads back what writeKubeconfig wrote, for health probes from another process. */
export function readKubeconfigTarget(text: string): { server: string; caPem: string; token: string } {
  const config = JSON.parse(text) as KubeconfigView;
  const cluster = config.clusters?.[0]?.cluster;
  const token = config.users?.[0]?.user?.token;
  if (!cluster?.server || !token) throw new Error('not a kubeconfig written by the local cluster');
  const caPem = Buffer.from(cluster['certificate-authority-data'] ?? '', 'base64').toString('utf8');
  return { server: cluster.server, caPem, token };
}
