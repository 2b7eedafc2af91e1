import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface DeclaredDependency {
  name: string;
  repository: string;
  /** The version or range Chart.yaml asks for (Masterminds semver syntax); empty: any. */
  version?: string;
}

/**
 * Dependency archives kept across commits for charts whose lock file pins every dependency to a
 * remote repository: the same Chart.yaml and lock fetch the same archives, so a new commit that
 * does not touch them copies them instead of asking the repositories again. Charts without a lock
 * (version ranges) or with local `file://` dependencies are always built.
 */
export class LockedDependencyCache {
  constructor(private readonly dir: string) {}

  /** The cache key of the chart's dependency files, or undefined when they are not pinned. */
  async keyOf(chartDir: string, declared: readonly DeclaredDependency[]): Promise<string | undefined> {
    if (!declared.every((d) => /^(https?|oci):\/\//i.test(d.repository))) return undefined;
    const read = (file: string) => readFile(join(chartDir, file)).catch(() => undefined);
    const lock = (await read('Chart.lock')) ?? (await read('requirements.lock'));
    if (lock === undefined) return undefined;
    const hash = createHash('sha256');
    for (const part of [await read('Chart.yaml'), await read('requirements.yaml'), lock])
      hash.update(part ?? '').update('\0');
    return hash.digest('hex').slice(0, 32);
  }

  /** Copies the cached archives into `chartsDir`; false when nothing is cached for `key`. */
  async restore(key: string, chartsDir: string): Promise<boolean> {
    const cached = join(this.dir, key);
    const archives = await readdir(cached).catch(() => undefined);
    if (archives === undefined) return false;
    await mkdir(chartsDir, { recursive: true });
    for (const archive of archives) await copyFile(join(cached, archive), join(chartsDir, archive));
    return true;
  }

  /** Keeps the archives a build left in `chartsDir`; written aside then renamed, so never half there. */
  async store(key: string, chartsDir: string): Promise<void> {
    const archives = (await readdir(chartsDir).catch(() => [])).filter((f) => f.endsWith('.tgz'));
    const partial = join(this.dir, `${key}.${randomBytes(4).toString('hex')}.partial`);
    await mkdir(partial, { recursive: true });
    try {
      for (const archive of archives) await copyFile(join(chartsDir, archive), join(partial, archive));
      // Another process may have stored the same key first: theirs is as good as ours.
      await rename(partial, join(this.dir, key)).catch(() => undefined);
    } finally {
      await rm(partial, { recursive: true, force: true });
    }
  }
}
