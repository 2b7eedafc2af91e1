import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '@capstan/e2e';

/**
 * A service's NODE_OPTIONS and plain environment as the Helm chart ships them
 * (deploy/capstan/values.yaml), so a benchmark measures what users get.
 */
export async function chartSettings(
  service: string,
): Promise<{ nodeOptions: string; env: Record<string, string> }> {
  const values = parse(await readFile(join(repoRoot, 'deploy', 'capstan', 'values.yaml'), 'utf8')) as {
    services?: Record<string, { nodeOptions?: string; extraEnv?: { name: string; value?: string }[] }>;
  };
  const cfg = values.services?.[service];
  return {
    nodeOptions: cfg?.nodeOptions ?? '',
    env: Object.fromEntries(
      (cfg?.extraEnv ?? []).flatMap((e) => (e.value === undefined ? [] : [[e.name, e.value]])),
    ),
  };
}

/** The chart's NODE_OPTIONS and environment of `service`, as one environment for a process. */
export async function chartEnv(service: string): Promise<Record<string, string>> {
  const { nodeOptions, env } = await chartSettings(service);
  return { ...env, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
}
