import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CanaryStage, generateLoad, testCanary, type DecisionView } from './support/canary-stage.js';
import { applyYaml } from './support/kube.js';

const NS = 'canary-judge';
const CAPSTAN = 'capstan.dev/v1alpha1';

interface Statistic {
  test: string;
  pValue: number;
  canaryCount: number;
  primaryCount: number;
}
interface Judged {
  metric: string;
  verdict: string;
  reason: string;
  canary: number | null;
  primary?: number | null;
  statistic?: Statistic;
}

const judgedMetric = (d: DecisionView): Judged | undefined =>
  (d.evidence['check'] as { metrics?: Judged[] } | undefined)?.metrics?.find((m) => m.statistic);

/**
 * The canary-versus-primary judge end to end: Flagger's built-in request-duration (P99 from
 * Linkerd-format histograms that real Prometheus scraped from real podinfo processes), read as a
 * series over the metric's window for both the canary and `<target>-primary`, compared with
 * Mann-Whitney U (direction: increase). A canary 300 ms slower than its primary fails the test
 * with the statistic in the audit log; one faster than the primary passes it and is promoted.
 * No absolute threshold is set: the comparison alone decides.
 */
const judgedCanary = (threshold: number) =>
  testCanary({
    name: 'judged',
    namespace: NS,
    apiVersion: CAPSTAN,
    threshold,
    stepWeight: 50,
    maxWeight: 50,
    // Too few samples is Inconclusive, never a pass: allow the window time to fill.
    analysisExtra: '    inconclusiveLimit: 30\n',
    metrics: `      - name: request-duration
        interval: 15s
        compare: {direction: increase, confidence: 0.98, minSamples: 8}
`,
  });

describe('canary judge: Mann-Whitney U against the primary, end to end', { timeout: 600_000 }, () => {
  let stage: CanaryStage;

  before(async () => {
    stage = await CanaryStage.start(NS);
    await stage.startAnalyzer({ MIN_INTERVAL: '1s' });
  });

  after(async () => {
    await stage.stopAnalyzer();
    await stage.stop();
  });

  it('a slower canary fails the comparison (statistic audited); a faster one passes and is promoted', async () => {
    // The primary answers in ~100 ms: far enough above a fast canary that the scheduling noise
    // of a loaded 2-core machine (tens of ms on a fresh pod's P99) cannot make it look slower.
    await stage.deployPodinfo('judged', '1.0.0', { PODINFO_LATENCY_MS: '100' });
    await applyYaml(stage.api, judgedCanary(1));
    await stage.waitPhase('judged', ['Initialized'], 60_000, CAPSTAN);
    // Both sides get traffic the whole time (the comparison needs a series for each).
    const stopCanaryLoad = generateLoad(stage, 'judged-canary');
    const stopPrimaryLoad = generateLoad(stage, 'judged-primary');
    try {
      await stage.deployPodinfo('judged', '1.0.1', { PODINFO_LATENCY_MS: '400' });
      const failed = await stage.waitPhase('judged', ['Failed', 'Succeeded'], 120_000, CAPSTAN);
      const decisions = await stage.decisions('judged');
      assert.equal(
        failed.phase,
        'Failed',
        `the slow canary must not be promoted: ${JSON.stringify(decisions.map((d) => [d.reason, judgedMetric(d)]))}`,
      );
      assert.equal(decisions.at(-1)?.reason, 'FailedChecksThreshold');
      const failing = decisions.filter((d) => d.reason === 'CheckFail').map(judgedMetric);
      assert.equal(failing.length, 1);
      const m = failing[0];
      assert.equal(m?.verdict, 'Fail');
      assert.match(m.reason, /canary is higher than primary \(p=[0-9.e-]+ < 0\.02\)/);
      assert.equal(m.statistic?.test, 'mann-whitney-u');
      assert.ok(m.statistic.pValue < 0.02);
      assert.ok(m.statistic.canaryCount >= 8 && m.statistic.primaryCount >= 8);
      // P99s on a busy machine carry its own delays; the extra 300 ms shows as the difference.
      assert.ok((m.canary ?? 0) > (m.primary ?? Infinity), `canary ${m.canary} primary ${m.primary}`);

      // The slow pods' series must leave the window before the next revision is judged.
      await stage.waitNoData(
        `sum(rate(response_latency_ms_bucket{namespace="${NS}",deployment=~"judged",direction="inbound"}[15s]))`,
      );
      // A canary faster than its primary: not worse. Fresh pods on a loaded 2-core machine can
      // answer one window slowly while they warm up; as Flagger users do against noise, this run
      // tolerates two failed checks (the first run showed one is enough to fail a slow canary).
      await applyYaml(stage.api, judgedCanary(3));
      await stage.deployPodinfo('judged', '1.0.2');
      await stage.waitPhase('judged', ['Progressing', 'Succeeded'], 60_000, CAPSTAN);
      const promoted = await stage.waitPhase('judged', ['Failed', 'Succeeded'], 120_000, CAPSTAN);
      assert.equal(
        promoted.phase,
        'Succeeded',
        `the fast canary must be promoted: ${JSON.stringify(promoted.conditions)}; checks: ${JSON.stringify(
          (await stage.decisions('judged')).slice(-8).map((d) => [d.reason, judgedMetric(d)]),
        )}`,
      );
    } finally {
      await stopCanaryLoad();
      await stopPrimaryLoad();
    }
    const run2 = (await stage.decisions('judged')).slice(-6);
    const passed = run2.map(judgedMetric).filter((m) => m?.verdict === 'Pass');
    assert.ok(passed.length >= 1, JSON.stringify(run2.map((d) => d.reason)));
    assert.match(passed[0]?.reason ?? '', /no significant difference from primary/);
    assert.ok((passed[0]?.statistic?.pValue ?? 0) >= 0.02);
  });
});
