import { join } from 'node:path';

/**
 * The environment helm runs with for `package` (local chart dependencies): its config, cache
 * and data homes in a folder of ours, so repositories a person added on the host (and their
 * credentials) never take part, and concurrent runs never share a file. PATH passes through.
 */
export function helmEnv(home: string): Record<string, string> {
  const env: Record<string, string> = {
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
    HELM_REPOSITORY_CONFIG: join(home, 'config', 'repositories.yaml'),
    HELM_REPOSITORY_CACHE: join(home, 'cache', 'repository'),
    HELM_NO_PLUGINS: '1',
  };
  const keep = [
    'PATH',
    'TMPDIR',
    'LANG',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
  ];
  for (const k of [...keep, ...keep.map((k) => k.toLowerCase())]) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}
