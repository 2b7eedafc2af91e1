import { isMap, isScalar, type Document, type Pair, type YAMLMap } from 'yaml';
import { renderScalar, type TextEdit } from './yaml-edits.js';

/**
 * What to do to a document's `metadata.annotations`: keys to set (to a string) and keys to
 * remove. Keys absent from both are left exactly as written.
 */
export interface AnnotationChange {
  set: Readonly<Record<string, string>>;
  remove: readonly string[];
}

type AnyPair = Pair;

/**
 * Text edits that change a parsed document's annotations and nothing else: a value changes in its
 * own quoting, a removed key loses its line, a new key gets a line at the map's indentation (a new
 * `annotations:` block under `metadata` when there was none), and an emptied map goes away, so a
 * lock then unlock gives back the file as it was. Comments, key order and quoting elsewhere stay
 * byte for byte, which `Document#toString()` would not keep. Flow maps (`{a: b}`) are rewritten
 * as one node from the verbatim text of the entries they keep. Offsets are into `text`, the
 * source the document was parsed from (all documents of a file share it). Pure.
 */
export function annotationEdits(text: string, doc: Document, change: AnnotationChange): TextEdit[] {
  const metadata: unknown = doc.get('metadata', true);
  if (!isMap(metadata) || !metadata.range) throw new Error('the document has no metadata map');
  const pair = pairOf(metadata, 'annotations');
  const annotations = pair?.value;
  const wanted = Object.entries(change.set);
  if (!isMap(annotations)) {
    // No annotations (or `annotations:` with nothing): only setting anything changes the file.
    if (wanted.length === 0) return [];
    const entries = wanted.map(([k, v]) => [k, v] as const);
    if (pair)
      return [{ ...rangeOfPair(text, metadata, pair), text: renderPair(text, metadata, pair, entries) }];
    return [insertInto(text, metadata, [['annotations', entries]])];
  }
  const kept: { pair: AnyPair; value?: string }[] = [];
  const edits: TextEdit[] = [];
  const seen = new Set<string>();
  for (const item of annotations.items as AnyPair[]) {
    const key = keyOf(item);
    if (key === undefined) {
      kept.push({ pair: item });
      continue;
    }
    seen.add(key);
    const value = change.set[key];
    if (value !== undefined) kept.push({ pair: item, value });
    else if (change.remove.includes(key)) continue;
    else kept.push({ pair: item });
  }
  const added = wanted.filter(([k]) => !seen.has(k));
  if (kept.length === 0 && added.length === 0) {
    // The map is empty now: remove `annotations` itself rather than leave `annotations: {}`.
    if (metadata.flow) return [rewriteFlow(text, metadata, (p) => (p === pair ? null : undefined), [])];
    return pair ? [deleteBlockPair(text, pair)] : [];
  }
  if (annotations.flow) {
    const changed = new Map(kept.filter((k) => k.value !== undefined).map((k) => [k.pair, k.value]));
    const dropped = new Set((annotations.items as AnyPair[]).filter((p) => !kept.some((k) => k.pair === p)));
    return [
      rewriteFlow(
        text,
        annotations,
        (p) =>
          dropped.has(p)
            ? null
            : changed.has(p)
              ? `${keyText(p, text)}: ${flowValue(changed.get(p) ?? '')}`
              : undefined,
        added.map(([k, v]) => `${k}: ${flowValue(v)}`),
      ),
    ];
  }
  for (const item of annotations.items as AnyPair[]) {
    const k = kept.find((x) => x.pair === item);
    if (!k) edits.push(deleteBlockPair(text, item));
    else if (k.value !== undefined) {
      const edit = valueEdit(item, k.value);
      if (edit) edits.push(edit);
    }
  }
  if (added.length > 0)
    edits.push(
      insertInto(
        text,
        annotations,
        added.map(([k, v]) => [k, v]),
      ),
    );
  return edits;
}

type Entry = readonly [string, string | readonly (readonly [string, string])[]];

function pairOf(map: YAMLMap, key: string): AnyPair | undefined {
  return (map.items as AnyPair[]).find((p) => keyOf(p) === key);
}

function keyOf(pair: AnyPair): string | undefined {
  return isScalar(pair.key) && typeof pair.key.value === 'string' ? pair.key.value : undefined;
}

function keyText(pair: AnyPair, text: string): string {
  const r = isScalar(pair.key) ? pair.key.range : undefined;
  return r ? text.slice(r[0], r[1]) : String(keyOf(pair));
}

/** The value in the quoting it was written in; undefined when it already says that. */
function valueEdit(pair: AnyPair, value: string): TextEdit | undefined {
  const node = pair.value;
  if (isScalar(node) && node.range) {
    // `locked: true` unquoted is a boolean to YAML: rewritten as the string Kubernetes wants.
    if (node.value === value) return undefined;
    const style = node.type === 'BLOCK_FOLDED' || node.type === 'BLOCK_LITERAL' ? 'QUOTE_DOUBLE' : node.type;
    return {
      start: node.range[0],
      end: node.range[1],
      text: renderScalar({ start: 0, end: 0, style, value }, value),
    };
  }
  throw new Error(`annotation ${String(keyOf(pair))} is not a string`);
}

function blockValue(v: string): string {
  return renderScalar({ start: 0, end: 0, style: 'PLAIN', value: v }, v);
}

