import { open, readFile, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One Capstan per cluster at a time. Every Platform runs a reconciler that, like production,
 * reconciles every Sync in the cluster; two test files sharing the run's cluster would reconcile
 * each other's Syncs and corrupt each other's drift and audit expectations. Test files that start
 * a Platform therefore take this cross-process lock (per kubeconfig) for their lifetime; the rest
 * of the suite still runs in parallel.
 */
export async function lockCluster(kubeconfigPath: string): Promise<() => Promise<void>> {
  const file = join(
    tmpdir(),
    `capstan-platform-${createHash('sha256').update(kubeconfigPath).digest('hex').slice(0, 16)}.lock`,
  );
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await rm(file, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      // A holder that died without releasing (killed test process) must not block the run.
      const holder = Number(await readFile(file, 'utf8').catch(() => ''));
      if (holder > 0 && !alive(holder)) await rm(file, { force: true });
      else await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
