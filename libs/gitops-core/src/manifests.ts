import type { KubeObject, SourcedObject } from './objects.js';
import { YamlBoundsError, boundedDocuments, type YamlBounds } from './yaml-bounds.js';

export interface ManifestFile {
  /** Path relative to the repository root, as shown to users. */
  path: string;
  content: string;
}

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly document: number | undefined,
    readonly detail: string,
  ) {
    super(`${file}${document === undefined ? '' : ` (document ${document + 1})`}: ${detail}`);
    this.name = 'ManifestError';
  }
}

/**
 * Parses multi-document YAML files into objects, in file order. All-or-nothing: the first bad
 * document throws a ManifestError naming the file and the document, so a broken commit applies nothing.
 */
export function parseManifests(files: readonly ManifestFile[], bounds: YamlBounds = {}): SourcedObject[] {
  const out: SourcedObject[] = [];
  for (const file of files) {
    try {
      for (const { doc, index, error } of boundedDocuments(file.content, bounds)) {
        if (error !== undefined) throw new ManifestError(file.path, index, `invalid YAML: ${error}`);
        // Sizes were measured on the tree, so aliases may be resolved however often they are used.
        let value: unknown;
        try {
          value = doc.toJS({ maxAliasCount: bounds.maxExpandedBytes === undefined ? 100 : -1 });
        } catch (e) {
          throw new ManifestError(
            file.path,
            index,
            `invalid YAML: ${firstLine(e instanceof Error ? e.message : String(e))}`,
          );
        }
        if (value === null || value === undefined) continue; // `---` with nothing after it
        for (const object of expandLists(value, file.path, index))
          out.push({ object, origin: { file: file.path, document: index } });
      }
    } catch (e) {
      if (e instanceof YamlBoundsError) throw new ManifestError(file.path, e.document, e.detail);
      throw e;
    }
  }
  return out;
}

function expandLists(value: unknown, file: string, document: number): KubeObject[] {
  const object = validateObject(value, file, document);
  if (object.kind === 'List' || (object.kind.endsWith('List') && Array.isArray(object['items']))) {
    const items = object['items'];
    if (!Array.isArray(items)) throw new ManifestError(file, document, `${object.kind} has no items array`);
    return items.map((item) => validateObject(item, file, document));
  }
  return [object];
}

function validateObject(value: unknown, file: string, document: number): KubeObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ManifestError(file, document, 'not a Kubernetes object (expected a mapping)');
  }
  const o = value as Record<string, unknown>;
  if (typeof o['apiVersion'] !== 'string' || o['apiVersion'] === '')
    throw new ManifestError(file, document, 'missing apiVersion');
  if (typeof o['kind'] !== 'string' || o['kind'] === '')
    throw new ManifestError(file, document, 'missing kind');
  if (o['kind'] === 'List' || (o['kind'].endsWith('List') && Array.isArray(o['items'])))
    return o as unknown as KubeObject;
  const meta = o['metadata'];
  if (typeof meta !== 'object' || meta === null)
    throw new ManifestError(file, document, `${o['kind']}: missing metadata`);
  const name = (meta as Record<string, unknown>)['name'];
  if (typeof name !== 'string' || name === '')
    throw new ManifestError(file, document, `${o['kind']}: missing metadata.name`);
  const ns = (meta as Record<string, unknown>)['namespace'];
  if (ns !== undefined && typeof ns !== 'string')
    throw new ManifestError(file, document, `${o['kind']}/${name}: metadata.namespace must be a string`);
  return o as unknown as KubeObject;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/** Files a plain-YAML build reads: `.yaml`/`.yml`, sorted so the build is deterministic. */
export function isManifestPath(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** Detects duplicates: two documents declaring the same object is a build error, not a silent overwrite. */
export function assertUnique(objects: readonly SourcedObject[], idOf: (o: KubeObject) => string): void {
  const seen = new Map<string, SourcedObject>();
  for (const s of objects) {
    const id = idOf(s.object);
    const first = seen.get(id);
    if (first) {
      throw new ManifestError(
        s.origin.file,
        s.origin.document,
        `${s.object.kind}/${s.object.metadata.name} is also declared in ${first.origin.file} (document ${first.origin.document + 1})`,
      );
    }
    seen.set(id, s);
  }
}
