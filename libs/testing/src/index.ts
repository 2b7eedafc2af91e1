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

// --- private PostgreSQL servers a test may stop and start (src/postgres) ---
export {
  DEFAULT_POSTGRES_BIN_DIR,
  PrivatePostgresError,
  startPrivatePostgres,
  type PrivatePostgres,
  type PrivatePostgresOptions,
} from './postgres/index.js';
// --- end private PostgreSQL servers ---
