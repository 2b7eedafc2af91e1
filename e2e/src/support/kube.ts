import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifests } from '@capstan/gitops-core';
import { ObjectApi, createKubeConfig, isNotFound } from '@capstan/kube';

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

/** Installs Capstan's CRDs from the Helm chart's crds/ folder, the single source, and waits for them. */
export async function installCrds(api: ObjectApi): Promise<void> {
  const dir = join(repoRoot, 'deploy/capstan/crds');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    await applyYaml(api, await readFile(join(dir, file), 'utf8'), 'capstan-tests');
  }
  for (const name of ['gitrepositories.capstan.dev', 'syncs.capstan.dev']) {
    for (let i = 0; ; i++) {
      const crd = (await api.read({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name },
      })) as {
        status?: { conditions?: { type: string; status: string }[] };
      };
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (i > 100) throw new Error(`CRD ${name} not established`);
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
