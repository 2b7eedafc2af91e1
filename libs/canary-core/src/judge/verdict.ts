import { mannWhitneyU, type Direction } from './mann-whitney.js';
import type { MetricModel } from '../spec.js';

/** One interval's judgement, Argo Rollouts' four outcomes. */
export type Verdict = 'Pass' | 'Inconclusive' | 'Fail' | 'Error';

/** What the sampler measured for one metric in one interval. */
export interface Measurement {
  metric: string;
  query: string;
  /** The canary's value (absolute threshold); null = the query returned no data. */
  canary: number | null;
  /** The same query against `<target>-primary`, when one was run. */
  primary?: number | null;
  /** Series over the metric's interval, for the canary-vs-primary comparison. */
  canarySamples?: number[];
  primarySamples?: number[];
  /** Set when the metrics provider could not answer (unreachable, bad query, 5xx). */
  error?: string;
}

// A type alias (not an interface) so it is a plain record for the event schema.
export type ComparisonStatistic = {
  test: 'mann-whitney-u';
  direction: Direction;
  confidence: number;
  u: number;
  z: number;
  pValue: number;
  shift: number;
  canaryCount: number;
  primaryCount: number;
};

export interface MetricJudgement {
  metric: string;
  query: string;
  verdict: Verdict;
  /** Why, in words a person reads in the audit log. */
  reason: string;
  canary: number | null;
  primary?: number | null;
  threshold: { min?: number; max?: number };
  statistic?: ComparisonStatistic;
  error?: string;
}

export function judgeMetric(model: MetricModel, m: Measurement): MetricJudgement {
  const threshold = {
    ...(model.min !== undefined ? { min: model.min } : {}),
    ...(model.max !== undefined ? { max: model.max } : {}),
  };
  const base = {
    metric: model.name,
    query: m.query,
    canary: m.canary,
    ...(m.primary !== undefined ? { primary: m.primary } : {}),
    threshold,
  };
  if (m.error !== undefined)
    return { ...base, verdict: 'Error', reason: `metrics provider error: ${m.error}`, error: m.error };
  if (m.canary === null || Number.isNaN(m.canary))
    return { ...base, verdict: 'Inconclusive', reason: 'no values found (no traffic to the canary?)' };
  if (model.min !== undefined && m.canary < model.min)
    return { ...base, verdict: 'Fail', reason: `${fmt(m.canary)} < ${fmt(model.min)}` };
  if (model.max !== undefined && m.canary > model.max)
    return { ...base, verdict: 'Fail', reason: `${fmt(m.canary)} > ${fmt(model.max)}` };
  if (!model.compare)
    return { ...base, verdict: 'Pass', reason: `${fmt(m.canary)} within ${rangeText(threshold)}` };
  return compare(model.compare, base, m);
}

function compare(
  c: NonNullable<MetricModel['compare']>,
  base: Omit<MetricJudgement, 'verdict' | 'reason'>,
  m: Measurement,
): MetricJudgement {
  const canary = (m.canarySamples ?? []).filter((v) => Number.isFinite(v));
  const primary = (m.primarySamples ?? []).filter((v) => Number.isFinite(v));
  if (canary.length < c.minSamples || primary.length < c.minSamples)
    return {
      ...base,
      verdict: 'Inconclusive',
      reason: `too few samples to compare with the primary (canary ${canary.length}, primary ${primary.length}, need ${c.minSamples})`,
    };
  const r = mannWhitneyU(canary, primary, c.direction);
  const statistic: ComparisonStatistic = {
    test: 'mann-whitney-u',
    direction: c.direction,
    confidence: c.confidence,
    u: r.u,
    z: round(r.z),
    pValue: round(r.pValue),
    shift: round(r.shift),
    canaryCount: canary.length,
    primaryCount: primary.length,
  };
  const significant = r.pValue < 1 - c.confidence;
  const worse =
    c.direction === 'either'
      ? 'differs from'
      : c.direction === 'increase'
        ? 'is higher than'
        : 'is lower than';
  return significant
    ? {
        ...base,
        statistic,
        verdict: 'Fail',
        reason: `canary ${worse} primary (p=${statistic.pValue} < ${round(1 - c.confidence)})`,
      }
    : {
        ...base,
        statistic,
        verdict: 'Pass',
        reason: `no significant difference from primary (p=${statistic.pValue})`,
      };
}

/** The interval's verdict: a failure decides, then a provider error, then missing data. */
export function intervalVerdict(verdicts: readonly Verdict[]): Verdict {
  for (const v of ['Fail', 'Error', 'Inconclusive'] as const) if (verdicts.includes(v)) return v;
  return 'Pass';
}

export interface JudgeCounters {
  failedChecks: number;
  inconclusiveChecks: number;
  consecutiveErrors: number;
}

export interface JudgeLimits {
  threshold: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
}

/**
 * Counters after one interval. Failures and inconclusive results are cumulative within a run
 * (Flagger never forgives a failed check); errors count only while consecutive (a flaky provider
 * that recovers should not end a rollout).
 */
export function countVerdict(c: JudgeCounters, v: Verdict): JudgeCounters {
  return {
    failedChecks: c.failedChecks + (v === 'Fail' ? 1 : 0),
    inconclusiveChecks: c.inconclusiveChecks + (v === 'Inconclusive' ? 1 : 0),
    consecutiveErrors: v === 'Error' ? c.consecutiveErrors + 1 : 0,
  };
}

/** Which limit, if any, the counters reached: the reason of the rollback. */
export function limitReached(c: JudgeCounters, l: JudgeLimits): string | undefined {
  if (c.failedChecks >= l.threshold) return 'FailedChecksThreshold';
  if (l.inconclusiveLimit > 0 && c.inconclusiveChecks >= l.inconclusiveLimit) return 'InconclusiveLimit';
  if (l.consecutiveErrorLimit > 0 && c.consecutiveErrors >= l.consecutiveErrorLimit)
    return 'ConsecutiveErrorLimit';
  return undefined;
}

function rangeText(t: { min?: number; max?: number }): string {
  if (t.min !== undefined && t.max !== undefined) return `[${fmt(t.min)}, ${fmt(t.max)}]`;
  if (t.min !== undefined) return `>= ${fmt(t.min)}`;
  if (t.max !== undefined) return `<= ${fmt(t.max)}`;
  return 'no threshold';
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;
const fmt = (v: number) => String(round(v));
