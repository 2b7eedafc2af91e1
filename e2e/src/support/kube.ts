import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifests } from '@capstan/gitops-core';
import { CAPSTAN_API_VERSION, ObjectApi, createKubeConfig, isNotFound } from '@capstan/kube';
import type { KubernetesObject } from '@kubernetes/client-node';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export function objectApi(kubeconfigPath: string): ObjectApi {
  return ObjectApi.fromKubeConfig(createKubeConfig(kubeconfigPath));
}

/** Server-side applies YAML as a user with kubectl would (field manager `kubectl`). */
export async function applyYaml(api: ObjectApi, yaml: string, fieldManager = 'kubectl'): Promise<void> {
  for (const { object } of parseManifests([{ path: 'inline.yaml', content: yaml }])) {
    await api.applyRaw(object, { fieldManager });
  }
}

/**
 * Deletes the Syncs and GitRepositories a test file left in `default`. Every later test file's
 * git-watcher watches the whole cluster and kept polling each leftover's deleted temporary
 * repository (half of a CI log was those clone warnings). The platforms call this on stop while
 * they still hold the cluster lock, when no other Capstan runs on the cluster.
 */
export async function deleteLeftoverSources(api: ObjectApi): Promise<void> {
  for (const kind of ['Sync', 'GitRepository']) {
    // Best effort: a test that stopped the API server must still be able to stop its platform.
    const { items } = await api
      .list(CAPSTAN_API_VERSION, kind, 'default')
      .catch(() => ({ items: [] as KubernetesObject[] }));
    for (const o of items)
      await api
        .delete({
          apiVersion: CAPSTAN_API_VERSION,
          kind,
          metadata: { name: o.metadata?.name ?? '', namespace: 'default' },
        })
        .catch(() => undefined);
  }
}

/** Installs Capstan's CRDs from the Helm chart's crds/ folder, the single source, and waits for them. */
export async function installCrds(api: ObjectApi): Promise<void> {
  await installCrdsFrom(api, join(repoRoot, 'deploy/capstan/crds'));
}

/** Flagger's CRDs as the chart ships them (flaggerCrds.install), once served. */
export async function installFlaggerCrds(api: ObjectApi): Promise<void> {
  await installCrdsFrom(api, join(repoRoot, 'deploy/capstan/flagger/crds'));
}

interface CrdShape {
  spec: { group: string; names: { kind: string }; versions: { name: string; storage?: boolean }[] };
}

/**
 * Applies every CRD of a folder and waits until each kind can be listed: Established alone is
 * not enough, a fresh CRD's storage answers "storage is (re)initializing" for a moment after.
 */
async function installCrdsFrom(api: ObjectApi, dir: string): Promise<void> {
  const crds: CrdShape[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    const content = await readFile(join(dir, file), 'utf8');
    for (const { object } of parseManifests([{ path: file, content }])) {
      await api.applyRaw(object, { fieldManager: 'capstan-tests' });
      if (object.kind === 'CustomResourceDefinition') crds.push(object as unknown as CrdShape);
    }
  }
  for (const { spec } of crds) {
    const version = spec.versions.find((v) => v.storage)?.name ?? spec.versions[0]?.name ?? 'v1';
    for (let i = 0; ; i++) {
      const served = await api.list(`${spec.group}/${version}`, spec.names.kind).then(
        () => true,
        () => false,
      );
      if (served) break;
      if (i > 200) throw new Error(`CRD ${spec.names.kind}.${spec.group} not served`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export async function readObject<T = Record<string, unknown>>(
  api: ObjectApi,
  apiVersion: string,
  kind: string,
  namespace: string,
  name: string,
): Promise<T | undefined> {
  try {
    return (await api.read({ apiVersion, kind, metadata: { name, namespace } })) as T;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
