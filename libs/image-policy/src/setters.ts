import { visit, type Document } from 'yaml';
import { parseImageRef, usesShortHubName } from './image-ref.js';
import type { ImageSlot, ObjectId, SetterField } from './image-slots.js';
import { siteOf } from './yaml-edits.js';

const MARKER = /\{\s*"\$imagepolicy"\s*:\s*"([^"]+)"\s*\}/;

export interface SetterRef {
  namespace: string;
  name: string;
  field: SetterField;
}

/** `ns:name`, `ns:name:tag`, `ns:name:name`, `ns:name:digest` (Flux v2's setter markers). */
export function parseSetterMarker(comment: string): SetterRef | undefined {
  const m = MARKER.exec(comment);
  if (!m) return undefined;
  const [namespace, name, field = 'image', ...extra] = (m[1] ?? '').split(':');
  if (!namespace || !name || extra.length > 0) return undefined;
  if (field !== 'image' && field !== 'tag' && field !== 'name' && field !== 'digest') return undefined;
  return { namespace, name, field };
}

/** Every scalar in the document whose line comment is a setter marker. */
export function findSetters(file: string, doc: Document, object: ObjectId): ImageSlot[] {
  const slots: ImageSlot[] = [];
  visit(doc, {
    Scalar(_key, node) {
      const ref = node.comment ? parseSetterMarker(node.comment) : undefined;
      const site = siteOf(node);
      if (!ref || !site) return;
      let current;
      if (ref.field === 'image') {
        try {
          current = parseImageRef(site.value);
        } catch {
          current = undefined;
        }
      }
      slots.push({
        file,
        object,
        container: ref.name,
        ...(current ? { current } : {}),
        currentText: site.value,
        shortHub: ref.field === 'image' || ref.field === 'name' ? usesShortHubName(site.value) : false,
        write: { kind: 'setter', site, field: ref.field },
        policy: { source: 'setter', policy: { namespace: ref.namespace, name: ref.name } },
        automated: true,
        pinDigest: false,
      });
    },
  });
  return slots;
}
