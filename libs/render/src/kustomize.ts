import { readFile, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { ManifestError, parseManifests, type SourcedObject } from '@capstan/gitops-core';
import { RenderError, toolMessage } from './errors.js';
import { runTool } from './exec.js';
import { KUSTOMIZATION_FILES, insideRepository } from './repository.js';
import { isMapping } from './values.js';

/**
 * `kustomize build` of one folder. Output documents are attributed to the kustomization file
 * (document = position in the build output): kustomize does not say which input each came from.
 */
export async function kustomizeBuild(kustomize: string, root: string, rel: string): Promise<SourcedObject[]> {
  const names = await readdir(join(root, rel));
  const file = posix.join(rel, KUSTOMIZATION_FILES.find((k) => names.includes(k)) ?? 'kustomization.yaml');
  await assertLocalPaths(root);
  let output: string;
  try {
    output = await runTool(kustomize, ['build', rel === '' ? '.' : rel], { cwd: root });
  } catch (e) {
    throw new RenderError(file, `kustomize build failed: ${toolMessage(e)}`);
  }
  try {
    return parseManifests([{ path: file, content: output }]);
  } catch (e) {
    if (e instanceof ManifestError) throw new RenderError(file, `kustomize output: ${e.detail}`, e.document);
    throw e;
  }
}

/**
 * kustomize follows relative paths anywhere on the disk; the repository is a temp folder on the
 * reconciler's host, so every local path in every kustomization must stay inside it.
 */
async function assertLocalPaths(root: string): Promise<void> {
  for (const file of await kustomizationFiles(root, '')) {
    let doc: unknown;
    try {
      doc = parse(await readFile(join(root, file), 'utf8'));
    } catch (e) {
      throw new RenderError(file, `invalid YAML: ${toolMessage(e).split(';')[0] ?? ''}`);
    }
    if (!isMapping(doc)) continue;
    const dir = posix.dirname(file);
    for (const ref of referencedPaths(doc)) {
      if (/^[a-z+]+:\/\/|^git@|^github\.com\//i.test(ref)) continue; // remote bases are kustomize's business
      insideRepository(posix.join(dir, ref), file);
    }
  }
}

function referencedPaths(doc: Record<string, unknown>): string[] {
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s) => typeof s === 'string') : []);
  const out = [
    ...strings(doc['resources']),
    ...strings(doc['bases']),
    ...strings(doc['components']),
    ...strings(doc['crds']),
    ...strings(doc['patchesStrategicMerge']).filter((p) => !p.includes('\n')),
  ];
  for (const field of ['patches', 'patchesJson6902']) {
    const list = doc[field];
    if (Array.isArray(list))
      for (const p of list) if (isMapping(p) && typeof p['path'] === 'string') out.push(p['path']);
  }
  for (const field of ['configMapGenerator', 'secretGenerator']) {
    const list = doc[field];
    if (!Array.isArray(list)) continue;
    for (const g of list) {
      if (!isMapping(g)) continue;
      // `files` entries may be `key=path`.
      out.push(...strings(g['files']).map((f) => f.slice(f.indexOf('=') + 1)), ...strings(g['envs']));
      if (typeof g['env'] === 'string') out.push(g['env']);
    }
  }
  return out;
}

async function kustomizationFiles(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, rel), { withFileTypes: true })) {
    const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await kustomizationFiles(root, child)));
    else if (KUSTOMIZATION_FILES.includes(entry.name)) out.push(child);
  }
  return out;
}
