import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseEvent } from './catalog.js';
import { METRIC_SAMPLED_V2, METRIC_SAMPLE_TAKEN_V1 } from './canary.js';
import { topology } from './topology.js';

describe('canary events', () => {
  it('an old metric.sampled.v1 is read as v2 (value becomes the canary value, no provider error)', () => {
    const e = parseEvent({
      specversion: '1.0',
      id: 's1',
      source: '/capstan/canary-analyzer',
      type: METRIC_SAMPLE_TAKEN_V1,
      subject: 'Canary/prod/podinfo',
      time: '2026-12-04T10:00:00Z',
      datacontenttype: 'application/json',
      data: {
        canary: { kind: 'Canary', namespace: 'prod', name: 'podinfo' },
        metric: 'request-success-rate',
        value: 99.5,
        thresholdRange: { min: 99 },
        step: 2,
        canaryWeight: 10,
        sampledAt: '2026-12-04T10:00:00Z',
      },
    });
    assert.equal(e.type, METRIC_SAMPLED_V2);
    assert.equal(e.data.canaryValue, 99.5);
    assert.equal(e.data.error, undefined);
    assert.equal(topology('t').subjectFor(e), 't.canary.sample.prod.podinfo');
  });

  it("a rollout event goes to its Canary's own subject", () => {
    assert.equal(topology('t').rolloutSubject('prod', 'pod.info'), 't.canary.rollout.prod.pod_info');
  });
});
