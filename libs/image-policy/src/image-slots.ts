import { isMap, isSeq, parseAllDocuments, type Document, type YAMLMap } from 'yaml';
import { parseImageRef, usesShortHubName, type ImageRef } from './image-ref.js';
import { scalarAt, siteOf, type ScalarSite } from './yaml-edits.js';
import { findSetters } from './setters.js';

export interface ObjectId {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Where in the YAML the new image goes. */
export type WriteTarget =
  /** One scalar holding `repo:tag[@digest]` (a container's `image`, a values `image: repo:tag`). */
  | { kind: 'image'; site: ScalarSite }
  /** Helm values split into fields; only the tag (and digest) is rewritten. */
  | { kind: 'parts'; tag: ScalarSite; repository: ScalarSite; registry?: ScalarSite }
  /** A Flux v2 setter marker: the whole image, or only its tag, name or digest. */
  | { kind: 'setter'; site: ScalarSite; field: SetterField };

export type SetterField = 'image' | 'tag' | 'name' | 'digest';

export type SlotPolicy =
  /** A Flux v1 filter annotation (absent: glob `*`, Flux v1's default). */
  | { source: 'flux-v1'; annotation?: string; filter: string }
  | { source: 'setter'; policy: { namespace: string; name: string } };

/** One place an image is written in Git that automation may update. */
export interface ImageSlot {
  file: string;
  object: ObjectId;
  /** Container name; `chart-image` or the values key/alias for a HelmRelease. */
  container: string;
  /** The image as written; for a `:tag`/`:digest` setter only that part is known here. */
  current?: ImageRef;
  /** The raw text of the field written (for setters the part they set). */
  currentText: string;
  /** The original named Docker Hub without a host (`nginx:1`); rewrites keep that. */
  shortHub: boolean;
  write: WriteTarget;
  policy: SlotPolicy;
  /** Flux v1: `fluxcd.io/automated: "true"`; setters are always automated. */
  automated: boolean;
  locked?: { user?: string; message?: string };
  /** `capstan.dev/pin-digest` on the object: write `repo:tag@sha256:...`. */
  pinDigest: boolean;
}

export interface SourceFile {
  path: string;
  text: string;
}

export class YamlFileError extends Error {
  constructor(
    readonly file: string,
    readonly document: number,
    reason: string,
  ) {
    super(`${file} (document ${document + 1}): ${reason}`);
    this.name = 'YamlFileError';
  }
}

const FLUX_PREFIXES = ['fluxcd.io/', 'flux.weave.works/'];
const POD_SPEC_PATHS: Record<string, (string | number)[]> = {
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  Pod: ['spec'],
};
export const PIN_DIGEST_ANNOTATION = 'capstan.dev/pin-digest';

/**
 * Every image slot in a file: containers of Flux v1-annotated workloads, images in HelmRelease
 * values (explicit `repository.fluxcd.io/<alias>` paths and the auto-detected shapes), and Flux v2
 * setter markers. A file that is not YAML yields an error naming it and the document.
 */
export function findImageSlots(file: SourceFile): ImageSlot[] {
  const docs = parseAllDocuments(file.text);
  const slots: ImageSlot[] = [];
  const docList = Array.isArray(docs) ? docs : [docs];
  docList.forEach((doc, index) => {
    const [error] = doc.errors;
    if (error) throw new YamlFileError(file.path, index, error.message);
    const object = objectIdOf(doc);
    if (!object) return;
    const annotations = annotationsOf(doc);
    if (flux(annotations, 'ignore') === 'true') return;
    slots.push(...findSetters(file.path, doc, object));
    const base = baseOf(file.path, object, annotations);
    const podSpec = POD_SPEC_PATHS[object.kind];
    if (podSpec) slots.push(...containerSlots(doc, podSpec, base, annotations));
    else if (object.kind === 'HelmRelease') slots.push(...helmSlots(doc, base, annotations));
  });
  // A setter on a field wins over the Flux v1 reading of the same scalar.
  const setterStarts = new Set(slots.filter((s) => s.write.kind === 'setter').map((s) => siteStart(s)));
  return slots.filter((s) => s.write.kind === 'setter' || !setterStarts.has(siteStart(s)));
}

function siteStart(s: ImageSlot): number {
  return s.write.kind === 'parts' ? s.write.tag.start : s.write.site.start;
}

type SlotBase = Pick<ImageSlot, 'file' | 'object' | 'automated' | 'pinDigest'> & {
  locked?: ImageSlot['locked'];
};

function baseOf(path: string, object: ObjectId, annotations: Record<string, string>): SlotBase {
  const locked = flux(annotations, 'locked') === 'true';
  const user = flux(annotations, 'locked_user');
  const message = flux(annotations, 'locked_msg');
  return {
    file: path,
    object,
    automated: flux(annotations, 'automated') === 'true',
    pinDigest: annotations[PIN_DIGEST_ANNOTATION] === 'true',
    ...(locked
      ? { locked: { ...(user === undefined ? {} : { user }), ...(message === undefined ? {} : { message }) } }
      : {}),
  };
}

function flux(annotations: Record<string, string>, key: string): string | undefined {
  for (const p of FLUX_PREFIXES) {
    const v = annotations[`${p}${key}`];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The filter for a container: `tag.<c>`, `filter.fluxcd.io/<c>`, then `tag_all`; Flux v1 defaults to glob `*`. */
function filterFor(annotations: Record<string, string>, container: string): SlotPolicy {
  const keys = [
    ...FLUX_PREFIXES.map((p) => `${p}tag.${container}`),
    `filter.fluxcd.io/${container}`,
    ...FLUX_PREFIXES.map((p) => `${p}tag_all`),
  ];
  for (const annotation of keys) {
    const filter = annotations[annotation];
    if (filter !== undefined) return { source: 'flux-v1', annotation, filter };
  }
  return { source: 'flux-v1', filter: 'glob:*' };
}

function containerSlots(
  doc: Document,
  podSpec: (string | number)[],
  base: SlotBase,
  annotations: Record<string, string>,
): ImageSlot[] {
  const slots: ImageSlot[] = [];
  for (const list of ['initContainers', 'containers']) {
    const seq: unknown = doc.getIn([...podSpec, list], true);
    if (!isSeq(seq)) continue;
    seq.items.forEach((item, i) => {
      if (!isMap(item)) return;
      const raw: unknown = item.get('name');
      const name = typeof raw === 'string' ? raw : '';
      const site = scalarAt(doc, [...podSpec, list, i, 'image']);
      if (!site || name === '') return;
      const current = tryParse(site.value);
      if (!current) return;
      slots.push({
        ...base,
        container: name,
        current,
        currentText: site.value,
        shortHub: usesShortHubName(site.value),
        write: { kind: 'image', site },
        policy: filterFor(annotations, name),
      });
    });
  }
  return slots;
}

function helmSlots(doc: Document, base: SlotBase, annotations: Record<string, string>): ImageSlot[] {
  const values: unknown = doc.getIn(['spec', 'values'], true);
  if (!isMap(values)) return [];
  const slots: ImageSlot[] = [];
  const taken = new Set<number>();
  const push = (slot: ImageSlot | undefined) => {
    if (!slot) return;
    const start = siteStart(slot);
    if (taken.has(start)) return;
    taken.add(start);
    slots.push(slot);
  };
  // Explicit value paths first: the user told us where the image is.
  for (const [key, path] of Object.entries(annotations)) {
    if (!key.startsWith('repository.fluxcd.io/')) continue;
    const alias = key.slice('repository.fluxcd.io/'.length);
    const at = (p: string | undefined) =>
      p ? scalarAt(doc, ['spec', 'values', ...p.split('.')]) : undefined;
    const repository = at(path);
    const tag = at(annotations[`tag.fluxcd.io/${alias}`]);
    const registry = at(annotations[`registry.fluxcd.io/${alias}`]);
    if (!repository) continue;
    push(
      tag
        ? partsSlot(base, alias, annotations, repository, tag, registry)
        : wholeSlot(base, alias, annotations, repository),
    );
  }
  push(detect(doc, ['spec', 'values'], values, base, 'chart-image', annotations));
  for (const pair of values.items) {
    const key = siteOf(pair.key)?.value;
    if (key === undefined || key === 'image' || !isMap(pair.value)) continue;
    push(detect(doc, ['spec', 'values', key], pair.value, base, key, annotations));
  }
  return slots;
}

/** The auto-detected shapes: `image: repo:tag`, `image`+`tag` (+`registry`), `image.{registry,repository,tag}`. */
function detect(
  doc: Document,
  at: string[],
  map: YAMLMap,
  base: SlotBase,
  container: string,
  annotations: Record<string, string>,
): ImageSlot | undefined {
  const image: unknown = map.get('image', true);
  if (isMap(image)) {
    const repository = scalarAt(doc, [...at, 'image', 'repository']);
    const tag = scalarAt(doc, [...at, 'image', 'tag']);
    const registry = scalarAt(doc, [...at, 'image', 'registry']);
    if (!repository || !tag) return undefined;
    return partsSlot(base, container, annotations, repository, tag, registry);
  }
  const imageSite = siteOf(image);
  if (!imageSite) return undefined;
  const tag = scalarAt(doc, [...at, 'tag']);
  const registry = scalarAt(doc, [...at, 'registry']);
  if (tag) return partsSlot(base, container, annotations, imageSite, tag, registry);
  return wholeSlot(base, container, annotations, imageSite);
}

function wholeSlot(
  base: SlotBase,
  container: string,
  annotations: Record<string, string>,
  site: ScalarSite,
): ImageSlot | undefined {
  const current = tryParse(site.value);
  if (!current?.tag) return undefined;
  return {
    ...base,
    container,
    current,
    currentText: site.value,
    shortHub: usesShortHubName(site.value),
    write: { kind: 'image', site },
    policy: filterFor(annotations, container),
  };
}

function partsSlot(
  base: SlotBase,
  container: string,
  annotations: Record<string, string>,
  repository: ScalarSite,
  tag: ScalarSite,
  registry: ScalarSite | undefined,
): ImageSlot | undefined {
  const name = registry ? `${registry.value.replace(/\/+$/, '')}/${repository.value}` : repository.value;
  const [tagOnly, digest] = tag.value.split('@');
  const current = tryParse(`${name}:${tagOnly ?? ''}${digest ? `@${digest}` : ''}`);
  if (!current) return undefined;
  return {
    ...base,
    container,
    current,
    currentText: tag.value,
    shortHub: usesShortHubName(name),
    write: { kind: 'parts', tag, repository, ...(registry ? { registry } : {}) },
    policy: filterFor(annotations, container),
  };
}

function tryParse(text: string): ImageRef | undefined {
  try {
    return parseImageRef(text);
  } catch {
    return undefined;
  }
}

export function objectIdOf(doc: Document): ObjectId | undefined {
  const apiVersion: unknown = doc.getIn(['apiVersion']);
  const kind: unknown = doc.getIn(['kind']);
  const name: unknown = doc.getIn(['metadata', 'name']);
  const namespace: unknown = doc.getIn(['metadata', 'namespace']);
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string')
    return undefined;
  return { apiVersion, kind, name, namespace: typeof namespace === 'string' ? namespace : 'default' };
}

function annotationsOf(doc: Document): Record<string, string> {
  const node: unknown = doc.getIn(['metadata', 'annotations'], true);
  const out: Record<string, string> = {};
  if (!isMap(node)) return out;
  for (const pair of node.items) {
    const k = siteOf(pair.key)?.value;
    const v: unknown = isScalarValue(pair.value);
    if (k !== undefined && typeof v === 'string') out[k] = v;
  }
  return out;
}

function isScalarValue(node: unknown): string | undefined {
  const site = siteOf(node);
  if (site) return site.value;
  // `true` unquoted parses as a boolean; Flux reads annotation strings, so accept its text.
  if (node && typeof node === 'object' && 'value' in node) {
    const v = node.value;
    if (typeof v === 'boolean') return String(v);
  }
  return undefined;
}
