import { readFile } from 'node:fs/promises';

/** One line of a TEST_TRACE_FILE, as StepHooks (libs/platform) appends it. */
export interface TraceEntry {
  pid: number;
  step: string;
  key: string;
  at: number;
}

export async function readTrace(file: string): Promise<TraceEntry[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TraceEntry);
}

export interface Interval {
  pid: number;
  key: string;
  from: number;
  to: number;
}

/**
 * The spans between a start step and its end step, per process and key. A process killed in
 * the middle (`killedAt` by pid) ends its open span when it died; one still running ends it now.
 */
export function intervals(
  trace: readonly TraceEntry[],
  start: string,
  end: string,
  killedAt: ReadonlyMap<number, number>,
): Interval[] {
  const open = new Map<string, TraceEntry[]>();
  const spans: Interval[] = [];
  for (const e of [...trace].sort((a, b) => a.at - b.at)) {
    const id = `${e.pid}|${e.key}`;
    if (e.step === start) open.set(id, [...(open.get(id) ?? []), e]);
    else if (e.step === end) {
      const first = open.get(id)?.shift();
      if (first) spans.push({ pid: e.pid, key: e.key, from: first.at, to: e.at });
    }
  }
  for (const entries of open.values())
    for (const e of entries)
      spans.push({ pid: e.pid, key: e.key, from: e.at, to: killedAt.get(e.pid) ?? Date.now() });
  return spans;
}

/** Pairs of spans of one key by two processes that overlap in time. */
export function overlapping(spans: readonly Interval[]): [Interval, Interval][] {
  const byKey = new Map<string, Interval[]>();
  for (const s of spans) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s]);
  const found: [Interval, Interval][] = [];
  for (const list of byKey.values()) {
    list.sort((a, b) => a.from - b.from);
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length && list[j]!.from < list[i]!.to; j++)
        if (list[j]!.pid !== list[i]!.pid) found.push([list[i]!, list[j]!]);
  }
  return found;
}
