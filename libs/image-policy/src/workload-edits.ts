import { parseAllDocuments } from 'yaml';
import { canonicalName, type ImageRef } from './image-ref.js';
import { findImageSlots, objectIdOf, type ImageSlot, type ObjectId } from './image-slots.js';
import { editsFor } from './slot-decision.js';
import { annotationEdits } from './annotation-edits.js';
import { applyEdits } from './yaml-edits.js';

/** The workload a person names on the command line: `namespace/Kind/name`. */
export type WorkloadRef = Pick<ObjectId, 'namespace' | 'kind' | 'name'>;

export class WorkloadEditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorkloadEditError';
  }
}

const same = (a: WorkloadRef, b: WorkloadRef) =>
  a.namespace === b.namespace && a.kind.toLowerCase() === b.kind.toLowerCase() && a.name === b.name;

/**
 * A manual release (`fluxctl release --update-image`): every slot of the workload whose image is
 * the same repository gets the new tag. Refuses a locked workload unless forced. Pure.
 */
export function releaseImage(
  file: { path: string; text: string },
  workload: WorkloadRef,
  image: ImageRef,
  options: { container?: string; force?: boolean } = {},
): { text: string; slots: ImageSlot[] } {
  const slots = findImageSlots(file).filter(
    (s) =>
      same(s.object, workload) &&
      s.write.kind !== 'setter' &&
      (options.container
        ? s.container === options.container
        : s.current && canonicalName(s.current) === canonicalName(image)),
  );
  const locked = slots.find((s) => s.locked);
  if (locked && !options.force)
    throw new WorkloadEditError(
      `${workload.namespace}/${workload.kind}/${workload.name} is locked${locked.locked?.user ? ` by ${locked.locked.user}` : ''}${locked.locked?.message ? `: ${locked.locked.message}` : ''}; unlock it or use --force`,
    );
  const edits = slots.flatMap((s) => editsFor(s, image));
  return { text: applyEdits(file.text, edits), slots };
}

/** Whether the file holds the workload. */
export function holdsWorkload(text: string, workload: WorkloadRef): boolean {
  return parseAllDocuments(text).some((d) => {
    const id = objectIdOf(d);
    return id !== undefined && same(id, workload);
  });
}

/**
 * Sets (or with undefined, removes) Flux v1's lock annotations on the workload's document:
 * `fluxcd.io/locked`, `locked_user`, `locked_msg`. Only those lines change: the rest of the file
 * (comments, key order, quoting, other documents) stays byte for byte. Pure.
 */
export function setLock(
  text: string,
  workload: WorkloadRef,
  lock: { user?: string; message?: string } | undefined,
): string {
  const doc = parseAllDocuments(text).find((d) => {
    const id = objectIdOf(d);
    return id !== undefined && same(id, workload);
  });
  if (!doc) throw new WorkloadEditError(`${workload.namespace}/${workload.kind}/${workload.name} not found`);
  const keys = ['fluxcd.io/locked', 'fluxcd.io/locked_user', 'fluxcd.io/locked_msg'];
  // The legacy prefix means the same; one lock, written under the current prefix.
  const legacy = keys.map((k) => k.replace('fluxcd.io/', 'flux.weave.works/'));
  const set: Record<string, string> = {};
  if (lock) {
    set['fluxcd.io/locked'] = 'true';
    if (lock.user) set['fluxcd.io/locked_user'] = lock.user;
    if (lock.message) set['fluxcd.io/locked_msg'] = lock.message;
  }
  return applyEdits(text, annotationEdits(text, doc, { set, remove: lock ? legacy : [...keys, ...legacy] }));
}
