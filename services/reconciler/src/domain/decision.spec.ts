import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvent } from '@capstan/events';
import { decisionFor, type DecisionContext } from './decision.js';

const sha = 'd'.repeat(40);
const ctx: DecisionContext = {
  sync: { namespace: 'apps', name: 'site', uid: 'u-1' },
  triggerId: `commit:apps/site@${sha}`,
  source: {
    repository: 'apps/site',
    url: 'file:///srv/site.git',
    ref: 'branch/main',
    revision: `main@sha1:${sha}`,
    sha,
    parents: [],
    message: 'scale web to 3',
    author: { name: 'Ada', email: 'ada@example.com', time: '2026-11-22T09:00:00.000Z' },
    committer: { name: 'github-actions[bot]', email: 'bot@example.com', time: '2026-11-22T09:00:00.000Z' },
  },
  cluster: 'local',
  now: new Date('2026-11-22T10:00:00Z'),
  correlationId: 'c-1',
};

describe('decisionFor', () => {
  it('credits the author, records the committer as a bot, and lists the change set as targets', () => {
    const event = decisionFor(ctx, {
      kind: 'applied',
      changeSet: [
        { apiVersion: 'v1', kind: 'Namespace', namespace: '', name: 'apps', action: 'unchanged' },
        { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'apps', name: 'web', action: 'configured' },
      ],
    });
    assert.deepEqual(parseEvent(event), event);
    assert.equal(event.data.action, 'applied');
    assert.equal(event.data.outcome, 'succeeded');
    assert.deepEqual(
      [event.data.actor.name, event.data.actor.kind, event.data.actor.evidence],
      ['Ada', 'person', 'commit-author'],
    );
    assert.deepEqual(
      event.data.actors.map((a) => a.kind),
      ['person', 'bot'],
    );
    assert.deepEqual(
      event.data.targets.map((t) => t.name),
      ['apps', 'web'],
    );
    assert.match(event.data.message, /1 unchanged, 1 configured/);
  });

  it('gives the same trigger the same id, and a failure its own id and evidence', () => {
    const ok = decisionFor(ctx, { kind: 'applied', changeSet: [] });
    assert.equal(decisionFor(ctx, { kind: 'applied', changeSet: [] }).id, ok.id);
    assert.equal(ok.data.outcome, 'noop');
    const failed = decisionFor(ctx, {
      kind: 'failed',
      reason: 'BuildFailed',
      message: 'apps/bad.yaml (document 2): invalid YAML',
      failures: [{ file: 'apps/bad.yaml', document: 1, message: 'invalid YAML' }],
    });
    assert.notEqual(failed.id, ok.id);
    assert.equal(failed.data.reason, 'BuildFailed');
    assert.deepEqual(failed.data.evidence, {
      failures: [{ file: 'apps/bad.yaml', document: 1, message: 'invalid YAML' }],
    });
  });
});

describe('prunedDecisionFor', () => {
  it('is one decision listing every deleted object, with its own id', async () => {
    const { prunedDecisionFor } = await import('./decision.js');
    const deleted = [
      { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'apps', name: 'old', action: 'deleted' as const },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        namespace: 'apps',
        name: 'legacy',
        action: 'deleted' as const,
      },
    ];
    const event = prunedDecisionFor(ctx, deleted);
    assert.deepEqual(parseEvent(event), event);
    assert.equal(event.data.action, 'pruned');
    assert.deepEqual(
      event.data.targets.map((t) => t.name),
      ['old', 'legacy'],
    );
    assert.notEqual(event.id, decisionFor(ctx, { kind: 'applied', changeSet: [] }).id);
    assert.match(event.data.message, /apps\/ConfigMap\/old, apps\/Deployment\/legacy/);
  });
});

describe('decisionFor, attribution', () => {
  it('says in message and evidence when attribution walked only the newest commits, naming what it left unattributed', () => {
    const web = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'apps',
      name: 'web',
      action: 'configured' as const,
    };
    const event = decisionFor(
      { ...ctx, attributionWindow: { commits: 130, walked: 100, beyond: [web] } },
      { kind: 'applied', changeSet: [web] },
    );
    assert.match(
      event.data.message,
      /attribution walked the newest 100 of 130 commits; not attributed: apps\/Deployment\/web/,
    );
    assert.deepEqual(event.data.evidence['attribution'], {
      commits: 130,
      walked: 100,
      unattributed: ['apps/Deployment/web'],
    });
  });

  it('credits the verified signer of an earlier commit it names', () => {
    const event = decisionFor(
      { ...ctx, signer: 'Grace <grace@example.com>', appliedWith: `main@sha1:${'e'.repeat(40)}` },
      { kind: 'applied', changeSet: [] },
    );
    assert.deepEqual(
      event.data.actors.map((a) => a.evidence),
      ['commit-author', 'committer', 'verified-signer'],
    );
  });
});
