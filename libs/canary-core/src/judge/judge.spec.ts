import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mannWhitneyU } from './mann-whitney.js';
import { countVerdict, intervalVerdict, judgeMetric, limitReached } from './verdict.js';
import type { MetricModel } from '../spec.js';

const rate: MetricModel = {
  name: 'request-success-rate',
  intervalMs: 60_000,
  intervalText: '1m',
  min: 99,
  templateVariables: {},
};
const latency: MetricModel = {
  name: 'request-duration',
  intervalMs: 60_000,
  intervalText: '1m',
  max: 500,
  templateVariables: {},
  compare: { direction: 'increase', confidence: 0.98, minSamples: 10 },
};

describe('Mann-Whitney U', () => {
  it('matches the textbook value for fully separated samples (scipy asymptotic, continuity: p=0.0061)', () => {
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10], 'decrease');
    assert.equal(r.u, 0);
    assert.ok(Math.abs(r.pValue - 0.0061) < 0.0005, String(r.pValue));
    assert.equal(r.shift, -5);
  });
  it('handles ties: identical samples are no difference at all', () => {
    const r = mannWhitneyU([3, 3, 3, 3], [3, 3, 3, 3], 'either');
    assert.equal(r.pValue, 1);
  });
});

describe('judgeMetric', () => {
  const m = (canary: number | null, extra = {}) => ({ metric: rate.name, query: 'q', canary, ...extra });
  it('absolute thresholds: within is Pass, outside is Fail with the numbers', () => {
    assert.equal(judgeMetric(rate, m(99.5)).verdict, 'Pass');
    const f = judgeMetric(rate, m(80));
    assert.equal(f.verdict, 'Fail');
    assert.equal(f.reason, '80 < 99');
  });
  it('no data is Inconclusive, never Pass; an unreachable provider is Error, not Fail', () => {
    assert.equal(judgeMetric(rate, m(null)).verdict, 'Inconclusive');
    assert.equal(judgeMetric(rate, m(NaN)).verdict, 'Inconclusive');
    const e = judgeMetric(rate, m(null, { error: 'connect ECONNREFUSED 127.0.0.1:9090' }));
    assert.equal(e.verdict, 'Error');
    assert.match(e.reason, /ECONNREFUSED/);
  });
  it('canary vs primary: a slower canary fails with the statistic, a like one passes, too few samples is Inconclusive', () => {
    const primary = [100, 102, 98, 101, 99, 103, 97, 100, 101, 99, 100, 102];
    const slow = primary.map((v) => v + 40);
    const fail = judgeMetric(latency, {
      metric: latency.name,
      query: 'q',
      canary: 140,
      canarySamples: slow,
      primarySamples: primary,
    });
    assert.equal(fail.verdict, 'Fail');
    assert.equal(fail.statistic?.test, 'mann-whitney-u');
    assert.ok(fail.statistic.pValue < 0.02);
    const same = judgeMetric(latency, {
      metric: latency.name,
      query: 'q',
      canary: 100,
      canarySamples: [...primary].reverse(),
      primarySamples: primary,
    });
    assert.equal(same.verdict, 'Pass');
    const few = judgeMetric(latency, {
      metric: latency.name,
      query: 'q',
      canary: 100,
      canarySamples: [1, 2],
      primarySamples: primary,
    });
    assert.equal(few.verdict, 'Inconclusive');
    assert.match(few.reason, /too few samples/);
  });
  it('a faster canary passes a one-sided "increase" comparison', () => {
    const primary = [100, 102, 98, 101, 99, 103, 97, 100, 101, 99, 100, 102];
    const fast = primary.map((v) => v - 40);
    assert.equal(
      judgeMetric(latency, {
        metric: latency.name,
        query: 'q',
        canary: 60,
        canarySamples: fast,
        primarySamples: primary,
      }).verdict,
      'Pass',
    );
  });
});

describe('interval verdict and limits', () => {
  it('a failure decides the interval, then an error, then missing data', () => {
    assert.equal(intervalVerdict(['Pass', 'Inconclusive', 'Error', 'Fail']), 'Fail');
    assert.equal(intervalVerdict(['Pass', 'Inconclusive', 'Error']), 'Error');
    assert.equal(intervalVerdict(['Pass', 'Inconclusive']), 'Inconclusive');
    assert.equal(intervalVerdict([]), 'Pass');
  });
  it('failures and inconclusive results accumulate; errors count only in a row', () => {
    let c = { failedChecks: 0, inconclusiveChecks: 0, consecutiveErrors: 0 };
    for (const v of ['Fail', 'Error', 'Error', 'Pass', 'Error', 'Inconclusive'] as const)
      c = countVerdict(c, v);
    assert.deepEqual(c, { failedChecks: 1, inconclusiveChecks: 1, consecutiveErrors: 0 });
    const limits = { threshold: 5, inconclusiveLimit: 2, consecutiveErrorLimit: 4 };
    assert.equal(
      limitReached({ failedChecks: 5, inconclusiveChecks: 0, consecutiveErrors: 0 }, limits),
      'FailedChecksThreshold',
    );
    assert.equal(
      limitReached({ failedChecks: 1, inconclusiveChecks: 2, consecutiveErrors: 0 }, limits),
      'InconclusiveLimit',
    );
    assert.equal(
      limitReached({ failedChecks: 1, inconclusiveChecks: 1, consecutiveErrors: 4 }, limits),
      'ConsecutiveErrorLimit',
    );
    assert.equal(
      limitReached({ failedChecks: 4, inconclusiveChecks: 1, consecutiveErrors: 3 }, limits),
      undefined,
    );
  });
});
