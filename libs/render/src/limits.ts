import { type ManifestError, YamlBoundsError, boundedDocuments, type YamlBounds } from '@capstan/gitops-core';
import { RenderError } from './errors.js';

/**
 * How much one render may read and produce. One bad commit must fail its own Sync with a clear
 * message, never take the reconciler (and every other Sync) down with it.
 */
export interface RenderLimits {
  /** One file of the repository, a values file, a values answer from a URL. */
  maxFileBytes: number;
  /** Everything one Sync's build yields: plain YAML read, kustomize and helm output. */
  maxRenderedBytes: number;
  /** Documents (objects) one Sync's build yields, and YAML documents in one text. */
  maxDocuments: number;
  /** One YAML text measured with its aliases expanded (see YamlBounds.maxExpandedBytes). */
  maxYamlExpandedBytes: number;
}

const MiB = 1024 * 1024;

/** Room for large real-world charts (CRDs included) with a safe margin below the reconciler's heap. */
export const DEFAULT_RENDER_LIMITS: RenderLimits = {
  maxFileBytes: 4 * MiB,
  maxRenderedBytes: 32 * MiB,
  maxDocuments: 10_000,
  maxYamlExpandedBytes: 8 * MiB,
};

/** A render input or output over one of the limits; the message names the file and the limit. */
export class LimitExceededError extends RenderError {
  constructor(
    file: string,
    readonly limit: keyof RenderLimits,
    detail: string,
    document?: number,
  ) {
    super(file, detail, document);
    this.name = 'LimitExceededError';
  }
}

/** The limits of one render, and what it has used of them so far. */
export class RenderBudget {
  private bytes = 0;
  private documents = 0;

  constructor(readonly limits: RenderLimits = DEFAULT_RENDER_LIMITS) {}

  /** Bounds for parsing one YAML text. */
  get yaml(): YamlBounds {
    return { maxExpandedBytes: this.limits.maxYamlExpandedBytes, maxDocuments: this.limits.maxDocuments };
  }

  /** Bytes still allowed (tool output is cut off one past it). */
  get remainingBytes(): number {
    return Math.max(0, this.limits.maxRenderedBytes - this.bytes);
  }

  /** A file read from disk or an answer: over maxFileBytes is refused before it is parsed. */
  checkFile(file: string, size: number): void {
    if (size > this.limits.maxFileBytes) throw fileTooLarge(file, size, this.limits.maxFileBytes);
  }

  /** Rendered YAML from `file` counted against maxRenderedBytes. */
  addBytes(file: string, size: number): void {
    this.bytes += size;
    if (this.bytes > this.limits.maxRenderedBytes)
      throw new LimitExceededError(
        file,
        'maxRenderedBytes',
        `the build yields more than ${this.limits.maxRenderedBytes} bytes of YAML (limit maxRenderedBytes), reached at this file`,
      );
  }

  /** Objects from `file` counted against maxDocuments. */
  addDocuments(file: string, count: number): void {
    this.documents += count;
    if (this.documents > this.limits.maxDocuments)
      throw new LimitExceededError(
        file,
        'maxDocuments',
        `the build yields more than ${this.limits.maxDocuments} objects (limit maxDocuments), reached at this file`,
      );
  }
}

export function fileTooLarge(file: string, size: number, limit: number): LimitExceededError {
  return new LimitExceededError(
    file,
    'maxFileBytes',
    `${size} bytes is over the limit of ${limit} bytes per file (limit maxFileBytes)`,
  );
}

/**
 * One YAML document (a values file, a kustomization, a Chart.yaml) parsed within the bounds;
 * a syntax error or a bound crossed throws a RenderError naming `file`. Empty text is null.
 */
export function parseBoundedYaml(
  text: string,
  file: string,
  bounds: YamlBounds,
  what = 'invalid YAML',
): unknown {
  try {
    for (const { doc, error } of boundedDocuments(text, { ...bounds, maxDocuments: 1 })) {
      if (error !== undefined) throw new RenderError(file, `${what}: ${error}`);
      try {
        return doc.toJS({ maxAliasCount: -1 }) as unknown;
      } catch (e) {
        throw new RenderError(file, `${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return null;
  } catch (e) {
    if (e instanceof YamlBoundsError)
      throw new LimitExceededError(
        file,
        e.limit === 'maxDocuments' ? 'maxDocuments' : 'maxYamlExpandedBytes',
        e.limit === 'maxDocuments' ? 'holds more than one YAML document' : e.detail,
        e.document,
      );
    throw e;
  }
}

/** ManifestError -> RenderError, with the limit named when a bound was crossed. */
export function manifestToRenderError(e: ManifestError, prefix = ''): RenderError {
  const limit = /\(limit (maxYamlExpandedBytes|maxDocuments)\)/.exec(e.detail)?.[1] as
    keyof RenderLimits | undefined;
  return limit === undefined
    ? new RenderError(e.file, `${prefix}${e.detail}`, e.document)
    : new LimitExceededError(e.file, limit, `${prefix}${e.detail}`, e.document);
}
