// The state file is the contract between "launch" and "stop": whoever started the
// cluster (a test process, cluster-cli start) writes it, anyone can stop from it.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessRecord } from './processes.js';

export interface ClusterState {
  version: 1;
  server: string;
  kubeconfigPath: string;
  startedAt: string;
  /** Written as each process starts, so a start that dies half-way can still be cleaned up. */
  processes: ProcessRecord[];
}

export function statePath(dir: string): string {
  return join(dir, 'state.json');
}

export function readState(dir: string): ClusterState | undefined {
  try {
    const state = JSON.parse(readFileSync(statePath(dir), 'utf8')) as Partial<
      Record<keyof ClusterState, unknown>
    >;
    return state.version === 1 && Array.isArray(state.processes) ? (state as ClusterState) : undefined;
  } catch {
    return undefined;
  }
}

/** Atomic (write + rename): a reader never sees half a file. */
export function writeState(dir: string, state: ClusterState): void {
  const tmp = `${statePath(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, statePath(dir));
}

export function removeState(dir: string): void {
  rmSync(statePath(dir), { force: true });
}
