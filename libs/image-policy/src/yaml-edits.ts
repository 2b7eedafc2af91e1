import { isScalar, parse, type Document, type Scalar } from 'yaml';

/** Where a scalar's text sits in its file, and how it was quoted. */
export interface ScalarSite {
  start: number;
  end: number;
  style: Scalar.Type | undefined;
  value: string;
}

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/** The scalar at `path` in a parsed document, with its source range; undefined if absent or not a string. */
export function scalarAt(doc: Document, path: readonly (string | number)[]): ScalarSite | undefined {
  const node: unknown = doc.getIn(path, true);
  return siteOf(node);
}

export function siteOf(node: unknown): ScalarSite | undefined {
  if (!isScalar(node) || !node.range) return undefined;
  const value = node.value;
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  return { start: node.range[0], end: node.range[1], style: node.type, value: String(value) };
}

/**
 * The new text for a scalar in the style it was written in: only the value changes, so comments,
 * indentation and quoting of everything around it stay as the author left them. A plain scalar
 * that would no longer read back as a string (`3.10` is a float) gets double quotes.
 */
export function renderScalar(site: ScalarSite, value: string): string {
  switch (site.style) {
    case 'QUOTE_SINGLE':
      return `'${value.replaceAll("'", "''")}'`;
    case 'QUOTE_DOUBLE':
      return JSON.stringify(value);
    case 'PLAIN':
    case undefined: {
      let readBack: unknown;
      try {
        readBack = parse(value);
      } catch {
        readBack = undefined;
      }
      return readBack === value ? value : JSON.stringify(value);
    }
    case 'BLOCK_FOLDED':
    case 'BLOCK_LITERAL':
      return JSON.stringify(value);
  }
}

/** Applies non-overlapping edits to a text; later edits first so earlier offsets stay valid. */
export function applyEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = [...edits].sort((a, b) => b.start - a.start);
  let out = text;
  let limit = Infinity;
  for (const e of sorted) {
    if (e.end > limit) throw new Error(`overlapping edits at offset ${e.start}`);
    out = out.slice(0, e.start) + e.text + out.slice(e.end);
    limit = e.start;
  }
  return out;
}
