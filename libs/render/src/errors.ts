import { CROSS_NAMESPACE_REASON } from '@capstan/gitops-core';

/**
 * Why a build failed, naming the file in the repository (and the document, when known) and the
 * tool's own message. Terminal: the same commit renders the same way until someone fixes it.
 */
export class RenderError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
    readonly document?: number,
  ) {
    super(`${file}${document === undefined ? '' : ` (document ${document + 1})`}: ${detail}`);
    this.name = 'RenderError';
  }
}

/**
 * A reference to another namespace's object (a HelmRelease's valuesFrom ConfigMap or Secret)
 * where the installation keeps tenants apart. Terminal, and reported with its own reason.
 */
export class CrossNamespaceRefError extends RenderError {
  readonly reason = CROSS_NAMESPACE_REASON;
}

/** A helm/kustomize run that exited non-zero; `stderr` is the tool's diagnosis. */
export class ToolError extends Error {
  constructor(
    readonly tool: string,
    readonly stderr: string,
    /** What the tool printed before failing; helm reports unreachable repositories there. */
    readonly stdout = '',
  ) {
    super(`${tool}: ${stderr}`);
    this.name = 'ToolError';
  }
}

/** The tool's diagnosis without helm's and kustomize's generic trailers. */
export function toolMessage(e: unknown): string {
  const raw = e instanceof ToolError ? e.stderr : e instanceof Error ? e.message : String(e);
  const lines = raw
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('Use --debug flag'));
  return lines.join('; ') || raw;
}
