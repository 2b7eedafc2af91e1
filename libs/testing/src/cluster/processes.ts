// Spawning, probing and killing the cluster's processes. Everything here works
// from plain pids so the same code stops a cluster started by another process
// (cluster-cli start, then cluster-cli stop).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { childEnv } from './env.js';

export interface ComponentSpec {
  name: string;
  bin: string;
  args: string[];
  env?: Record<string, string>;
  /** Environment variables starting with this are not passed on (see childEnv). */
  ignoreEnvPrefix?: string;
  logFile: string;
  /** Stop order: higher tiers are stopped first (clients before kube-apiserver before etcd). */
  tier: number;
  /** First signal on stop; default SIGTERM. */
  stopSignal?: NodeJS.Signals;
}

/** What the state file keeps per process: enough to find, verify and kill it later. */
export interface ProcessRecord {
  name: string;
  pid: number;
  bin: string;
  logFile: string;
  tier: number;
  stopSignal?: NodeJS.Signals;
}

export interface Launched {
  record: ProcessRecord;
  /** Set once the process has exited (only observable by the process that spawned it). */
  exit?: string;
}

/**
 * Starts a component in its own process group (detached), output to its log file.
 * Detached + unref + file stdio means it can outlive us (cluster-cli) and does not
 * keep our event loop alive (node --test waits for the loop to drain).
 */
export function launch(spec: ComponentSpec): Launched {
  const fd = openSync(spec.logFile, 'w');
  let child;
  try {
    child = spawn(spec.bin, spec.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: childEnv(spec.env, spec.ignoreEnvPrefix),
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not spawn ${spec.bin}`);
  const launched: Launched = {
    record: {
      name: spec.name,
      pid: child.pid,
      bin: spec.bin,
      logFile: spec.logFile,
      tier: spec.tier,
      stopSignal: spec.stopSignal,
    },
  };
  child.once('error', (err) => (launched.exit = `failed: ${err.message}`));
  child.once(
    'exit',
    (code, signal) => (launched.exit = signal ? `killed by ${signal}` : `exited with code ${code}`),
  );
  child.unref();
  return launched;
}

const haveProc = existsSync('/proc/self/stat');

/**
 * True while the recorded process runs. Zombies count as gone (nobody may reap
 * them when pid 1 is not an init), and on Linux the executable must still match,
 * so a recycled pid from an old state file is never mistaken for ours.
 */
export function isRunning(record: ProcessRecord): boolean {
  if (!haveProc) {
    try {
      process.kill(record.pid, 0);
      return true;
    } catch {
      return false;
    }
  }
  try {
    const stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2)[0];
    if (state === 'Z' || state === 'X') return false;
    const argv0 = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0')[0];
    return argv0 === record.bin;
  } catch {
    return false;
  }
}

/** Signals the whole process group the component leads, so helpers it forked die too. */
export function signalGroup(record: ProcessRecord, signal: NodeJS.Signals): void {
  if (!isRunning(record)) return;
  try {
    process.kill(-record.pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

async function waitGone(records: ProcessRecord[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (records.some(isRunning)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

/**
 * Stops processes tier by tier (highest first) with their stop signal (SIGTERM),
 * escalating to SIGKILL after `graceMs`; resolves only when every one has exited.
 */
export async function stopProcesses(records: ProcessRecord[], graceMs = 5_000): Promise<void> {
  const tiers = [...new Set(records.map((r) => r.tier))].sort((a, b) => b - a);
  for (const tier of tiers) {
    const group = records.filter((r) => r.tier === tier);
    for (const r of group) signalGroup(r, r.stopSignal ?? 'SIGTERM');
    if (await waitGone(group, graceMs)) continue;
    for (const r of group) signalGroup(r, 'SIGKILL');
    if (!(await waitGone(group, 10_000))) {
      const left = group.filter(isRunning).map((r) => `${r.name} (pid ${r.pid})`);
      throw new Error(`could not stop ${left.join(', ')}`);
    }
  }
}

/** Last-resort cleanup for exit handlers, where nothing asynchronous runs any more. */
export function killNow(records: Iterable<ProcessRecord>): void {
  for (const r of records) signalGroup(r, 'SIGKILL');
}

// Processes that must not outlive this Node process (fixtures, as opposed to
// cluster-cli). Kept in memory so cleanup works even if the cluster dir is gone.
const tied = new Set<ProcessRecord>();

/** SIGKILLs every process tied to this one; for 'exit' and signal handlers. */
export function killTiedNow(): void {
  killNow(tied);
}

export function tieToThisProcess(record: ProcessRecord): void {
  if (tied.size === 0) process.once('exit', killTiedNow);
  tied.add(record);
}

export function untie(record: ProcessRecord): void {
  tied.delete(record);
  if (tied.size === 0) process.off('exit', killTiedNow);
}

/** The end of a log file, for error messages. */
export function tailLog(file: string, lines = 40): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
