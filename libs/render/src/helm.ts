import { ManifestError, parseManifests, type ObjectOrigin, type SourcedObject } from '@capstan/gitops-core';
import { RenderError, toolMessage } from './errors.js';
import { runTool } from './exec.js';
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
    output = await runTool(helm, args, { cwd });
  } catch (e) {
    throw new RenderError(
      release.origin.file,
      `${release.ref}: helm template failed: ${toolMessage(e)}`,
      release.origin.document,
    );
  }
  return parseRendered(output, release);
}

/** Splits helm's output by its `# Source:` comments so each object names its template. */
export function parseRendered(output: string, release: ReleaseSpec): RenderedObject[] {
  const out: RenderedObject[] = [];
  for (const chunk of output.split(/^---[ \t]*$/m)) {
    const template = /^# Source: (.+)$/m.exec(chunk)?.[1]?.trim();
    let parsed: SourcedObject[];
    try {
      parsed = parseManifests([{ path: template ?? release.origin.file, content: chunk }]);
    } catch (e) {
      if (e instanceof ManifestError)
        throw new RenderError(
          release.origin.file,
          `${release.ref}: chart template ${template ?? '(unknown)'} rendered ${e.detail}`,
          release.origin.document,
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
