import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCanary, CanarySpecError } from './spec.js';
import { workshopCanary, workshopCanaryV1alpha3 } from './fixtures/workshop-canary.js';

describe('parseCanary', () => {
  it("reads the workshop's Canary with Flagger's defaults", () => {
    const m = parseCanary(workshopCanary());
    assert.equal(m.group, 'flagger.app');
    assert.equal(m.apex, 'podinfo');
    assert.equal(m.router, 'smi');
    assert.equal(m.metricsFlavour, 'linkerd');
    assert.equal(m.strategy, 'canary');
    assert.equal(m.intervalMs, 10_000);
    assert.deepEqual(m.steps, [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    assert.equal(m.threshold, 5);
    assert.equal(m.progressDeadlineMs, 600_000);
    assert.deepEqual(
      m.metrics.map((x) => [x.name, x.min, x.max, x.intervalText]),
      [
        ['request-success-rate', 99, undefined, '1m'],
        ['request-duration', undefined, 500, '1m'],
      ],
    );
    assert.deepEqual(
      m.webhooks.map((w) => [w.name, w.type, w.timeoutMs]),
      [
        ['acceptance-test', 'pre-rollout', 30_000],
        ['load-test', 'rollout', 10_000],
      ],
    );
  });

  it('reads the v1alpha3 spelling (canaryAnalysis, metric threshold) the slides use', () => {
    const m = parseCanary(workshopCanaryV1alpha3);
    assert.equal(m.maxWeight, 100);
    assert.equal(m.steps.length, 20);
    assert.equal(m.metrics[0]?.min, 99);
    assert.equal(m.metrics[1]?.max, 500);
    assert.equal(m.webhooks[0]?.type, 'rollout');
  });

  it('stepWeights: the last entry is the max; iterations make blue/green, with match A/B', () => {
    const base = workshopCanary();
    const sw = parseCanary({
      ...base,
      spec: { ...base.spec, analysis: { ...base.spec.analysis, stepWeights: [1, 20, 80] } },
    });
    assert.deepEqual(sw.steps, [1, 20, 80]);
    assert.equal(sw.maxWeight, 80);
    const bg = parseCanary({
      ...base,
      spec: { ...base.spec, provider: 'kubernetes', analysis: { interval: '10s', iterations: 3 } },
    });
    assert.equal(bg.strategy, 'blue-green');
    assert.equal(bg.router, 'kubernetes');
    const ab = parseCanary({
      ...base,
      spec: {
        ...base.spec,
        provider: 'gatewayapi:v1',
        analysis: {
          interval: '10s',
          iterations: 3,
          match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
        },
      },
    });
    assert.equal(ab.strategy, 'ab');
    assert.equal(ab.metricsFlavour, 'gatewayapi');
  });

  it('capstan.dev Canaries carry the judge settings', () => {
    const base = workshopCanary();
    const m = parseCanary({
      ...base,
      apiVersion: 'capstan.dev/v1alpha1',
      spec: {
        ...base.spec,
        analysis: {
          ...base.spec.analysis,
          inconclusiveLimit: 2,
          consecutiveErrorLimit: 3,
          metrics: [
            { name: 'request-duration', thresholdRange: { max: 500 }, compare: { direction: 'increase' } },
          ],
        },
      },
    });
    assert.equal(m.group, 'capstan.dev');
    assert.equal(m.inconclusiveLimit, 2);
    assert.equal(m.consecutiveErrorLimit, 3);
    assert.deepEqual(m.metrics[0]?.compare, { direction: 'increase', confidence: 0.98, minSamples: 10 });
  });

  it('bad input names the object and the field', () => {
    const base = workshopCanary();
    assert.throws(
      () =>
        parseCanary({
          ...base,
          spec: { ...base.spec, analysis: { ...base.spec.analysis, interval: 'soon' } },
        }),
      (e: unknown) =>
        e instanceof CanarySpecError && /Canary prod\/podinfo: spec\.analysis\.interval/.test(e.message),
    );
    assert.throws(
      () => parseCanary({ ...base, spec: { ...base.spec, targetRef: undefined } }),
      /spec\.targetRef/,
    );
    assert.throws(
      () =>
        parseCanary({
          ...base,
          spec: { ...base.spec, analysis: { ...base.spec.analysis, metrics: [{ name: 'error-rate' }] } },
        }),
      /spec\.analysis\.metrics\[0\]: metric "error-rate" is not built in/,
    );
  });
});
