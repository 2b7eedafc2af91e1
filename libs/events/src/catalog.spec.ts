import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  COMMIT_OBSERVED_V1,
  DEPLOY_DECISION_RECORDED_V1,
  EventValidationError,
  decodeEvent,
  encodeEvent,
  parseEvent,
  registerUpcaster,
  topology,
} from './index.js';

const sig = { name: 'Ada', email: 'ada@example.com', time: '2026-11-22T10:00:00Z' };
const commit = {
  specversion: '1.0',
  id: 'commit:flux-system/app@' + 'a'.repeat(40),
  source: '/capstan/git-watcher',
  type: COMMIT_OBSERVED_V1,
  subject: 'flux-system/app',
  time: '2026-11-22T10:00:01Z',
  datacontenttype: 'application/json',
  data: {
    repository: { namespace: 'flux-system', name: 'app', url: 'file:///tmp/app.git' },
    ref: 'branch/main',
    revision: 'main@sha1:' + 'a'.repeat(40),
    sha: 'a'.repeat(40),
    parents: [],
    author: sig,
    committer: sig,
    message: 'first',
    observedAt: '2026-11-22T10:00:01Z',
  },
} as const;

describe('event catalog', () => {
  it('round-trips a commit-observed event through the wire encoding', () => {
    const event = parseEvent(commit);
    assert.deepEqual(decodeEvent(encodeEvent(event)), event);
  });

  it('names the offending field when data is malformed', () => {
    const bad = { ...commit, data: { ...commit.data, sha: 'nope' } };
    assert.throws(
      () => parseEvent(bad),
      (e: unknown) => e instanceof EventValidationError && /data\.sha/.test(e.message),
    );
  });

  it('rejects unknown types and non-JSON bytes with a typed error', () => {
    assert.throws(() => parseEvent({ ...commit, type: 'dev.capstan.unknown.v9' }), EventValidationError);
    assert.throws(() => decodeEvent(new TextEncoder().encode('{oops')), /not JSON/);
  });

  it('upcasts an older version before validating', () => {
    // A hypothetical v0 that called the message `subjectLine`.
    registerUpcaster('dev.capstan.git.commit.observed.v0', (raw) => {
      const data = raw.data as Record<string, unknown>;
      const { subjectLine, ...rest } = data;
      return { ...raw, type: COMMIT_OBSERVED_V1, data: { ...rest, message: subjectLine } };
    });
    const { message: _m, ...v0data } = commit.data;
    const event = parseEvent({
      ...commit,
      type: 'dev.capstan.git.commit.observed.v0',
      data: { ...v0data, subjectLine: 'old' },
    });
    assert.ok(event.type === COMMIT_OBSERVED_V1);
    assert.equal(event.data.message, 'old');
  });

  it('fills decision defaults so consumers never see missing arrays', () => {
    const event = parseEvent({
      ...commit,
      id: 'd1',
      type: DEPLOY_DECISION_RECORDED_V1,
      data: {
        action: 'applied',
        outcome: 'succeeded',
        reason: 'ReconciliationSucceeded',
        message: 'ok',
        decidedBy: { kind: 'Sync', namespace: 'default', name: 'app' },
        cluster: 'local',
        actor: { kind: 'person', name: 'Ada', email: 'ada@example.com', evidence: 'commit-author' },
        decidedAt: '2026-11-22T10:00:02Z',
      },
    });
    assert.ok(event.type === DEPLOY_DECISION_RECORDED_V1);
    assert.deepEqual(event.data.changeSet, []);
    assert.deepEqual(event.data.targets, []);
  });
});

describe('topology', () => {
  it('derives isolated stream names and keyed subjects from the prefix', () => {
    const t = topology('t-42');
    assert.equal(t.streams.events.name, 'T_42_EVENTS');
    const event = parseEvent(commit);
    assert.equal(t.subjectFor(event), 't-42.git.commit.flux-system.app');
    assert.ok(t.streams.events.subjects.includes('t-42.git.>'));
    assert.equal(t.deadLetterSubject('audit.v1'), 't-42.dlq.audit_v1');
  });

  it('refuses a prefix NATS cannot carry', () => {
    assert.throws(() => topology('Bad.Prefix'), /prefix/);
  });
});
