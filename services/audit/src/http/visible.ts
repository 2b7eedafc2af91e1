import type { ReadableNamespaces } from '../auth/audit-auth.service.js';
import type { ChainedDecision } from '../domain/decision-record.js';
import {
  namespacesOf,
  trimDecision,
  type ViewedDecision,
  type VisibleDecision,
} from '../domain/visibility.js';

/** The decisions as this caller may see them: objects of namespaces they may not read cut out. */
export async function visibleTo<T extends ViewedDecision>(
  readable: ReadableNamespaces,
  rows: readonly T[],
): Promise<(T & { hiddenObjects?: number })[]> {
  if (readable.everything) return [...rows];
  const named = new Set<string>();
  for (const d of rows) for (const ns of namespacesOf(d)) named.add(ns);
  await readable.learn(named);
  return rows.map((d) => trimDecision(d, (ns) => readable.canRead(ns)));
}

/** visibleTo for a stream (exports): trimmed one by one, as the rows come. */
export async function* visibleStream(
  readable: ReadableNamespaces,
  rows: AsyncIterable<ChainedDecision>,
): AsyncGenerator<VisibleDecision> {
  for await (const d of rows) {
    const [visible] = await visibleTo(readable, [d]);
    if (visible) yield visible;
  }
}
