// Support code shared by the end-to-end tests, the demo and the benchmarks.
export { Platform } from './support/platform.js';
export { GitRepo, type Person } from './support/git-repo.js';
export { applyYaml, installCrds, objectApi, readObject, repoRoot } from './support/kube.js';
export { waitFor } from './support/wait.js';
export { launchConsoleBrowser } from './support/console-browser.js';
export { spawnService, type ServiceProcess } from './support/processes.js';
export { CanaryStage, generateLoad, testCanary } from './support/canary-stage.js';
export { SyncFleet, type SyncFleetOptions } from './support/sync-fleet.js';
export { Replicas, type Replica } from './support/replicas.js';
export { readTrace, intervals, overlapping, type TraceEntry } from './support/step-trace.js';
