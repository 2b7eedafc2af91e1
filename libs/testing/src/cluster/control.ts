// Controlling a cluster from its state file alone: what cluster-cli uses, and what
// exit handlers use to clean up a fixture.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiRequest } from './api.js';
import { COMPONENTS } from './components.js';
import { readKubeconfigTarget } from './kubeconfig.js';
import { startLocalCluster, type LocalClusterOptions } from './local-cluster.js';
import { withDirLock } from './lock.js';
import { isRunning, killNow, stopProcesses } from './processes.js';
import { readState, removeState } from './state.js';

export interface ClusterStatus {
  dir: string;
  /** All components were started and are alive. */
  running: boolean;
  server?: string;
  kubeconfigPath?: string;
  processes: { name: string; pid: number; running: boolean }[];
}

export function clusterStatus(dir: string): ClusterStatus {
  dir = resolve(dir);
  const state = readState(dir);
  const processes = (state?.processes ?? []).map((p) => ({
    name: p.name,
    pid: p.pid,
    running: isRunning(p),
  }));
  return {
    dir,
    running:
      COMPONENTS.every((name) => processes.some((p) => p.name === name)) && processes.every((p) => p.running),
    server: state?.server,
    kubeconfigPath: state?.kubeconfigPath,
    processes,
  };
}

/** Stops whatever the state file in `dir` lists. Resolves to false if nothing was running. */
export async function stopCluster(dir: string): Promise<boolean> {
  dir = resolve(dir);
  return withDirLock(dir, () => stopUnlocked(dir));
}

async function stopUnlocked(dir: string): Promise<boolean> {
  const state = readState(dir);
  if (!state) return false;
  const wasRunning = state.processes.some(isRunning);
  await stopProcesses(state.processes);
  removeState(dir);
  return wasRunning;
}

/** SIGKILLs everything in the state file, synchronously: for process 'exit' handlers. */
export function killClusterSync(dir: string): void {
  const state = readState(dir);
  if (state) killNow(state.processes);
}

export interface EnsuredCluster {
  kubeconfigPath: string;
  server: string;
  dir: string;
  alreadyRunning: boolean;
}

/**
 * Idempotent start for long-lived clusters (cluster-cli start): reuses a healthy
 * cluster in `dir`, clears out a half-dead one, otherwise starts a new one whose
 * processes outlive the caller.
 */
export async function ensureCluster(options: LocalClusterOptions): Promise<EnsuredCluster> {
  const dir = resolve(options.dir);
  return withDirLock(dir, async () => {
    const status = clusterStatus(dir);
    if (status.running && status.kubeconfigPath && (await isHealthy(status.kubeconfigPath))) {
      return {
        kubeconfigPath: status.kubeconfigPath,
        server: status.server ?? '',
        dir,
        alreadyRunning: true,
      };
    }
    if (status.processes.length > 0) {
      options.log?.('clearing out a stale or unhealthy cluster first');
      await stopUnlocked(dir);
    }
    const cluster = await startLocalCluster({ ...options, dir, keepAfterExit: true });
    return { kubeconfigPath: cluster.kubeconfigPath, server: cluster.server, dir, alreadyRunning: false };
  });
}

async function isHealthy(kubeconfigPath: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const target = readKubeconfigTarget(readFileSync(kubeconfigPath, 'utf8'));
      if ((await apiRequest(target, 'GET', '/readyz')).status === 200) return true;
    } catch {
      // not up (yet)
    }
    if (Date.now() > deadline) return false;
    await sleep(200);
  }
}
