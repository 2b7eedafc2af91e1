// Stopping a data-plane process (HAProxy, Prometheus, a podinfo pod) in a teardown. A child that
// already died of a signal has `exitCode === null` and will never emit 'exit' again, so waiting
// on 'exit' after checking only `exitCode` hangs; and a process that ignores SIGTERM under load
// must not hold a test file: it gets SIGKILL after `graceMs`.
import type { ChildProcess } from 'node:child_process';

/** True once the process has exited, by a code or by a signal. */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(hasExited(child));
    }, timeoutMs);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/**
 * SIGTERM, then SIGKILL after `graceMs`. Resolves when the process is gone; names it on stderr
 * when it needed SIGKILL, and when even SIGKILL did not end it (then it resolves anyway, so one
 * stuck process cannot fail every test of the file that owns it).
 */
export async function stopChild(child: ChildProcess, name: string, graceMs = 5_000): Promise<void> {
  if (hasExited(child)) return;
  child.kill('SIGTERM');
  if (await exited(child, graceMs)) return;
  process.stderr.write(
    `[data-plane] ${name} (pid ${child.pid}) ignored SIGTERM for ${graceMs} ms: SIGKILL\n`,
  );
  child.kill('SIGKILL');
  if (await exited(child, 5_000)) return;
  process.stderr.write(`[data-plane] ${name} (pid ${child.pid}) still running after SIGKILL\n`);
}
