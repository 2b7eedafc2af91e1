// The cluster fixture's only window on the environment: defaults that follow
// scripts/lib/versions.sh (CAPSTAN_CACHE) and the hand-off from the test runner.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Same default as scripts/lib/versions.sh, so the Node side finds what k8s-setup.sh built. */
export function capstanCacheDir(): string {
  return process.env.CAPSTAN_CACHE || join(homedir(), '.cache', 'capstan');
}

/** Where scripts/k8s-setup.sh installs etcd, kube-*, kwok. */
export function defaultBinDir(): string {
  return join(capstanCacheDir(), 'bin');
}

/** State dir of the long-lived dev cluster run by cluster-cli. */
export function defaultRunDir(): string {
  return join(capstanCacheDir(), 'run', 'local');
}

/** Set by the test runner when it started one cluster for the whole run. */
export function testKubeconfigFromEnv(): string | undefined {
  return process.env.CAPSTAN_TEST_KUBECONFIG || undefined;
}

/**
 * Children inherit our environment (PATH, proxies, TMPDIR) plus their own additions,
 * minus variables under `ignorePrefix`: etcd and kwok read ETCD_* / KWOK_* as
 * configuration, and scripts/lib/versions.sh exports ETCD_VERSION and KWOK_VERSION.
 */
export function childEnv(extra: Record<string, string> = {}, ignorePrefix?: string): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(
    ([key]) => !ignorePrefix || !key.startsWith(ignorePrefix),
  );
  return { ...Object.fromEntries(inherited), ...extra };
}
