import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CDEVENT_SERVICE_DEPLOYED,
  CDEVENT_SERVICE_REMOVED,
  CDEVENT_SERVICE_ROLLEDBACK,
  CDEVENT_SERVICE_UPGRADED,
  DEPLOY_DECISION_RECORDED_V1,
  cdeventId,
  decisionFactsOf,
  parseEvent,
  toCDEvent,
  topology,
  type DeployDecisionRecordedV1,
} from './index.js';

const sha = 'b'.repeat(40);
const sig = { name: 'Ada', email: 'ada@example.com', time: '2026-11-22T10:00:00Z' };
const web = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' };

/** A decision event fixture, parsed as a consumer receives it. */
function decision(data: Record<string, unknown>, id = 'decision-1'): DeployDecisionRecordedV1 {
  const event = parseEvent({
    specversion: '1.0',
    id,
    source: '/capstan/reconciler',
    type: DEPLOY_DECISION_RECORDED_V1,
    subject: 'flux-system/shop',
    time: '2026-11-22T10:00:05Z',
    datacontenttype: 'application/json',
    correlationid: 'corr-1',
    data: {
      outcome: 'succeeded',
      reason: 'ReconciliationSucceeded',
      message: 'ok',
      decidedBy: { kind: 'Sync', namespace: 'flux-system', name: 'shop' },
      cluster: 'prod-eu',
      actor: { kind: 'person', name: 'Ada', email: 'ada@example.com', evidence: 'commit-author' },
      source: {
        repository: 'flux-system/shop',
        url: 'https://git.example.com/shop.git',
        ref: 'branch/main',
        revision: `main@sha1:${sha}`,
        sha,
        parents: [],
        message: 'ship it',
        author: sig,
        committer: sig,
      },
      decidedAt: '2026-11-22T10:00:05Z',
      ...data,
    },
  });
  if (event.type !== DEPLOY_DECISION_RECORDED_V1) throw new Error('fixture is not a decision');
  return event;
}

const typeOf = (data: Record<string, unknown>) =>
  toCDEvent(decisionFactsOf(decision(data)))?.context.type ?? null;

void describe('CDEvents mapping', () => {
  void it('maps a first install to service.deployed with the full envelope', () => {
    const event = toCDEvent(
      decisionFactsOf(decision({ action: 'applied', changeSet: [{ ...web, action: 'created' }] })),
    );
    assert.deepEqual(event, {
      context: {
        version: '0.4.1',
        id: cdeventId('decision-1'),
        source: '/capstan/prod-eu',
        type: CDEVENT_SERVICE_DEPLOYED,
        timestamp: '2026-11-22T10:00:05Z',
        chainId: 'corr-1',
      },
      subject: {
        id: 'flux-system/shop',
        source: '/capstan/prod-eu/Sync',
        type: 'service',
        content: {
          environment: { id: 'prod-eu', source: '/capstan/prod-eu' },
          artifactId: `pkg:generic/flux-system/shop@${sha}?vcs_url=${encodeURIComponent(`git+https://git.example.com/shop.git@${sha}`)}`,
        },
      },
      customData: {
        capstan: {
          decisionId: 'decision-1',
          action: 'applied',
          revision: `main@sha1:${sha}`,
          decidedBy: { kind: 'Sync', namespace: 'flux-system', name: 'shop' },
        },
      },
      customDataContentType: 'application/json',
    });
  });

  void it('maps an apply to an object that existed to service.upgraded', () => {
    assert.equal(
      typeOf({
        action: 'applied',
        changeSet: [
          { ...web, action: 'configured' },
          { ...web, name: 'db', action: 'created' },
        ],
      }),
      CDEVENT_SERVICE_UPGRADED,
    );
    assert.equal(
      typeOf({ action: 'applied', changeSet: [{ ...web, action: 'deleted' }] }),
      CDEVENT_SERVICE_UPGRADED,
    );
  });

  void it('maps prune, rollback and promotion', () => {
    assert.equal(
      typeOf({ action: 'pruned', changeSet: [{ ...web, action: 'deleted' }] }),
      CDEVENT_SERVICE_REMOVED,
    );
    assert.equal(typeOf({ action: 'canary.rolled-back' }), CDEVENT_SERVICE_ROLLEDBACK);
    assert.equal(typeOf({ action: 'canary.promoted' }), CDEVENT_SERVICE_UPGRADED);
  });

  void it('has no CDEvent for applies that changed nothing, failures, drift and canary steps', () => {
    assert.equal(typeOf({ action: 'applied', changeSet: [{ ...web, action: 'unchanged' }] }), null);
    assert.equal(
      typeOf({ action: 'applied', outcome: 'noop', changeSet: [{ ...web, action: 'created' }] }),
      null,
    );
    assert.equal(
      typeOf({ action: 'applied', outcome: 'failed', changeSet: [{ ...web, action: 'failed' }] }),
      null,
    );
    for (const action of [
      'failed',
      'skipped',
      'drift.detected',
      'drift.corrected',
      'image.updated',
      'canary.started',
    ])
      assert.equal(typeOf({ action }), null, action);
  });

  void it('names the image as an OCI purl when the decision has one; a removal names no artifact', () => {
    const image = { repository: 'ghcr.io/acme/web', tag: '1.2.3', digest: 'sha256:abc' };
    const rolledBack = toCDEvent(decisionFactsOf(decision({ action: 'canary.rolled-back', image })));
    assert.equal(
      rolledBack?.subject.content.artifactId,
      'pkg:oci/web@sha256%3Aabc?repository_url=ghcr.io%2Facme%2Fweb&tag=1.2.3',
    );
    const removed = toCDEvent(decisionFactsOf(decision({ action: 'pruned', image })));
    assert.equal(removed?.subject.content.artifactId, undefined);
  });

  void it('gives the same id for the same decision, another for another', () => {
    const a = toCDEvent(decisionFactsOf(decision({ action: 'pruned' }, 'x')));
    const b = toCDEvent(decisionFactsOf(decision({ action: 'pruned' }, 'x')));
    const c = toCDEvent(decisionFactsOf(decision({ action: 'pruned' }, 'y')));
    assert.equal(a?.context.id, b?.context.id);
    assert.notEqual(a?.context.id, c?.context.id);
  });

  void it('publishes on <prefix>.cdevents.<type>, inside the events stream', () => {
    const t = topology('t-7');
    assert.equal(
      t.cdeventSubject(CDEVENT_SERVICE_DEPLOYED),
      't-7.cdevents.dev.cdevents.service.deployed.0.2.0',
    );
    assert.ok(t.streams.events.subjects.includes(t.cdeventsFilter));
  });
});
