import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { DecisionRecord, DecisionTargetRecord } from './decision-record.js';

/** prev_hash of the first decision. */
export const GENESIS_HASH = '0'.repeat(64);

/** Bump when the hashed content changes shape; old rows keep verifying under their version. */
export const CHAIN_FORMAT_VERSION = 1;

const targetOrder = (a: DecisionTargetRecord, b: DecisionTargetRecord) =>
  compare(a.apiVersion, b.apiVersion) ||
  compare(a.kind, b.kind) ||
  compare(a.namespace, b.namespace) ||
  compare(a.name, b.name);

/**
 * What a link's hash covers: the whole record, targets included (so decision_targets is
 * protected too), in an order-independent form. `seq` is left out: it is the chain position,
 * already bound by each row's prev_hash.
 *
 * The string is canonicalJson of `{v, id, eventId, ..., targets sorted}` (chainContentReference
 * in chain.spec.ts, which the tests hold it to), written member by member with the keys in their
 * canonical order: the record's own shape is fixed, so only its free-form JSON (actors, image,
 * change set, evidence) needs the general walk with its key sorting. Every decision ingested and
 * every one verified is written here, and this was most of the CPU an append cost.
 */
export function chainContent(r: DecisionRecord): string {
  return object(
    member('action', value(r.action)) +
      member('actor', actor(r.actor)) +
      member('actors', value(r.actors)) +
      member('changeSet', value(r.changeSet)) +
      member('cluster', value(r.cluster)) +
      member('correlationId', value(r.correlationId)) +
      member('decidedBy', decidedBy(r.decidedBy)) +
      member('eventId', value(r.eventId)) +
      member('eventSource', value(r.eventSource)) +
      member('evidence', value(r.evidence)) +
      member('id', value(r.id)) +
      member('image', value(r.image)) +
      member('message', value(r.message)) +
      member('outcome', value(r.outcome)) +
      member('reason', value(r.reason)) +
      member('recordedAt', date(r.recordedAt)) +
      member('source', r.source === null ? 'null' : source(r.source)) +
      member('targets', `[${[...r.targets].sort(targetOrder).map(target).join(',')}]`) +
      member('time', date(r.time)) +
      member('traceparent', value(r.traceparent)) +
      member('v', String(CHAIN_FORMAT_VERSION)),
  );
}

/** `,"key":json`, or nothing for a member canonicalJson drops. Keys here need no escaping. */
const member = (key: string, json: string | undefined): string =>
  json === undefined ? '' : `,"${key}":${json}`;
const object = (members: string): string => `{${members.slice(1)}}`;

/** One value: strings and null inline, undefined dropped, anything else by the general walk. */
function value(v: unknown): string | undefined {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (v === undefined || typeof v === 'function') return undefined;
  return canonicalJson(v);
}

const date = (v: unknown): string | undefined => (v instanceof Date ? `"${v.toISOString()}"` : value(v));

const actor = (a: DecisionRecord['actor']): string =>
  object(
    member('email', value(a.email)) +
      member('evidence', value(a.evidence)) +
      member('kind', value(a.kind)) +
      member('name', value(a.name)),
  );

const decidedBy = (d: DecisionRecord['decidedBy']): string =>
  object(
    member('kind', value(d.kind)) + member('name', value(d.name)) + member('namespace', value(d.namespace)),
  );

const person = (p: { name: string; email: string }): string =>
  object(member('email', value(p.email)) + member('name', value(p.name)));

const source = (s: NonNullable<DecisionRecord['source']>): string =>
  object(
    member('author', person(s.author)) +
      member('commitMessage', value(s.commitMessage)) +
      member('committer', person(s.committer)) +
      member('parents', value(s.parents)) +
      member('ref', value(s.ref)) +
      member('repository', value(s.repository)) +
      member('revision', value(s.revision)) +
      member('sha', value(s.sha)) +
      member('url', value(s.url)),
  );

const target = (t: DecisionTargetRecord): string =>
  object(
    member('action', value(t.action)) +
      member('apiVersion', value(t.apiVersion)) +
      member('kind', value(t.kind)) +
      member('name', value(t.name)) +
      member('namespace', value(t.namespace)),
  );

/** hash = sha256(prev_hash || canonical JSON of the row), hex. */
export function chainHash(prevHash: string, record: DecisionRecord): string {
  return linkHash(prevHash, chainContent(record));
}

/** chainHash for content already canonicalized (chainContent): appends canonicalize ahead of the lock. */
export function linkHash(prevHash: string, content: string): string {
  return createHash('sha256').update(prevHash).update(content).digest('hex');
}

export interface ChainLink {
  seq: bigint;
  prevHash: string;
  hash: string;
  record: DecisionRecord;
}

export type ChainBreak = 'prev-hash-mismatch' | 'hash-mismatch';

/** Where a walk of the chain stands; pass it back in to continue with the next batch. */
export interface ChainWalk {
  /** Hash the next link must point at. */
  expectedPrevHash: string;
  checked: number;
}

export type ChainVerdict =
  { ok: true; walk: ChainWalk } | { ok: false; checked: number; firstBrokenSeq: bigint; reason: ChainBreak };

export const startWalk = (): ChainWalk => ({ expectedPrevHash: GENESIS_HASH, checked: 0 });

/**
 * Checks links in seq order, stopping at the first broken one: a row whose stored content no
 * longer hashes to its stored hash (edited), or whose prev_hash is not the previous row's hash
 * (a row removed, inserted or re-hashed before it). Batches can be fed one after another.
 */
export function verifyChain(links: Iterable<ChainLink>, walk: ChainWalk = startWalk()): ChainVerdict {
  let { expectedPrevHash, checked } = walk;
  for (const link of links) {
    checked++;
    if (link.prevHash !== expectedPrevHash)
      return { ok: false, checked, firstBrokenSeq: link.seq, reason: 'prev-hash-mismatch' };
    if (chainHash(link.prevHash, link.record) !== link.hash)
      return { ok: false, checked, firstBrokenSeq: link.seq, reason: 'hash-mismatch' };
    expectedPrevHash = link.hash;
  }
  return { ok: true, walk: { expectedPrevHash, checked } };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
