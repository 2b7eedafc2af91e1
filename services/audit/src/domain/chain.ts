import { createHash } from 'node:crypto';
import type { DecisionRecord, DecisionTargetRecord } from './decision-record.js';

/** prev_hash of the first decision. */
export const GENESIS_HASH = '0'.repeat(64);

/** Bump when the hashed content changes shape; old rows keep verifying under their version. */
export const CHAIN_FORMAT_VERSION = 1;

export class CanonicalJsonError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot canonicalize ${path || 'value'}: ${reason}`);
    this.name = 'CanonicalJsonError';
  }
}

/**
 * Deterministic JSON in the spirit of RFC 8785 (JCS): object keys sorted by UTF-16 code units,
 * no whitespace, primitives as JSON.stringify writes them. `undefined` members are dropped and
 * non-finite numbers become null, as JSON.stringify does, because that is also what reaches jsonb:
 * the value that comes back from the database must canonicalize to the same string.
 */
export function canonicalJson(value: unknown, path = ''): string {
  // The path is only needed for an error: keep the keys on a stack and build it then, instead of
  // concatenating a string per member (this runs for every decision ingested and verified).
  const stack: (string | number)[] = [];
  const fail = (reason: string): never => {
    const suffix = stack
      .map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 && !path ? k : `.${k}`))
      .join('');
    throw new CanonicalJsonError(path + suffix, reason);
  };
  const write = (v: unknown): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
      case 'boolean':
        return JSON.stringify(v);
      case 'number':
        return Number.isFinite(v) ? JSON.stringify(v) : 'null';
      case 'object': {
        if (v instanceof Date) return JSON.stringify(v.toISOString());
        if (Array.isArray(v)) {
          let out = '[';
          for (let i = 0; i < v.length; i++) {
            const item: unknown = v[i];
            stack.push(i);
            out +=
              (i > 0 ? ',' : '') + (item === undefined || typeof item === 'function' ? 'null' : write(item));
            stack.pop();
          }
          return `${out}]`;
        }
        const record = v as Record<string, unknown>;
        // Default sort: by UTF-16 code units, as JCS asks.
        const keys = Object.keys(record).sort();
        let out = '{';
        let first = true;
        for (const k of keys) {
          const member = record[k];
          if (member === undefined || typeof member === 'function') continue;
          stack.push(k);
          out += `${first ? '' : ','}${JSON.stringify(k)}:${write(member)}`;
          stack.pop();
          first = false;
        }
        return `${out}}`;
      }
      case 'bigint':
      case 'symbol':
      case 'function':
      case 'undefined':
        return fail(`${typeof v} is not JSON`);
    }
    // typeof has no other results; TypeScript just cannot see that the switch is exhaustive.
    return fail('unknown type');
  };
  return write(value);
}

const targetOrder = (a: DecisionTargetRecord, b: DecisionTargetRecord) =>
  compare(a.apiVersion, b.apiVersion) ||
  compare(a.kind, b.kind) ||
  compare(a.namespace, b.namespace) ||
  compare(a.name, b.name);

/**
 * What a link's hash covers: the whole record, targets included (so decision_targets is
 * protected too), in an order-independent form. `seq` is left out: it is the chain position,
 * already bound by each row's prev_hash.
 */
export function chainContent(r: DecisionRecord): string {
  // Fields listed one by one: a chained row handed in (with seq, hash...) must hash like its record.
  return canonicalJson({
    v: CHAIN_FORMAT_VERSION,
    id: r.id,
    eventId: r.eventId,
    eventSource: r.eventSource,
    time: r.time,
    recordedAt: r.recordedAt,
    action: r.action,
    outcome: r.outcome,
    reason: r.reason,
    message: r.message,
    actor: r.actor,
    actors: r.actors,
    source: r.source,
    image: r.image,
    cluster: r.cluster,
    decidedBy: r.decidedBy,
    targets: [...r.targets].sort(targetOrder),
    changeSet: r.changeSet,
    evidence: r.evidence,
    correlationId: r.correlationId,
    traceparent: r.traceparent,
  });
}

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
