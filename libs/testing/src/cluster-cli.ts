// Dev command for the local cluster:
//   node libs/testing/dist/cluster-cli.js start|stop|status [--dir D]
// `start` prints the kubeconfig path on stdout (progress on stderr), so scripts can
// do KUBECONFIG=$(node libs/testing/dist/cluster-cli.js start).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { clusterStatus, ensureCluster, stopCluster } from './cluster/control.js';
import { defaultRunDir } from './cluster/env.js';

const USAGE = 'usage: cluster-cli start|stop|status [--dir D]';

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  const dir = resolve(values.dir ?? defaultRunDir());
  const say = (line: string): void => void process.stderr.write(`[cluster] ${line}\n`);
  if (values.help) {
    process.stdout.write(`${USAGE}\n  default dir: ${defaultRunDir()}\n`);
    return 0;
  }
  switch (positionals[0] ?? '') {
    case 'start': {
      const cluster = await ensureCluster({ dir, log: say });
      if (cluster.alreadyRunning) say(`already running at ${cluster.server}`);
      process.stdout.write(`${cluster.kubeconfigPath}\n`);
      return 0;
    }
    case 'stop': {
      say((await stopCluster(dir)) ? `stopped (${dir})` : `not running (${dir})`);
      return 0;
    }
    case 'status': {
      const status = clusterStatus(dir);
      for (const p of status.processes)
        say(`${p.name.padEnd(24)} pid ${p.pid} ${p.running ? 'running' : 'dead'}`);
      if (!status.running) {
        say(`not running (${dir})`);
        return 3; // LSB "program is not running"
      }
      say(`running at ${status.server ?? '?'}`);
      process.stdout.write(`${status.kubeconfigPath ?? ''}\n`);
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
