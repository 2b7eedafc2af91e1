// startLocalCluster: etcd + kube-apiserver + kube-controller-manager +
// kube-scheduler + kwok as plain processes on free loopback ports. Real control
// plane, fake (kwok) nodes: Deployments roll out, pods turn Ready, RBAC and
// service-account tokens work — in seconds and without containers.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiRequest, type ApiTarget } from './api.js';
import * as components from './components.js';
import { ensureCredentials } from './credentials.js';
import { defaultBinDir } from './env.js';
import { writeKubeconfig } from './kubeconfig.js';
import { createLayoutDirs, layoutFor } from './layout.js';
import { fakeNode, isSchedulable, nodeName } from './nodes.js';
import { freePorts } from './ports.js';
import {
  isRunning,
  launch,
  signalGroup,
  stopProcesses,
  tieToThisProcess,
  untie,
  type ComponentSpec,
  type Launched,
} from './processes.js';
import { ClusterStartError } from './start-error.js';
import { readState, removeState, writeState, type ClusterState } from './state.js';

export interface LocalClusterOptions {
  /** Holds data, logs (logs/*.log), credentials, kubeconfig and state.json. */
  dir: string;
  /** Where etcd, kube-* and kwok are; default $CAPSTAN_CACHE/bin (scripts/k8s-setup.sh). */
  binDir?: string;
  /** Progress lines (one per step). */
  log?: (line: string) => void;
  /** Fake nodes to create; default 1. */
  nodes?: number;
  /** Give up after this long; default 90 s (a busy CI machine is slow). */
  timeoutMs?: number;
  /**
   * Let the processes outlive this Node process (cluster-cli). By default they are
   * SIGKILLed when it exits, even if stop() was never called. Signals are the
   * caller's business: Node does not run 'exit' handlers when killed by one.
   */
  keepAfterExit?: boolean;
}

export interface LocalCluster {
  kubeconfigPath: string;
  server: string;
  dir: string;
  /** Stops every process and waits until all have exited. Idempotent. */
  stop(): Promise<void>;
  /** `kill -9` the kube-apiserver (chaos tests); everything else keeps running. */
  killApiserver(): Promise<void>;
  /** Starts the kube-apiserver again on its port and data; resolves once it is ready. */
  startApiserver(): Promise<void>;
}

const MAX_ATTEMPTS = 3;

export async function startLocalCluster(options: LocalClusterOptions): Promise<LocalCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (err) {
      if (!(err instanceof ClusterStartError && err.portClash) || attempt >= MAX_ATTEMPTS) throw err;
      options.log?.('a port was taken before we could bind it; retrying with new ports');
    }
  }
}

