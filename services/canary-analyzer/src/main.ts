import { setFlagsFromString } from 'node:v8';
import { loadApiGroupsLazily } from '@capstan/kube/lazy-api-groups';

// The container entrypoint; everything else is importable without side effects. Both settings
// below must be in place before anything else loads, so the service is imported only then.
//
// The optimizing compilers off: the analyzer waits on the API server, NATS and Prometheus (its
// own JavaScript was under 5 % of its CPU samples driving 100 Canaries), and TurboFan and Maglev
// cost it ~10 MiB of RSS (their code pages and compiler memory) of a 150 MiB budget. Node
// refuses these V8 flags in NODE_OPTIONS, hence here.
setFlagsFromString('--no-opt');
setFlagsFromString('--no-maglev');
// The Kubernetes client's API groups load when used (the analyzer uses two of about 70).
loadApiGroupsLazily();
const { startCanaryAnalyzer } = await import('./service.js');
await startCanaryAnalyzer();
