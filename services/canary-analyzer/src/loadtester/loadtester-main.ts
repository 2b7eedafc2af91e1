import { loadLoadTesterConfig } from './loadtester-config.js';
import { startLoadTester } from './loadtester-server.js';

// The load tester's container entrypoint (Flagger-compatible API; runs `hey` for `cmd` hooks).
const config = loadLoadTesterConfig();
const lt = await startLoadTester({
  port: config.LOADTESTER_PORT,
  host: config.LOADTESTER_HOST,
  bashTimeoutMs: config.LOADTESTER_BASH_TIMEOUT_MS,
  log: (l) => console.log(`[loadtester] ${l}`),
});
console.log(`[loadtester] listening on ${config.LOADTESTER_HOST}:${lt.port}`);
process.on('SIGTERM', () => void lt.close().then(() => process.exit(0)));
