import { loadApiGroupsLazily } from '@capstan/kube/lazy-api-groups';

// The container entrypoint; everything else is importable without side effects. The Kubernetes
// client's API groups load when used (about 20 MiB less resident memory), which needs the hooks
// in place before anything imports the client, so the service is imported only then.
loadApiGroupsLazily();
const { startRegistryWatcher } = await import('./service.js');
await startRegistryWatcher();
