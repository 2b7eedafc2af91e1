import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../cluster/ports.js';

/** Debian's nats-server (the machine's JetStream runs the same binary). */
export const NATS_SERVER_BIN = '/usr/sbin/nats-server';

export interface NatsClusterOptions {
  /** Number of servers; JetStream needs at least 3 for replicated streams to survive one loss. */
  nodes?: number;
  bin?: string;
}

export interface NatsNode {
  name: string;
  clientPort: number;
  clusterPort: number;
  monitorPort: number;
  url: string;
  storeDir: string;
}

/**
 * A real NATS JetStream cluster on loopback, of the test's own: each node is a nats-server
 * process with its own ports and store, routed to the others. Tests kill nodes with SIGKILL and
 * start them again on the same ports and store, as an operator's restart would.
 */
export interface NatsCluster {
  nodes: NatsNode[];
  /** Every node's client URL, comma-separated, as a NATS client's `servers` takes them. */
  servers: string[];
  /** `kill -9` one node. */
  kill(index: number): Promise<void>;
  /** Starts a killed node again with its store; resolves once the cluster reports it healthy. */
  start(index: number): Promise<void>;
  /** Stops every node and removes the stores. */
  destroy(): Promise<void>;
  /** The tail of one node's log, for failure messages. */
  log(index: number): Promise<string>;
}

export class NatsClusterError extends Error {
  constructor(
    message: string,
    readonly logs: string,
  ) {
    super(`${message}${logs ? `\n--- server logs (tail) ---\n${logs}` : ''}`);
    this.name = 'NatsClusterError';
  }
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  const count = options.nodes ?? 3;
  const bin = options.bin ?? NATS_SERVER_BIN;
  const root = await mkdtemp(join(tmpdir(), 'capstan-nats-'));
  const ports = await freePorts(count * 3);
  const name = `capstan-test-${root.slice(-6).toLowerCase()}`;
  const nodes: NatsNode[] = Array.from({ length: count }, (_, i) => {
    const [clientPort, clusterPort, monitorPort] = [
      ports[i * 3],
      ports[i * 3 + 1],
      ports[i * 3 + 2],
    ] as number[];
    return {
      name: `n${i + 1}`,
      clientPort: clientPort!,
      clusterPort: clusterPort!,
      monitorPort: monitorPort!,
      url: `nats://127.0.0.1:${clientPort}`,
      storeDir: join(root, `n${i + 1}`),
    };
  });
  const routes = nodes.map((n) => `nats-route://127.0.0.1:${n.clusterPort}`);
  for (const node of nodes) {
    await writeFile(
      join(root, `${node.name}.conf`),
      [
        `server_name: ${node.name}`,
        `host: 127.0.0.1`,
        `port: ${node.clientPort}`,
        `http: 127.0.0.1:${node.monitorPort}`,
        `jetstream { store_dir: "${node.storeDir}" }`,
        `cluster {`,
        `  name: ${name}`,
        `  listen: 127.0.0.1:${node.clusterPort}`,
        `  routes: [${routes.join(', ')}]`,
        `}`,
      ].join('\n'),
    );
  }
  installExitHook();
  const processes: (ChildProcess | undefined)[] = nodes.map(() => undefined);
  const logFile = (i: number) => join(root, `${nodes[i]!.name}.log`);
  const log = async (i: number) =>
    (await readFile(logFile(i), 'utf8').catch(() => '')).split('\n').slice(-20).join('\n');
  const allLogs = async () => (await Promise.all(nodes.map((_, i) => log(i)))).join('\n');

  const launch = (i: number) => {
    const node = nodes[i]!;
    const child = spawn(bin, ['-c', join(root, `${node.name}.conf`), '-l', logFile(i)], { stdio: 'ignore' });
    live.add(child);
    child.once('exit', () => live.delete(child));
    processes[i] = child;
  };
  const healthy = async (i: number, deadlineMs: number) => {
    const node = nodes[i]!;
    while (Date.now() < deadlineMs) {
      // JetStream health is only OK once the node has joined the meta group and caught up.
      const ok = await fetch(`http://127.0.0.1:${node.monitorPort}/healthz`)
        .then((r) => r.ok)
        .catch(() => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new NatsClusterError(`nats node ${node.name} not healthy in time`, await allLogs());
  };

  nodes.forEach((_, i) => launch(i));
  const deadline = Date.now() + 60_000;
  for (let i = 0; i < count; i++) await healthy(i, deadline);

  const cluster: NatsCluster = {
    nodes,
    servers: nodes.map((n) => n.url),
    async kill(i) {
      const child = processes[i];
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
      processes[i] = undefined;
    },
    async start(i) {
      if (processes[i]) return;
      launch(i);
      await healthy(i, Date.now() + 60_000);
    },
    async destroy() {
      for (let i = 0; i < count; i++) await cluster.kill(i);
      await rm(root, { recursive: true, force: true });
    },
    log,
  };
  return cluster;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test process that dies without destroy() must not leave servers holding its ports.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}
