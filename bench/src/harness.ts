import { cpus, totalmem } from 'node:os';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '@capstan/e2e';

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  target: string;
  /** Markdown written under the benchmark's heading in docs/benchmarks.md. */
  details: string;
}

export type Benchmark = () => Promise<BenchResult>;

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} cores ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

/** Sum and count of a Prometheus histogram series from a /metrics page. */
export function histogram(metrics: string, name: string, labels = ''): { sum: number; count: number } {
  const read = (suffix: string) => {
    const re = new RegExp(`^${name}_${suffix}\\{([^}]*)\\} ([0-9.e+-]+)$`, 'gm');
    let total = 0;
    for (const m of metrics.matchAll(re)) if ((m[1] ?? '').includes(labels)) total += Number(m[2]);
    return total;
  };
  return { sum: read('sum'), count: read('count') };
}

/** Replaces (or adds) this benchmark's section in docs/benchmarks.md. */
export async function record(result: BenchResult, date: string): Promise<void> {
  const file = join(repoRoot, 'docs/benchmarks.md');
  const header =
    '# Benchmarks\n\nRun them with `npm run bench` (all) or `npm run bench -- <name>` (one). Each run rewrites its own section.\n';
  const current = await readFile(file, 'utf8').catch(() => header);
  const start = `<!-- bench:${result.name} -->`;
  const end = `<!-- /bench:${result.name} -->`;
  const section = `${start}\n## ${result.name}\n\n${date} on ${machine()}.\n\n**${result.value} ${result.unit}** (target: ${result.target})\n\n${result.details.trim()}\n${end}`;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next =
    from >= 0 && to > from
      ? current.slice(0, from) + section + current.slice(to + end.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  await writeFile(file, next);
}
