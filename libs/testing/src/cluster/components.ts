// Command lines of the five processes. Every listener is on 127.0.0.1 and on a port
// picked at start, or switched off, so several clusters can run side by side.
import { join } from 'node:path';
import type { Credentials } from './credentials.js';
import type { Layout } from './layout.js';
import type { ComponentSpec } from './processes.js';

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
}

/** Fake nodes carry this annotation; kwok manages exactly those. */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_VALUE = 'fake';

const SERVICE_CIDR = '10.96.0.0/16';
/**
 * kwok's pod addresses: 127.0.0.0/8 is loopback on Linux, every address bindable. Each cluster
 * takes its own /16 (from its API server port), because several clusters run on one machine at
 * once (tests, benchmarks, a developer's) and the canary data plane binds a real process to
 * every pod IP: two clusters handing out the same addresses would steal each other's pods.
 */
export function podCidr(apiserverPort: number): string {
  return `127.${100 + (apiserverPort % 150)}.0.1/16`;
}

/** Every process of a complete cluster, in start order. */
export const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];

function spec(layout: Layout, binDir: string, name: string, tier: number, args: string[]): ComponentSpec {
  return { name, bin: join(binDir, name), args, logFile: join(layout.logsDir, `${name}.log`), tier };
}

export function etcd(layout: Layout, binDir: string, ports: Ports): ComponentSpec {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  const s = spec(layout, binDir, 'etcd', 0, [
    '--name=capstan',
    `--data-dir=${layout.etcdDataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    // The peer listener is unused by a one-member cluster, but its default (:2380) would collide.
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=capstan=${peer}`,
    // A throw-away dev/test store: skipping fsync makes every write (and the start) much faster.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ]);
  s.ignoreEnvPrefix = 'ETCD_';
  return s;
}

export function kubeApiserver(
  layout: Layout,
  binDir: string,
  ports: Ports,
  creds: Credentials,
): ComponentSpec {
  const s = spec(layout, binDir, 'kube-apiserver', 1, [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${ports.apiserver}`,
    // No --tls-cert-file: kube-apiserver self-signs a cert for 127.0.0.1 into --cert-dir.
    `--cert-dir=${layout.servingCertDir}`,
    '--authorization-mode=Node,RBAC',
    `--token-auth-file=${creds.tokenFile}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${creds.saPublicKeyFile}`,
    `--service-account-signing-key-file=${creds.saPrivateKeyFile}`,
    `--service-cluster-ip-range=${SERVICE_CIDR}`,
    '--allow-privileged=true',
    // The endpoint reconciler would publish 127.0.0.1 as the `kubernetes` Service
    // endpoint, which validation rejects (loopback) — over and over, in the log.
    '--endpoint-reconciler-type=none',
    '--profiling=false',
  ]);
  // It keeps no state of its own (etcd does), and a graceful shutdown spends ~1 s
  // waiting for its ServiceCIDR allocator: not worth it on every test run.
  s.stopSignal = 'SIGKILL';
  return s;
}

export function kubeControllerManager(layout: Layout, binDir: string, creds: Credentials): ComponentSpec {
  return spec(layout, binDir, 'kube-controller-manager', 2, [
    `--kubeconfig=${layout.kubeconfigPath}`,
    // One instance per cluster: leader election would only delay the start.
    '--leader-elect=false',
    // No HTTPS endpoint: its default port (10257) would collide between clusters.
    '--secure-port=0',
    `--service-account-private-key-file=${creds.saPrivateKeyFile}`,
    `--root-ca-file=${layout.servingCertFile}`,
    '--profiling=false',
    // The client default (20 requests/s) would make the controllers, not Capstan, the bound
    // when a benchmark rolls out a thousand Deployments; managed control planes run higher too.
    '--kube-api-qps=500',
    '--kube-api-burst=1000',
    // Five workers each (the defaults) roll a thousand Deployments out one API round trip at a
    // time; on a loaded test machine that, not the code under test, would set the pace.
    '--concurrent-deployment-syncs=25',
    '--concurrent-replicaset-syncs=25',
    '--concurrent-service-endpoint-syncs=25',
    '--concurrent-endpoint-syncs=25',
    // kwok's node heartbeats are late when the machine is loaded; after the grace period the
    // node lifecycle controller marks every pod NotReady, and kwok never readies them again.
    // Fake nodes do not fail, so only a very late heartbeat should count.
    '--node-monitor-grace-period=1h',
  ]);
}

export function kubeScheduler(layout: Layout, binDir: string): ComponentSpec {
  return spec(layout, binDir, 'kube-scheduler', 2, [
    `--kubeconfig=${layout.kubeconfigPath}`,
    '--leader-elect=false',
    '--secure-port=0',
    '--profiling=false',
    // As for the controller-manager: binding a thousand pods must not wait on client throttling.
    '--kube-api-qps=500',
    '--kube-api-burst=1000',
  ]);
}

export function kwok(layout: Layout, binDir: string, ports: Ports): ComponentSpec {
  const s = spec(layout, binDir, 'kwok', 2, [
    `--kubeconfig=${layout.kubeconfigPath}`,
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=${KWOK_NODE_VALUE}`,
    // Pod IPs handed out to fake pods; roomy enough for load tests. A loopback range, so the
    // canary data plane (libs/testing/src/data-plane) can run a real process on a pod's own IP
    // without ever sending traffic off the machine.
    `--cidr=${podCidr(ports.apiserver)}`,
    // No stage configuration and no Stage CRD: kwok then plays its built-in default
    // stages (node-initialize + lease heartbeat, pod-ready/complete/delete).
  ]);
  s.ignoreEnvPrefix = 'KWOK_';
  s.env = { KWOK_WORKDIR: layout.kwokWorkDir };
  return s;
}