async function startOnce(options: LocalClusterOptions): Promise<LocalCluster> {
  const t0 = Date.now();
  const log = options.log ?? (() => undefined);
  const dir = resolve(options.dir);
  const binDir = resolve(options.binDir ?? defaultBinDir());
  const deadline = t0 + (options.timeoutMs ?? 90_000);
  checkBinaries(binDir);
  if (readState(dir)?.processes.some(isRunning)) {
    throw new Error(`a cluster is already running in ${dir}; stop it first`);
  }
  const layout = layoutFor(dir);
  createLayoutDirs(layout);
  const [etcdClient, etcdPeer, apiserverPort] = await freePorts(3);
  const ports = { etcdClient: etcdClient!, etcdPeer: etcdPeer!, apiserver: apiserverPort! };
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const state: ClusterState = {
    version: 1,
    server,
    kubeconfigPath: layout.kubeconfigPath,
    startedAt: new Date().toISOString(),
    processes: [],
  };
  const launched: Launched[] = [];
  const start = (spec: ComponentSpec): Launched => {
    const proc = launch(spec);
    if (!options.keepAfterExit) tieToThisProcess(proc.record);
    launched.push(proc);
    state.processes.push(proc.record);
    writeState(dir, state);
    log(`${spec.name} started (pid ${proc.record.pid}, log ${spec.logFile})`);
    return proc;
  };
  const waitFor = (what: string, blame: Launched, check: () => Promise<boolean>) =>
    waitUntil(what, blame, launched, deadline, check);

  let apiserverSpec: ComponentSpec | undefined;
  let apiserverProc: Launched | undefined;
  let apiReady: (() => Promise<boolean>) | undefined;
  try {
    const etcd = start(components.etcd(layout, binDir, ports));
    const creds = await ensureCredentials(layout.pkiDir);
    const etcdTarget = { server: `http://127.0.0.1:${ports.etcdClient}` };
    await waitFor(
      'etcd /health',
      etcd,
      async () => (await apiRequest(etcdTarget, 'GET', '/health')).status === 200,
    );

    apiserverSpec = components.kubeApiserver(layout, binDir, ports, creds);
    const apiserver = start(apiserverSpec);
    apiserverProc = apiserver;
    const target = (): ApiTarget => ({
      server,
      token: creds.adminToken,
      caPem: readFileSync(layout.servingCertFile, 'utf8'),
    });
    apiReady = async () => {
      if (!existsSync(layout.servingCertFile)) return false;
      return (await apiRequest(target(), 'GET', '/readyz').catch(() => ({ status: 0 }))).status === 200;
    };
    await waitFor('kube-apiserver /readyz', apiserver, apiReady);
    const api = target();
    writeKubeconfig(layout.kubeconfigPath, { dir, server, caPem: api.caPem ?? '', token: creds.adminToken });
    log(`kube-apiserver ready at ${server} after ${Date.now() - t0} ms`);

    const controllerManager = start(components.kubeControllerManager(layout, binDir, creds));
    start(components.kubeScheduler(layout, binDir));
    const kwok = start(components.kwok(layout, binDir, ports));
    const names = Array.from({ length: options.nodes ?? 1 }, (_, i) => nodeName(i));
    for (const name of names) {
      const res = await apiRequest(api, 'POST', '/api/v1/nodes', fakeNode(name));
      // 409: the node survived a stop/start of a persistent cluster dir.
      if (res.status !== 201 && res.status !== 409) {
        throw new Error(`creating node ${name} failed: HTTP ${res.status} ${res.text}`);
      }
    }
    // Proves the controller-manager runs (service-account controller) with the SA key.
    await waitFor('the default ServiceAccount', controllerManager, async () => {
      const res = await apiRequest(api, 'GET', '/api/v1/namespaces/default/serviceaccounts/default');
      return res.status === 200;
    });
    await waitFor(`${names.join(', ')} to be Ready and untainted`, kwok, async () => {
      for (const name of names) {
        const res = await apiRequest(api, 'GET', `/api/v1/nodes/${name}`);
        if (res.status !== 200 || !isSchedulable(res.body)) return false;
      }
      return true;
    });
    log(`local cluster ready after ${Date.now() - t0} ms; kubeconfig ${layout.kubeconfigPath}`);
  } catch (err) {
    // Leave nothing behind: a half-started cluster is stopped before reporting.
    await stopProcesses(state.processes, 2_000).catch(() => undefined);
    state.processes.forEach(untie);
    removeState(dir);
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    kubeconfigPath: layout.kubeconfigPath,
    server,
    dir,
    stop: () =>
      (stopping ??= stopProcesses(state.processes).then(() => {
        state.processes.forEach(untie);
        removeState(dir);
      })),
    async killApiserver() {
      const record = apiserverProc?.record;
      if (!record || !isRunning(record)) return;
      signalGroup(record, 'SIGKILL');
      for (let i = 0; i < 100 && isRunning(record); i++) await new Promise((r) => setTimeout(r, 50));
    },
    async startApiserver() {
      if (apiserverProc && isRunning(apiserverProc.record)) return;
      const old = apiserverProc?.record;
      apiserverProc = start(apiserverSpec);
      if (old) state.processes.splice(state.processes.indexOf(old), 1);
      writeState(dir, state);
      const ready = apiReady;
      const proc = apiserverProc;
      await waitUntil('kube-apiserver /readyz', proc, [proc], Date.now() + 60_000, ready);
    },
  };
}

function checkBinaries(binDir: string): void {
  for (const name of components.COMPONENTS) {
    try {
      accessSync(join(binDir, name), constants.X_OK);
    } catch {
      throw new Error(`${name} not found in ${binDir}; build the toolchain with: bash scripts/k8s-setup.sh`);
    }
  }
}

/** Polls `check` until it holds, failing fast if any started process exits. */
async function waitUntil(
  what: string,
  blame: Launched,
  all: Launched[],
  deadline: number,
  check: () => Promise<boolean>,
): Promise<void> {
  let lastError = '';
  for (;;) {
    const dead = all.find((p) => p.exit !== undefined);
    if (dead) {
      throw new ClusterStartError(`${dead.record.name} ${dead.exit} while waiting for ${what}`, dead.record);
    }
    try {
      if (await check()) return;
      lastError = '';
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      const detail = lastError ? ` (last error: ${lastError})` : '';
      throw new ClusterStartError(`timed out waiting for ${what}${detail}`, blame.record);
    }
    await sleep(50);
  }
}
