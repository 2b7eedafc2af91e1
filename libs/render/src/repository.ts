import { lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { RenderError } from './errors.js';

/**
 * A path from Git or a manifest, relative to the repository root, normalized; `..` that leaves the
 * repository (or an absolute path) is refused with the file that asked for it.
 */
export function insideRepository(path: string, askedBy: string): string {
  if (path.startsWith('/')) throw new RenderError(askedBy, `path ${path} escapes the repository`);
  const normalized = posix.normalize(path === '' ? '.' : path);
  if (normalized === '..' || normalized.startsWith('../'))
    throw new RenderError(askedBy, `path ${path} escapes the repository`);
  return normalized === '.' ? '' : normalized.replace(/\/$/, '');
}

/** Writes a repository snapshot (GitMirror.readTree output) to `dir`, so helm and kustomize can read it. */
export async function materialize(
  files: readonly { path: string; content: string | Uint8Array; oversized?: number }[],
  dir: string,
): Promise<void> {
  for (const file of files) {
    const rel = insideRepository(file.path, file.path);
    // Over maxFileBytes: not read, so not written; a render that needs it says so by name.
    if (file.oversized !== undefined) continue;
    const full = join(dir, rel);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, file.content);
  }
}

export const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

export interface FolderEntry {
  /** Path relative to the repository root. */
  path: string;
  kind: 'manifest' | 'kustomization';
}

/**
 * What a plain folder contributes, recursively and sorted: YAML files, and whole sub-folders that
 * are kustomizations (built with kustomize, not read file by file). Folders holding a Chart.yaml
 * are charts, rendered only through a HelmRelease (as Flux v1 skipped them).
 */
export async function scanFolder(root: string, rel: string): Promise<FolderEntry[]> {
  const names = (await readdir(join(root, rel))).sort();
  if (names.includes('Chart.yaml')) return [];
  if (KUSTOMIZATION_FILES.some((k) => names.includes(k))) return [{ path: rel, kind: 'kustomization' }];
  const out: FolderEntry[] = [];
  for (const name of names) {
    const child = rel === '' ? name : `${rel}/${name}`;
    const info = await lstat(join(root, child));
    if (info.isDirectory()) out.push(...(await scanFolder(root, child)));
    else if (info.isFile() && /\.ya?ml$/i.test(name)) out.push({ path: child, kind: 'manifest' });
  }
  return out;
}

/** The files left off the disk for their size (see RepoFile.oversized), path -> size. */
export function oversizedFiles(files: readonly { path: string; oversized?: number }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of files) if (f.oversized !== undefined) out.set(f.path, f.oversized);
  return out;
}
