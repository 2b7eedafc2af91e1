import { ManifestError, parseManifests, type ObjectOrigin, type SourcedObject } from '@capstan/gitops-core';
import { RenderError, toolMessage } from './errors.js';
import { OutputTooLargeError, runTool } from './exec.js';
import { LimitExceededError, RenderBudget, manifestToRenderError } from './limits.js';
import type { ReleaseSpec } from './helm-release.js';

/** Where a rendered object came from: the HelmRelease's file and document, and the chart template. */
export interface RenderedOrigin extends ObjectOrigin {
  template?: string;
}

export interface RenderedObject extends SourcedObject {
  origin: RenderedOrigin;
}

/**
 * `helm template` of one release. Hooks are rendered too (the caller separates them); the Kube
 * version is not probed, so charts that branch on Capabilities see helm's defaults.
 */
export async function helmTemplate(
  helm: string,
  release: ReleaseSpec,
  chart: string,
  valuesFile: string,
  cwd: string,
  budget: RenderBudget = new RenderBudget(),
): Promise<RenderedObject[]> {
  const args = [
    'template',
    release.releaseName,
    chart,
    '--namespace',
    release.targetNamespace,
    '--values',
    valuesFile,
    ...(release.includeCrds ? ['--include-crds'] : []),
  ];
  let output: string;
  try {
    output = await runTool(helm, args, { cwd, maxBytes: budget.remainingBytes + 1 });
  } catch (e) {
    if (e instanceof OutputTooLargeError)
      throw new LimitExceededError(
        release.origin.file,
        'maxRenderedBytes',
        `${release.ref}: helm template yields more than ${budget.limits.maxRenderedBytes} bytes of YAML in all (limit maxRenderedBytes)`,
        release.origin.document,
      );
    throw new RenderError(
      release.origin.file,
      `${release.ref}: helm template failed: ${toolMessage(e)}`,
      release.origin.document,
    );
  }
  budget.addBytes(release.origin.file, Buffer.byteLength(output));
  const objects = parseRendered(output, release, budget);
  budget.addDocuments(release.origin.file, objects.length);
  return objects;
}

/** Splits helm's output by its `# Source:` comments so each object names its template. */
export function parseRendered(
  output: string,
  release: ReleaseSpec,
  budget: RenderBudget = new RenderBudget(),
): RenderedObject[] {
  const out: RenderedObject[] = [];
  const chunks = output.split(/^---[ \t]*$/m);
  if (chunks.length > budget.limits.maxDocuments)
    throw new LimitExceededError(
      release.origin.file,
      'maxDocuments',
      `${release.ref}: helm template yields more than ${budget.limits.maxDocuments} documents (limit maxDocuments)`,
      release.origin.document,
    );
  for (const chunk of chunks) {
    const template = /^# Source: (.+)$/m.exec(chunk)?.[1]?.trim();
    let parsed: SourcedObject[];
    try {
      parsed = parseManifests([{ path: template ?? release.origin.file, content: chunk }], budget.yaml);
    } catch (e) {
      if (e instanceof ManifestError)
        throw manifestToRenderError(
          new ManifestError(
            release.origin.file,
            release.origin.document,
            `${release.ref}: chart template ${template ?? '(unknown)'} rendered ${e.detail}`,
          ),
        );
      throw e;
    }
    for (const p of parsed)
      out.push({
        object: p.object,
        origin: { ...release.origin, ...(template === undefined ? {} : { template }) },
      });
  }
  return out;
}
