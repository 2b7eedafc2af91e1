// One cluster per test run: the runner starts it and passes CAPSTAN_TEST_KUBECONFIG;
// a spec file run on its own gets a private cluster that dies with its process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testKubeconfigFromEnv } from './env.js';
import { startLocalCluster } from './local-cluster.js';
import { killTiedNow } from './processes.js';

export interface SharedCluster {
  kubeconfigPath: string;
}

let privateCluster: Promise<SharedCluster> | undefined;

export function sharedCluster(): Promise<SharedCluster> {
  const kubeconfigPath = testKubeconfigFromEnv();
  if (kubeconfigPath) return Promise.resolve({ kubeconfigPath });
  // Started once per process; a failed start is not retried by every later test.
  privateCluster ??= startPrivateCluster();
  return privateCluster;
}

async function startPrivateCluster(): Promise<SharedCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'capstan-cluster-'));
  // The processes are tied to this one (killed on 'exit'); this also covers Ctrl-C
  // and a runner's SIGTERM, which skip 'exit' handlers, and removes the dir.
  const cleanup = (): void => {
    killTiedNow();
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  process.once('exit', cleanup);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanup();
      // Re-raise so the process still dies of the signal, as it would have without us.
      process.kill(process.pid, signal);
    });
  }
  const cluster = await startLocalCluster({ dir });
  return { kubeconfigPath: cluster.kubeconfigPath };
}
