import { Composer, LineCounter, Parser, isAlias, isMap, isPair, isScalar, isSeq, type Document } from 'yaml';

/** How much one YAML text may amount to once parsed. Unset: unbounded. */
export interface YamlBounds {
  /**
   * The size of the text with every alias replaced by what it names (a JSON-like estimate):
   * a "billion laughs" of 1 MB that would expand to 100 MB is refused after measuring, never
   * after expanding.
   */
  maxExpandedBytes?: number;
  /** Documents in the text (empty ones included: a file of a million `---` is still a bomb). */
  maxDocuments?: number;
}

/** A YAML text over one of its bounds; `limit` names the bound as operators set it. */
export class YamlBoundsError extends Error {
  constructor(
    readonly limit: 'maxYamlExpandedBytes' | 'maxDocuments',
    readonly detail: string,
    /** The document (0-based) being read when the bound was crossed. */
    readonly document: number,
  ) {
    super(detail);
    this.name = 'YamlBoundsError';
  }
}

/** One parsed document, or the first syntax error in it (with line and column). */
export interface BoundedDocument {
  index: number;
  doc: Document.Parsed;
  /** First error message, one line, with its position. */
  error?: string;
}

/**
 * Parses a multi-document YAML text one document at a time, checking the bounds before anything
 * is converted to JavaScript: documents are counted as they are composed (the rest of the text is
 * never composed past the limit), and each document's expanded size is measured on the syntax
 * tree, where an alias costs what it names without being copied.
 */
export function* boundedDocuments(
  source: string,
  bounds: YamlBounds = {},
  options: { uniqueKeys?: boolean } = {},
): Generator<BoundedDocument> {
  const lines = new LineCounter();
  const parser = new Parser(lines.addNewLine);
  const composer = new Composer({ uniqueKeys: options.uniqueKeys ?? true });
  let index = 0;
  let expanded = 0;
  for (const doc of composer.compose(parser.parse(source))) {
    if (bounds.maxDocuments !== undefined && index >= bounds.maxDocuments)
      throw new YamlBoundsError(
        'maxDocuments',
        `more than ${bounds.maxDocuments} YAML documents (limit maxDocuments)`,
        index,
      );
    const first = doc.errors[0];
    if (first) {
      const at = lines.linePos(first.pos[0]);
      const message = first.message.split('\n')[0] ?? first.message;
      yield { index, doc, error: `${message} at line ${at.line}, column ${at.col}` };
      return;
    }
    if (bounds.maxExpandedBytes !== undefined) {
      const budget = bounds.maxExpandedBytes - expanded;
      expanded += expandedSize(doc, budget, index, bounds.maxExpandedBytes);
    }
    yield { index, doc };
    index++;
  }
}

/**
 * The expanded size of a document, or YamlBoundsError as soon as it passes `budget`. Anchors are
 * remembered in document order with their measured size, so each node is visited once however
 * many aliases name it; an alias inside the node it names would be infinite and is refused.
 */
export function expandedSize(doc: Document.Parsed, budget: number, index = 0, limit = budget): number {
  const anchors = new Map<string, number>();
  const open = new Set<string>();
  let total = 0;
  const over = (): never => {
    throw new YamlBoundsError(
      'maxYamlExpandedBytes',
      `expands to more than ${limit} bytes through YAML aliases (limit maxYamlExpandedBytes)`,
      index,
    );
  };
  const add = (n: number): number => {
    total += n;
    if (total > budget) over();
    return n;
  };
  const measure = (node: unknown): number => {
    if (node === null || node === undefined) return add(4);
    if (isAlias(node)) {
      if (open.has(node.source))
        throw new YamlBoundsError(
          'maxYamlExpandedBytes',
          `alias *${node.source} refers to the node that contains it (an endless expansion)`,
          index,
        );
      // An unknown anchor is the parser's error, reported when the document is converted.
      return add(anchors.get(node.source) ?? 0);
    }
    const anchor = (node as { anchor?: string }).anchor;
    if (anchor !== undefined) open.add(anchor);
    let size: number;
    if (isScalar(node)) {
      size = add(scalarSize(node.value));
    } else if (isMap(node) || isSeq(node)) {
      size = add(2);
      for (const item of node.items as unknown[]) {
        if (isPair(item)) size += measure(item.key) + measure(item.value) + add(2);
        else size += measure(item) + add(1);
      }
    } else {
      size = add(scalarSize(node));
    }
    if (anchor !== undefined) {
      open.delete(anchor);
      anchors.set(anchor, size);
    }
    return size;
  };
  measure(doc.contents);
  return total;
}

function scalarSize(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  if (value instanceof Uint8Array) return value.byteLength;
  return String(value).length;
}
