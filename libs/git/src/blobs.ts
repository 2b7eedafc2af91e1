import { spawn } from 'node:child_process';

/** What `git cat-file --batch` said about one requested object. */
export type BlobRead =
  { kind: 'blob'; content: Buffer } | { kind: 'other'; type: string } | { kind: 'missing' };

/**
 * Reads many objects (ids or `<rev>:<path>` specs) with one `git cat-file --batch` process, as
 * bytes: a process per file made big trees slow, and decoding to strings corrupted binary files
 * (vendored chart archives). Results are in the order asked.
 */
export function readObjects(
  dir: string,
  specs: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<BlobRead[]> {
  if (specs.length === 0) return Promise.resolve([]);
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd: dir, env, timeout: timeoutMs });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`git cat-file --batch exited ${code}: ${stderr.trim()}`));
      try {
        resolve(parseBatch(Buffer.concat(chunks), specs.length));
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
    // A spec with a newline would desynchronize the protocol; git paths may hold one in theory.
    for (const spec of specs) if (spec.includes('\n')) return void child.kill();
    child.stdin.end(specs.map((s) => `${s}\n`).join(''));
  });
}

/** Parses `<oid> <type> <size>\n<bytes>\n` records (or `<spec> missing\n`). Pure. */
export function parseBatch(out: Buffer, count: number): BlobRead[] {
  const results: BlobRead[] = [];
  let at = 0;
  while (results.length < count) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) throw new Error('git cat-file --batch: truncated output');
    const header = out.subarray(at, eol).toString('utf8');
    at = eol + 1;
    const match = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!match) {
      // "<spec> missing" or "<spec> ambiguous": nothing follows the header.
      results.push({ kind: 'missing' });
      continue;
    }
    const type = match[1] ?? '';
    const size = Number(match[2]);
    const content = out.subarray(at, at + size);
    at += size + 1;
    results.push(type === 'blob' ? { kind: 'blob', content: Buffer.from(content) } : { kind: 'other', type });
  }
  return results;
}
