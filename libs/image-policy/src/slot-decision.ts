import { canonicalName, formatImageRef, type ImageRef } from './image-ref.js';
import type { ImageSlot } from './image-slots.js';
import { ranksAfter, type Selection, type TagPolicy } from './tag-policy.js';
import { renderScalar, type TextEdit } from './yaml-edits.js';

/** What a policy picked for a slot, with the image it belongs to. */
export interface PolicyPick {
  /** The policy as people name it: `ns/name` of an ImagePolicy, or the Flux v1 annotation and filter. */
  policyName: string;
  policy: TagPolicy;
  image: Pick<ImageRef, 'registry' | 'repository'>;
  selection: Selection;
}

export interface SlotGuards {
  /** Tags pushed in this run (what triggered it): a pick that is none of them is explained. */
  pushedTags: readonly string[];
  /** The last change of this slot's tag in Git was a person moving it back from `from` to `to`. */
  humanRollback?: { from: string; to: string; by: string; sha: string };
  /** Images (`registry/repo:tag` or `@digest`) a Canary of this workload failed with. */
  failedImages: ReadonlySet<string>;
}

export type SkipReason =
  | 'Locked'
  | 'HumanRollback'
  | 'CanaryFailed'
  | 'NoMatchingTag'
  | 'NoCreatedTime'
  | 'ConstantCreatedTime'
  | 'NotSelected'
  | 'PolicyInvalid';

export type SlotDecision =
  | { kind: 'update'; slot: ImageSlot; from: string; to: ImageRef; edits: TextEdit[]; why: string }
  | { kind: 'skip'; slot: ImageSlot; reason: SkipReason; message: string; candidate?: ImageRef }
  | { kind: 'current'; slot: ImageSlot; to: ImageRef; why: string };

/**
 * Decides one slot: update it to the policy's pick, or skip it with a reason. Pure; the caller
 * records every `update` and `skip` as a deploy decision. Nothing to change is `current` (or
 * `NotSelected` when a pushed tag lost); otherwise a lock wins over everything, then a person's
 * rollback, then a failed canary.
 */
export function decideSlot(slot: ImageSlot, pick: PolicyPick, guards: SlotGuards): SlotDecision {
  const sel = pick.selection;
  if (sel.kind === 'none') {
    if (slot.locked) return locked(slot);
    return { kind: 'skip', slot, reason: sel.reason, message: `${pick.policyName}: ${sel.message}` };
  }
  const to = target(pick, slot);
  const currentTag =
    slot.write.kind === 'setter' && slot.write.field !== 'image' ? undefined : slot.current?.tag;
  const sameTag = currentTag === to.tag || (slot.write.kind === 'setter' && isCurrentSetter(slot, to));
  const sameDigest = !to.digest || slot.current?.digest === to.digest || slot.write.kind === 'setter';
  const notPushed = guards.pushedTags.filter((t) => t !== sel.tag);
  const explainNotPushed = notPushed.length
    ? `${notPushed.join(', ')} not selected by ${pick.policyName}; `
    : '';
  if (sameTag && sameDigest) {
    if (notPushed.length)
      return {
        kind: 'skip',
        slot,
        reason: 'NotSelected',
        message: `${explainNotPushed}${sel.why}, which ${describe(slot)} already runs`,
      };
    return { kind: 'current', slot, to, why: sel.why };
  }
  // A lock only matters when there is something to change.
  if (slot.locked) return { ...locked(slot), candidate: to };
  const rb = guards.humanRollback;
  if (rb && !ranksAfter(pick.policy, { tag: sel.tag }, { tag: rb.from })) {
    return {
      kind: 'skip',
      slot,
      reason: 'HumanRollback',
      message: `${rb.by} rolled ${describe(slot)} back from ${rb.from} to ${rb.to} in ${rb.sha.slice(0, 12)}; not re-applying ${sel.tag} until unlocked, a newer image than ${rb.from}, or a newer change by a person`,
      candidate: to,
    };
  }
  const name = canonicalName(to);
  const failedWith = [`${name}:${to.tag ?? ''}`, ...(to.digest ? [`${name}@${to.digest}`] : [])].find((k) =>
    guards.failedImages.has(k),
  );
  if (failedWith)
    return {
      kind: 'skip',
      slot,
      reason: 'CanaryFailed',
      message: `a Canary of ${describe(slot)} failed with ${failedWith}; not updating to it again`,
      candidate: to,
    };
  const from = slot.currentText;
  return {
    kind: 'update',
    slot,
    from,
    to,
    edits: editsFor(slot, to),
    why: `${explainNotPushed}${sel.why}`,
  };
}

function locked(slot: ImageSlot): Extract<SlotDecision, { kind: 'skip' }> {
  const who = slot.locked?.user ? ` by ${slot.locked.user}` : '';
  const msg = slot.locked?.message ? `: ${slot.locked.message}` : '';
  return {
    kind: 'skip',
    slot,
    reason: 'Locked',
    message: `${describe(slot)} is locked${who}${msg}; not updating ${slot.container}`,
  };
}

function isCurrentSetter(slot: ImageSlot, to: ImageRef): boolean {
  if (slot.write.kind !== 'setter') return false;
  return slot.currentText === setterValue(slot, to, slot.write.field);
}

function target(pick: PolicyPick, slot: ImageSlot): ImageRef {
  const sel = pick.selection;
  if (sel.kind !== 'chosen') throw new Error('no pick');
  // A `:digest` setter needs the digest whatever the policy says about pinning.
  const pin =
    pick.policy.pinDigest ||
    slot.pinDigest ||
    (slot.write.kind === 'setter' && slot.write.field === 'digest');
  return {
    registry: pick.image.registry,
    repository: pick.image.repository,
    tag: sel.tag,
    ...(pin && sel.digest ? { digest: sel.digest } : {}),
  };
}

function setterValue(slot: ImageSlot, to: ImageRef, field: 'image' | 'tag' | 'name' | 'digest'): string {
  switch (field) {
    case 'image':
      return formatImageRef(to, { shortHub: slot.shortHub });
    case 'tag':
      return to.tag ?? '';
    case 'name':
      return formatImageRef(
        { registry: to.registry, repository: to.repository },
        { shortHub: slot.shortHub },
      );
    case 'digest':
      return to.digest ?? slot.currentText;
  }
}

/** The text edits that write `to` into the slot, in the style each field was written. */
export function editsFor(slot: ImageSlot, to: ImageRef): TextEdit[] {
  const w = slot.write;
  switch (w.kind) {
    case 'image':
      return [
        {
          start: w.site.start,
          end: w.site.end,
          text: renderScalar(w.site, formatImageRef(to, { shortHub: slot.shortHub })),
        },
      ];
    case 'parts':
      return [
        {
          start: w.tag.start,
          end: w.tag.end,
          text: renderScalar(w.tag, `${to.tag ?? ''}${to.digest ? `@${to.digest}` : ''}`),
        },
      ];
    case 'setter':
      return [
        { start: w.site.start, end: w.site.end, text: renderScalar(w.site, setterValue(slot, to, w.field)) },
      ];
  }
}

export function describe(slot: ImageSlot): string {
  const o = slot.object;
  return `${o.namespace}/${o.kind}/${o.name}`;
}
