// Public API of @capstan/testing. Each block belongs to one feature; add yours as a
// new block rather than editing another.

// --- local Kubernetes cluster (src/cluster) ---
export { startLocalCluster, type LocalCluster, type LocalClusterOptions } from './cluster/local-cluster.js';
export { sharedCluster, type SharedCluster } from './cluster/shared-cluster.js';
export {
  clusterStatus,
  ensureCluster,
  killClusterSync,
  stopCluster,
  type ClusterStatus,
  type EnsuredCluster,
} from './cluster/control.js';
export { ClusterStartError } from './cluster/start-error.js';
export { defaultBinDir, defaultRunDir } from './cluster/env.js';
// --- end local Kubernetes cluster ---

// --- test databases (src/database) ---
export {
  createTestDatabase,
  databaseUrl,
  testDatabaseServerUrl,
  type TestDatabase,
  type TestDatabaseOptions,
} from './database/index.js';
// --- end test databases ---

// --- NATS for tests ---
export { testNatsUrl, testEventPrefix } from './nats.js';
// --- end NATS for tests ---

// --- a NATS JetStream cluster of the test's own (src/nats-cluster) ---
export {
  NATS_SERVER_BIN,
  NatsClusterError,
  startNatsCluster,
  type NatsCluster,
  type NatsClusterOptions,
  type NatsNode,
} from './nats-cluster/nats-cluster.js';
// --- end NATS cluster ---

// --- private PostgreSQL servers a test may stop and start (src/postgres) ---
export {
  DEFAULT_POSTGRES_BIN_DIR,
  PrivatePostgresError,
  startPrivatePostgres,
  type PrivatePostgres,
  type PrivatePostgresOptions,
} from './postgres/index.js';
// --- end private PostgreSQL servers ---

// --- container registries for image automation tests (src/registry) ---
export {
  DockerRegistry,
  DOCKER_REGISTRY_BIN,
  PagingRegistry,
  TokenServer,
  writeOciLayout,
  type DockerRegistryOptions,
  type NotificationEndpoint,
  type PagingRegistryOptions,
  type PushOptions,
  type TestImage,
} from './registry/index.js';
// --- end container registries ---

// --- canary data plane: loopback pods, HAProxy, Prometheus (src/data-plane) ---
export { startDataPlane, type DataPlane } from './data-plane/data-plane.js';
export { PodRunner, DATA_PLANE_LABEL, type RunningPod } from './data-plane/pod-runner.js';
export { TestPrometheus } from './data-plane/prometheus.js';
export { TrafficProxy } from './data-plane/traffic-proxy.js';
export { installMeshCrds } from './data-plane/mesh-crds.js';
export { haproxyConfig } from './data-plane/haproxy-config.js';
// --- end canary data plane ---

// --- free loopback ports, a TCP proxy that can go silent (src/cluster) ---
export { freePorts } from './cluster/ports.js';
export { FreezableProxy } from './cluster/freezable-proxy.js';
// --- end free loopback ports, TCP proxy ---