/** Plain only when nothing in it means something inside `{...}`. */
function flowValue(v: string): string {
  return /^[A-Za-z0-9_./@-]+$/.test(v) && blockValue(v) === v ? v : JSON.stringify(v);
}

function lineStart(text: string, at: number): number {
  return text.lastIndexOf('\n', at - 1) + 1;
}

/** After the newline ending the line `at` is on (a block scalar's range already ends after one). */
function lineEnd(text: string, at: number): number {
  if (at > 0 && text[at - 1] === '\n') return at;
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
}

function endOfPair(pair: AnyPair): number {
  const v = pair.value as { range?: [number, number, number] } | null;
  const k = pair.key as { range?: [number, number, number] };
  return v?.range?.[1] ?? k.range?.[1] ?? 0;
}

function startOfPair(text: string, pair: AnyPair): number {
  const start = (pair.key as { range?: [number, number, number] }).range?.[0] ?? 0;
  const from = lineStart(text, start);
  return /^[ \t]*$/.test(text.slice(from, start)) ? from : start;
}

/** A block map entry's whole lines, from its key's line to the end of its value's last line. */
function deleteBlockPair(text: string, pair: AnyPair): TextEdit {
  return { start: startOfPair(text, pair), end: lineEnd(text, endOfPair(pair)), text: '' };
}

/** The range of a pair inside `parent`, for replacing it whole (an `annotations:` with no map). */
function rangeOfPair(text: string, parent: YAMLMap, pair: AnyPair): { start: number; end: number } {
  const start = (pair.key as { range?: [number, number, number] }).range?.[0] ?? 0;
  if (parent.flow) return { start, end: endOfPair(pair) };
  return { start, end: lineEnd(text, endOfPair(pair)) };
}

function renderPair(
  text: string,
  parent: YAMLMap,
  pair: AnyPair,
  entries: readonly (readonly [string, string])[],
): string {
  if (parent.flow) return `annotations: {${entries.map(([k, v]) => `${k}: ${flowValue(v)}`).join(', ')}}`;
  const col = (pair.key as { range?: [number, number, number] }).range?.[0] ?? 0;
  const indent = ' '.repeat(col - lineStart(text, col));
  return `annotations:\n${entries.map(([k, v]) => `${indent}  ${k}: ${blockValue(v)}\n`).join('')}`;
}

/**
 * New entries at the end of a map: lines at its keys' indentation after its last entry, or one
 * more item before a flow map's `}`. A nested entry (a new `annotations` map) is indented by
 * the step the file already uses.
 */
function insertInto(text: string, map: YAMLMap, entries: readonly Entry[]): TextEdit {
  if (map.flow)
    return rewriteFlow(
      text,
      map,
      () => undefined,
      entries.map(([k, v]) =>
        typeof v === 'string'
          ? `${k}: ${flowValue(v)}`
          : `${k}: {${v.map(([a, b]) => `${a}: ${flowValue(b)}`).join(', ')}}`,
      ),
    );
  const items = map.items as AnyPair[];
  const first = items[0];
  const last = items.at(-1);
  if (!first || !last) throw new Error('an empty block map');
  const firstKey = (first.key as { range?: [number, number, number] }).range?.[0] ?? 0;
  const col = firstKey - lineStart(text, firstKey);
  const indent = ' '.repeat(col);
  const step = ' '.repeat(Math.max(2, col - parentColumn(text, firstKey, col)));
  const at = lineEnd(text, endOfPair(last));
  const lines = entries
    .map(([k, v]) =>
      typeof v === 'string'
        ? `${indent}${k}: ${blockValue(v)}\n`
        : `${indent}${k}:\n${v.map(([a, b]) => `${indent}${step}${a}: ${blockValue(b)}\n`).join('')}`,
    )
    .join('');
  return { start: at, end: at, text: (at > 0 && text[at - 1] !== '\n' ? '\n' : '') + lines };
}

/** The column of the key owning the block map whose first key is at `at` (the line above it). */
function parentColumn(text: string, at: number, col: number): number {
  let end = lineStart(text, at) - 1;
  while (end > 0) {
    const start = lineStart(text, end);
    const line = text.slice(start, end);
    const indent = /^ */.exec(line)?.[0].length ?? 0;
    if (line.trim() !== '' && !line.trim().startsWith('#') && indent < col) return indent;
    end = start - 1;
  }
  return 0;
}

/**
 * A flow map written again from the verbatim text of each entry it keeps (`replace` returns null
 * to drop an entry, a string to replace it, undefined to keep it), plus `append`.
 */
function rewriteFlow(
  text: string,
  map: YAMLMap,
  replace: (pair: AnyPair) => string | null | undefined,
  append: readonly string[],
): TextEdit {
  const range = map.range;
  if (!range) throw new Error('a flow map without a source range');
  const parts: string[] = [];
  for (const p of map.items as AnyPair[]) {
    const r = replace(p);
    if (r === null) continue;
    const start = (p.key as { range?: [number, number, number] }).range?.[0] ?? 0;
    parts.push(r ?? text.slice(start, endOfPair(p)));
  }
  parts.push(...append);
  const open = text.indexOf('{', range[0]);
  // The closing brace after the last entry (a map's range may run on past it).
  const last = (map.items as AnyPair[]).at(-1);
  const close = text.indexOf('}', last ? endOfPair(last) : open);
  return { start: open, end: close + 1, text: `{${parts.join(', ')}}` };
}
