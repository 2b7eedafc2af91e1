import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where everything of one cluster lives inside its dir; two dirs never share a file. */
export interface Layout {
  dir: string;
  kubeconfigPath: string;
  logsDir: string;
  etcdDataDir: string;
  pkiDir: string;
  /** kube-apiserver writes its self-signed serving cert (apiserver.crt = leaf + CA) here. */
  servingCertDir: string;
  servingCertFile: string;
  /** KWOK_WORKDIR: keeps kwok away from a user's ~/.kwok/kwok.yaml. */
  kwokWorkDir: string;
}

export function layoutFor(dir: string): Layout {
  const pkiDir = join(dir, 'pki');
  const servingCertDir = join(pkiDir, 'serving');
  return {
    dir,
    kubeconfigPath: join(dir, 'kubeconfig'),
    logsDir: join(dir, 'logs'),
    etcdDataDir: join(dir, 'etcd'),
    pkiDir,
    servingCertDir,
    servingCertFile: join(servingCertDir, 'apiserver.crt'),
    kwokWorkDir: join(dir, 'kwok'),
  };
}

export function createLayoutDirs(layout: Layout): void {
  for (const d of [layout.logsDir, layout.servingCertDir, layout.kwokWorkDir]) {
    mkdirSync(d, { recursive: true, mode: 0o700 });
  }
  // etcd refuses a data dir more open than 0700.
  mkdirSync(layout.etcdDataDir, { recursive: true, mode: 0o700 });
}
