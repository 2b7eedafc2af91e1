import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { DecisionEntry } from '../audit-client.js';
import { renderCanaryGet, renderCanaryTimeline, renderProgress } from './canary-timeline.js';

const decision = (seq: number, over: Partial<DecisionEntry>): DecisionEntry => ({
  seq,
  time: `2026-12-04T10:00:${String(seq).padStart(2, '0')}Z`,
  action: 'canary.advanced',
  outcome: 'succeeded',
  reason: 'WeightIncreased',
  message: '',
  actor: { kind: 'capstan', name: 'canary-analyzer' },
  source: null,
  decidedBy: { kind: 'Canary', namespace: 'prod', name: 'podinfo' },
  targets: [],
  correlationId: null,
  ...over,
});

describe('canary CLI rendering', () => {
  it('get: phase, weight, checks, verdict and the message', () => {
    const text = renderCanaryGet('prod', 'podinfo', {
      phase: 'Progressing',
      canaryWeight: 15,
      failedChecks: 1,
      inconclusiveChecks: 0,
      lastVerdict: 'Pass',
      conditions: [{ type: 'Promoted', status: 'Unknown', message: 'Advance canary weight 15' }],
    });
    assert.match(text, /^NAMESPACE\s+NAME\s+PHASE\s+WEIGHT\s+FAILED/);
    assert.match(text, /prod\s+podinfo\s+Progressing\s+15%\s+1\s+0\s+Pass\s+Advance canary weight 15/);
  });

  it('watch: a progress bar for the weight', () => {
    assert.equal(
      renderProgress({ phase: 'Progressing', canaryWeight: 50, failedChecks: 0 }, 10),
      'Progressing      [#####.....]  50%  failed 0  verdict -',
    );
  });

  it('explain: each step with weights, metric values against thresholds, webhooks and the person', () => {
    const text = renderCanaryTimeline('prod', 'podinfo', [
      decision(2, {
        action: 'canary.check-failed',
        outcome: 'failed',
        reason: 'CheckFail',
        message: 'Fail at weight 5',
        evidence: {
          weight: { before: 5, after: 5 },
          check: {
            verdict: 'Fail',
            metrics: [
              {
                metric: 'request-success-rate',
                canary: 62.5,
                threshold: { min: 99 },
                verdict: 'Fail',
                reason: '62.5 < 99',
              },
            ],
            webhooks: [{ name: 'load-test', status: 202, ok: true, message: 'command started' }],
          },
        },
      }),
      decision(1, { message: 'Advance canary weight 0 -> 5', evidence: { weight: { before: 0, after: 5 } } }),
      decision(3, {
        action: 'canary.aborted',
        reason: 'Aborted',
        message: 'Rollout aborted by alice',
        actor: { kind: 'person', name: 'alice' },
      }),
    ]);
    const lines = text.split('\n');
    assert.equal(lines[0], 'Canary prod/podinfo');
    assert.match(lines[1] ?? '', /canary\.advanced\s+WeightIncreased 0% -> 5%/);
    assert.match(text, /Fail\s+request-success-rate 62\.5 >= 99 \(62\.5 < 99\)/);
    assert.match(text, /ok\s+webhook load-test 202 command started/);
    assert.match(text, /canary\.aborted\s+Aborted by alice/);
    assert.equal(renderCanaryTimeline('prod', 'x', []), 'No decision about Canary prod/x is recorded.');
  });
});
