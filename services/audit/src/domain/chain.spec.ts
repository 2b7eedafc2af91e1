import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decisionEvent, deployment } from '../testing/decision-events.js';
import { canonicalJson } from './canonical-json.js';
import {
  CHAIN_FORMAT_VERSION,
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

/** What chainContent must write: canonicalJson of the record's members, targets in a fixed order. */
const chainContentReference = (r: DecisionRecord): string =>
  canonicalJson({
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
    targets: [...r.targets].sort((a, b) => {
      const key = (t: typeof a) => [t.apiVersion, t.kind, t.namespace, t.name].join('\u0000');
      return key(a) < key(b) ? -1 : 1;
    }),
    changeSet: r.changeSet,
    evidence: r.evidence,
    correlationId: r.correlationId,
    traceparent: r.traceparent,
  });

/** Records of every shape the log holds: with and without source, image, email, targets. */
const full: DecisionRecord = {
  id: '01936f00-0000-7000-8000-000000000007',
  eventId: 'golden',
  eventSource: '/capstan/reconciler',
  time: new Date('2026-11-22T10:00:00.000Z'),
  recordedAt: new Date('2026-11-22T10:00:07.123Z'),
  action: 'applied',
  outcome: 'succeeded',
  reason: 'ReconciliationSucceeded',
  message: 'applied main@sha1:0000000000000000000000000000000000000007',
  actor: { kind: 'person', name: 'Grace Hopper', email: 'Grace@Example.com', evidence: 'commit-author' },
  actors: [{ kind: 'person', name: 'Grace Hopper', email: 'Grace@Example.com', evidence: 'commit-author' }],
  source: {
    repository: 'flux-system/shop',
    url: 'https://git.example.com/shop.git',
    ref: 'branch/main',
    revision: 'main@sha1:0000000000000000000000000000000000000007',
    sha: '0000000000000000000000000000000000000007',
    commitMessage: 'change 7',
    parents: ['0000000000000000000000000000000000000006'],
    author: { name: 'Grace Hopper', email: 'Grace@Example.com' },
    committer: { name: 'Grace Hopper', email: 'Grace@Example.com' },
  },
  image: null,
  cluster: 'local',
  decidedBy: { kind: 'Sync', namespace: 'flux-system', name: 'shop' },
  targets: [
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      namespace: '',
      name: 'view',
      action: null,
    },
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web', action: 'configured' },
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'api', action: 'created' },
  ],
  changeSet: [
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'api', action: 'created' },
    { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web', action: 'configured' },
  ],
  evidence: { diff: { changed: 2, Zé: [1, null, 'x'] }, apiKey: `sha256:${'b'.repeat(64)}` },
  correlationId: 'corr-golden',
  traceparent: null,
};
const bare: DecisionRecord = {
  ...full,
  id: '01936f00-0000-7000-8000-000000000008',
  eventId: 'golden-2',
  source: null,
  targets: [],
  changeSet: [],
  evidence: {},
};
const image: DecisionRecord = {
  ...bare,
  image: { repository: 'ghcr.io/acme/web', tag: '1.2.3', digest: `sha256:${'a'.repeat(64)}` },
  actor: { kind: 'automation', name: 'registry-watcher', email: null, evidence: 'image-policy' },
  actors: [],
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  correlationId: null,
};
const golden = [
  // Hashes written by the chain's first implementation (a generic canonical JSON walk over the
  // whole record): rows already in a log must keep verifying.
  { record: full, hash: 'a7f27c9ec92c9bcbf27a902ddbceb2868905ecd132b39239a43b1762eba88fa5' },
  { record: bare, hash: 'b60907d4742ba0fffce6102f1e8b17cfaefb1687238862ba8368d3d82af181a5' },
  { record: image, hash: '70dc1b6b76c4796f135ff802103d9c8f40b1d795af71e0969eb2934042802670' },
];

void describe('chainContent', () => {
  void it('hashes records exactly as the chain always has', () => {
    for (const { record, hash } of golden)
      assert.equal(chainHash(GENESIS_HASH, record), hash, record.eventId);
  });

  void it('is the canonical JSON of the record, whatever its members hold', () => {
    const odd: DecisionRecord = {
      ...golden[0]!.record,
      message: 'quote " backslash \\ newline \n tab \t \u2028 émoji 🚀',
      reason: '',
      actors: [{ kind: 'person', 'z-key': 1, 'A-key': [true, { y: null, x: -0.5 }] }],
      evidence: { '': 'empty key', nested: { b: [{ d: 1, c: 2 }], a: {} }, n: 1e21 },
      changeSet: [],
      targets: [
        { apiVersion: 'v1', kind: 'Secret', namespace: 'b', name: 'x', action: 'deleted' },
        { apiVersion: 'v1', kind: 'Secret', namespace: 'a', name: 'x', action: null },
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'a', name: 'x', action: 'created' },
      ],
    };
    for (const record of [...golden.map((g) => g.record), odd, recordAt(3)])
      assert.equal(chainContent(record), chainContentReference(record));
  });

  void it('leaves out members that are undefined, as a canonical walk of the record would', () => {
    const record = { ...recordAt(1), traceparent: undefined } as unknown as DecisionRecord;
    assert.equal(chainContent(record), chainContentReference(record));
    assert.doesNotMatch(chainContent(record), /traceparent/);
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
