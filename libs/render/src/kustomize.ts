import { readFile, readdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { gitEnv } from '@capstan/git';
import { ManifestError, parseManifests, type SourcedObject } from '@capstan/gitops-core';
import { RenderError, toolMessage } from './errors.js';
import { OutputTooLargeError, runTool } from './exec.js';
import {
  kustomizationReferences,
  pluginReferences,
  type KustomizeReference,
} from './kustomize-references.js';
import {
  LimitExceededError,
  RenderBudget,
  fileTooLarge,
  manifestToRenderError,
  parseBoundedYaml,
} from './limits.js';
import { RemoteFetchGuard, type RemoteFetchGuardOptions } from './remote-fetch-guard.js';
import { KUSTOMIZATION_FILES, insideRepository } from './repository.js';
import { isMapping } from './values.js';

export interface KustomizeOptions {
  /**
   * Let kustomizations name remote bases (git, HTTP): off by default. When on, kustomize's
   * fetches go through a RemoteFetchGuard: addresses checked and pinned, bytes bounded.
   */
  remoteBases?: boolean;
  remoteFetch?: Partial<RemoteFetchGuardOptions>;
  /** Repository files not written to disk because they are too large (path -> size). */
  oversized?: ReadonlyMap<string, number>;
}

/**
 * `kustomize build` of one folder. Output documents are attributed to the kustomization file
 * (document = position in the build output): kustomize does not say which input each came from.
 */
export async function kustomizeBuild(
  kustomize: string,
  root: string,
  rel: string,
  budget: RenderBudget = new RenderBudget(),
  options: KustomizeOptions = {},
): Promise<SourcedObject[]> {
  const names = await readdir(join(root, rel));
  const file = posix.join(rel, KUSTOMIZATION_FILES.find((k) => names.includes(k)) ?? 'kustomization.yaml');
  await assertContained(root, budget, options);
  const guard = options.remoteBases
    ? await RemoteFetchGuard.start({ maxBytes: DEFAULT_REMOTE_BYTES, ...options.remoteFetch })
    : undefined;
  let output: string;
  try {
    // The load restrictor is kustomize's default; said explicitly so a future default cannot widen it.
    output = await runTool(
      kustomize,
      ['build', '--load-restrictor', 'LoadRestrictionsRootOnly', rel === '' ? '.' : rel],
      {
        cwd: root,
        maxBytes: budget.remainingBytes + 1,
        ...(guard ? { env: { ...gitEnv(), ...guard.env() } } : {}),
      },
    );
  } catch (e) {
    // What the guard refused is the cause; kustomize's own words only say a fetch failed.
    if (guard && guard.problems.length > 0 && !(e instanceof OutputTooLargeError))
      throw new RenderError(file, `kustomize build failed: ${guard.problems.join('; ')}`);
    if (e instanceof OutputTooLargeError)
      throw new LimitExceededError(
        file,
        'maxRenderedBytes',
        `kustomize build yields more than ${budget.limits.maxRenderedBytes} bytes of YAML in all (limit maxRenderedBytes)`,
      );
    const message = toolMessage(e);
    const missing = [...(options.oversized ?? [])].find(([path]) => message.includes(posix.basename(path)));
    if (missing) throw fileTooLarge(missing[0], missing[1], budget.limits.maxFileBytes);
    throw new RenderError(file, `kustomize build failed: ${message}`);
  } finally {
    await guard?.close();
  }
  budget.addBytes(file, Buffer.byteLength(output));
  try {
    const objects = parseManifests([{ path: file, content: output }], budget.yaml);
    budget.addDocuments(file, objects.length);
    return objects;
  } catch (e) {
    if (e instanceof ManifestError) throw manifestToRenderError(e, 'kustomize output: ');
    throw e;
  }
}

/** What remote bases may bring into one build unless told otherwise (MAX_REPOSITORY_BYTES's default). */
const DEFAULT_REMOTE_BYTES = 64 * 1024 * 1024;

/**
 * kustomize follows relative paths anywhere on the disk and fetches remote bases from any URL;
 * the repository is a temp folder on the reconciler's host, so every path every kustomization
 * names (resources, generators, transformers, validators, configurations, patches, generator
 * files...) must stay inside it, and remote bases are refused unless the installation allows them.
 */
async function assertContained(root: string, budget: RenderBudget, options: KustomizeOptions): Promise<void> {
  for (const file of await kustomizationFiles(root, '')) {
    const size = options.oversized?.get(file);
    if (size !== undefined) throw fileTooLarge(file, size, budget.limits.maxFileBytes);
    const doc = parseBoundedYaml(await readFile(join(root, file), 'utf8'), file, budget.yaml);
    if (!isMapping(doc)) continue;
    const inline = (text: string, field: string) => configDocuments(text, `${file} ${field}`, budget);
    for (const ref of kustomizationReferences(doc, inline))
      await checkReference(root, posix.dirname(file), file, ref, budget, options);
  }
}

async function checkReference(
  root: string,
  dir: string,
  file: string,
  ref: KustomizeReference,
  budget: RenderBudget,
  options: KustomizeOptions,
): Promise<void> {
  const named = `${ref.field} ${ref.path}`;
  if (ref.kind === 'refused') throw new RenderError(file, `${named}: ${ref.reason}`);
  if (ref.kind === 'remote') {
    if (options.remoteBases) return;
    throw new RenderError(
      file,
      `${named}: remote bases are not allowed (sources.kustomizeRemoteBases); vendor it into the repository`,
    );
  }
  // An absolute path stays absolute for kustomize, whatever posix.join would make of it.
  if (ref.path.startsWith('/')) throw new RenderError(file, `${named}: escapes the repository`);
  const rel = insideRepositoryAs(posix.join(dir, ref.path), file, named);
  const oversized = options.oversized?.get(rel);
  if (oversized !== undefined) throw fileTooLarge(rel, oversized, budget.limits.maxFileBytes);
  const info = await stat(join(root, rel)).catch(() => undefined);
  if (info === undefined && ref.mayBeRemote && !options.remoteBases)
    // kustomize takes a path it cannot find for a remote target and would fetch it.
    throw new RenderError(
      file,
      `${named}: not found in the repository${/^[^/]+\.[^/]+\//.test(ref.path) ? ' (remote bases are not allowed)' : ''}`,
    );
  if (!info?.isFile() || !ref.config) return;
  // A generator/transformer/validator configuration file names files of its own, relative to
  // the kustomization that uses it (kustomize's loader root).
  const configs = configDocuments(await readFile(join(root, rel), 'utf8'), rel, budget);
  for (const config of configs)
    for (const inner of pluginReferences(config, named))
      await checkReference(root, dir, file, inner, budget, options);
}

function insideRepositoryAs(path: string, file: string, named: string): string {
  try {
    return insideRepository(path, file);
  } catch (e) {
    if (e instanceof RenderError) throw new RenderError(file, `${named}: escapes the repository`);
    throw e;
  }
}

/** The documents of a plugin configuration (a file, or inline YAML in a kustomization). */
function configDocuments(text: string, file: string, budget: RenderBudget): unknown[] {
  try {
    return parseManifests([{ path: file, content: text }], budget.yaml).map((s) => s.object);
  } catch (e) {
    if (e instanceof ManifestError) throw manifestToRenderError(e);
    throw e;
  }
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
