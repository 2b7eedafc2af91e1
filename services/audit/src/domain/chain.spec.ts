import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decisionEvent, deployment } from '../testing/decision-events.js';
import {
  canonicalJson,
  chainContent,
  chainHash,
  GENESIS_HASH,
  verifyChain,
  type ChainLink,
} from './chain.js';
import type { DecisionRecord } from './decision-record.js';
import { toDecisionRecord } from './to-decision-record.js';

const recordAt = (n: number): DecisionRecord =>
  toDecisionRecord(
    decisionEvent({ id: `e${n}`, commit: n, changeSet: [{ ...deployment('web'), action: 'configured' }] }),
    {
      id: `01936f00-0000-7000-8000-${String(n).padStart(12, '0')}`,
      recordedAt: new Date(Date.UTC(2026, 10, 22, 10, 0, n)),
    },
  );

/** A valid chain of n links, as the repository would build it. */
function chainOf(n: number): ChainLink[] {
  const links: ChainLink[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const record = recordAt(i);
    const hash = chainHash(prev, record);
    links.push({ seq: BigInt(i), prevHash: prev, hash, record });
    prev = hash;
  }
  return links;
}

void describe('canonicalJson', () => {
  void it('is independent of key order, at every depth', () => {
    const a = { b: 1, a: { y: [1, { q: true, p: null }], x: 'é' } };
    const b = { a: { x: 'é', y: [1, { p: null, q: true }] }, b: 1 };
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.equal(canonicalJson(a), '{"a":{"x":"é","y":[1,{"p":null,"q":true}]},"b":1}');
  });

  void it('keeps array order, which is meaningful', () => {
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
  });

  void it('writes what a jsonb round trip gives back: undefined members dropped, dates as ISO strings', () => {
    const value = { a: undefined, d: new Date('2026-11-22T10:00:00.000Z'), n: [undefined, 1.5] };
    assert.equal(canonicalJson(value), '{"d":"2026-11-22T10:00:00.000Z","n":[null,1.5]}');
    assert.equal(canonicalJson(JSON.parse(JSON.stringify(value))), canonicalJson(value));
  });

  void it('refuses values JSON cannot carry', () => {
    assert.throws(() => canonicalJson({ big: 1n }), /big/);
  });
});

void describe('chainHash', () => {
  void it('commits to the previous hash and to every field, including targets', () => {
    const r = recordAt(1);
    const h = chainHash(GENESIS_HASH, r);
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(chainHash(GENESIS_HASH, structuredClone(r)), h);
    assert.notEqual(chainHash('1'.repeat(64), r), h);
    assert.notEqual(chainHash(GENESIS_HASH, { ...r, message: r.message + '.' }), h);
    assert.notEqual(chainHash(GENESIS_HASH, { ...r, targets: [{ ...r.targets[0]!, action: 'deleted' }] }), h);
    assert.notEqual(chainHash(GENESIS_HASH, { ...r, time: new Date(r.time.getTime() + 1) }), h);
  });

  void it('does not depend on the order targets are listed in, nor on extra row fields like seq', () => {
    const r = {
      ...recordAt(1),
      targets: [deployment('a'), deployment('b')].map((t) => ({ ...t, action: null })),
    };
    const reversed = { ...r, targets: [...r.targets].reverse() };
    assert.equal(chainContent(r), chainContent(reversed));
    const row = { ...r, seq: 7n, prevHash: GENESIS_HASH, hash: 'x' };
    assert.equal(chainHash(GENESIS_HASH, row), chainHash(GENESIS_HASH, r));
  });
});

void describe('verifyChain', () => {
  void it('accepts an intact chain and counts its links', () => {
    const verdict = verifyChain(chainOf(5));
    assert.ok(verdict.ok);
    assert.equal(verdict.walk.checked, 5);
    assert.ok(verifyChain([]).ok);
  });

  void it('names the first edited row', () => {
    const links = chainOf(5);
    links[2] = { ...links[2]!, record: { ...links[2]!.record, message: 'rewritten' } };
    assert.deepEqual(verifyChain(links), {
      ok: false,
      checked: 3,
      firstBrokenSeq: 3n,
      reason: 'hash-mismatch',
    });
  });

  void it('names the row after a removed one, and a row re-hashed to hide an edit', () => {
    const links = chainOf(5);
    assert.deepEqual(verifyChain([...links.slice(0, 2), ...links.slice(3)]), {
      ok: false,
      checked: 3,
      firstBrokenSeq: 4n,
      reason: 'prev-hash-mismatch',
    });
    const edited = { ...links[1]!.record, outcome: 'failed' };
    const rehashed = [...links];
    rehashed[1] = { ...links[1]!, record: edited, hash: chainHash(links[1]!.prevHash, edited) };
    assert.deepEqual(verifyChain(rehashed), {
      ok: false,
      checked: 3,
      firstBrokenSeq: 3n,
      reason: 'prev-hash-mismatch',
    });
  });

  void it('gives the same verdict when fed in batches', () => {
    const links = chainOf(7);
    links[5] = { ...links[5]!, hash: 'f'.repeat(64) };
    const first = verifyChain(links.slice(0, 3));
    assert.ok(first.ok);
    assert.deepEqual(verifyChain(links.slice(3), first.walk), verifyChain(links));
  });
});
