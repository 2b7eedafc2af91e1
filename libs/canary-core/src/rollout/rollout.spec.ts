import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Actor, RolloutEvent } from '@capstan/events';
import { parseCanary, type CanaryModel } from '../spec.js';
import { workshopCanary } from '../fixtures/workshop-canary.js';
import type { HookResult } from '../webhooks/webhook-rules.js';
import type { Measurement } from '../judge/verdict.js';
import { decide, RolloutCommandRejected } from './decide.js';
import { evolve, fold, initialState, type RolloutState } from './state.js';
import { nextAction, type Observation } from './next-action.js';
import { decisionsFor } from './decisions.js';
import { commandFor } from './command-for.js';
import { projectStatus } from './status.js';

const person: Actor = { kind: 'person', name: 'alice', evidence: 'authenticated-user' };
const T0 = Date.parse('2026-12-04T10:00:00Z');
const ok = (name: string, type: HookResult['type']): HookResult => ({
  name,
  type,
  url: 'http://lt/',
  ok: true,
  status: 200,
  message: 'ok',
  attempts: 1,
});
const goodFor = (m: CanaryModel) => (): Measurement[] =>
  [
    { metric: 'request-success-rate', query: 'q1', canary: 100 },
    { metric: 'request-duration', query: 'q2', canary: 12 },
  ].filter((x) => m.metrics.some((y) => y.name === x.metric));
const good = goodFor(parseCanary(workshopCanary()));
const failing = (): Measurement[] => [
  { metric: 'request-success-rate', query: 'q1', canary: 62.5 },
  { metric: 'request-duration', query: 'q2', canary: 12 },
];

/**
 * The analyzer's loop as plain data: ask nextAction, answer with fixture results through the
 * same `commandFor` the analyzer uses, decide, fold. `measure` plays Prometheus; every hook
 * answers 200 unless `hookAnswer` says otherwise.
 */
async function run(
  model: CanaryModel,
  obs: Observation,
  ticks: number,
  measure: (s: RolloutState) => Measurement[],
  start: RolloutState = initialState,
  hookAnswer: (type: HookResult['type']) => boolean = () => true,
) {
  let s = start;
  let now = T0;
  const log: RolloutEvent[][] = [];
  for (let i = 0; i < ticks; i++) {
    const a = nextAction(s, model, obs, now);
    if (a.kind === 'wait') {
      now += a.waitMs;
      continue;
    }
    const at = new Date(now).toISOString();
    const state = s;
    const cmd = await commandFor(a, s, model, at, {
      revision: obs.revision ?? '',
      trackedConfigs: obs.trackedConfigs,
      hooks: (type) =>
        model.webhooks
          .filter((h) => h.type === type)
          .map((h) => ({ ...ok(h.name, type), ok: hookAnswer(type), status: hookAnswer(type) ? 200 : 403 })),
      measure: () => measure(state),
    });
    if (a.kind === 'initialize') obs = { ...obs, initialized: true };
    const events = decide(cmd, s, model);
    log.push(events);
    s = events.reduce(evolve, s);
    now += 1;
  }
  return { s, log, events: log.flat() };
}

const model = parseCanary(workshopCanary());
const fresh: Observation = {
  targetFound: true,
  revision: 'rev-1',
  trackedConfigs: {},
  canaryReady: true,
  primaryReady: true,
  initialized: false,
};

describe('rollout decider: the workshop Canary', async () => {
  const init = await run(model, fresh, 3, () => []);

  it('initializes once and waits for a new revision', async () => {
    assert.equal(init.s.phase, 'Initialized');
    assert.deepEqual(
      init.events.map((e) => e.type),
      ['Initialized'],
    );
  });

  it('a good revision is promoted step by step: pre-rollout, 5..50, promotion, finalise, succeeded', async () => {
    const r = await run(model, { ...fresh, initialized: true, revision: 'rev-2' }, 60, good, init.s);
    assert.equal(r.s.phase, 'Succeeded');
    assert.equal(r.s.promotedRevision, 'rev-2');
    const weights = r.events.filter((e) => e.type === 'WeightChanged').map((e) => e.to);
    assert.deepEqual(weights, [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    assert.deepEqual(
      r.events.map((e) => e.type).filter((t) => t !== 'CheckCompleted' && t !== 'WeightChanged'),
      ['RolloutStarted', 'PromotionStarted', 'Finalising', 'Succeeded'],
    );
    // Every analysis step waited its interval.
    const times = r.events.filter((e) => e.type === 'WeightChanged').map((e) => Date.parse(e.at));
    times.slice(1).forEach((t, i) => assert.ok(t - (times[i] ?? 0) >= model.intervalMs));
  });

  it('a 5xx revision is rolled back after threshold (5) failed checks, with the numbers in the decisions', async () => {
    const r = await run(
      model,
      { ...fresh, initialized: true, revision: 'rev-bad' },
      40,
      (s) => (s.canaryWeight >= 5 ? failing() : good()),
      init.s,
    );
    assert.equal(r.s.phase, 'Failed');
    assert.equal(r.s.reason, 'FailedChecksThreshold');
    assert.equal(r.s.failedChecks, 5);
    assert.equal(r.s.canaryWeight, 0);
    const failedChecks = r.events.filter((e) => e.type === 'CheckCompleted' && e.verdict === 'Fail');
    assert.equal(failedChecks.length, 5);
    const last = r.log.at(-1) ?? [];
    const decisions = decisionsFor(last, 100, {
      namespace: 'prod',
      name: 'podinfo',
      uid: 'u1',
      cluster: 'local',
      targets: [],
      run: 1,
    });
    assert.deepEqual(
      decisions.map((d) => d.data.action),
      ['canary.check-failed', 'canary.rolled-back'],
    );
    const check = (
      decisions[0]?.data.evidence as {
        check: { metrics: { metric: string; canary: number; threshold: unknown; reason: string }[] };
      }
    ).check;
    assert.deepEqual(check.metrics[0], {
      metric: 'request-success-rate',
      query: 'q1',
      canary: 62.5,
      threshold: { min: 99 },
      verdict: 'Fail',
      reason: '62.5 < 99',
    });
    assert.deepEqual(decisions[1]?.data.evidence?.['weight'], { before: 5, after: 0 });
    // Going back to the promoted spec is not a new revision; the failed one is not retried by itself.
    assert.equal(
      nextAction(r.s, model, { ...fresh, initialized: true, revision: 'rev-1' }, T0 + 1e6).kind,
      'wait',
    );
    assert.equal(
      nextAction(r.s, model, { ...fresh, initialized: true, revision: 'rev-bad' }, T0 + 1e6).kind,
      'wait',
    );
  });

  it('no traffic is never a pass: inconclusive checks roll back at the limit', async () => {
    const r = await run(
      model,
      { ...fresh, initialized: true, revision: 'rev-2' },
      40,
      () => [{ metric: 'request-success-rate', query: 'q', canary: null }],
      init.s,
    );
    assert.equal(r.s.phase, 'Failed');
    assert.equal(r.s.reason, 'InconclusiveLimit');
    assert.equal(r.events.filter((e) => e.type === 'WeightChanged').length, 1);
  });

  it('Prometheus down is Error, counted only in a row (consecutiveErrorLimit)', async () => {
    const r = await run(
      model,
      { ...fresh, initialized: true, revision: 'rev-2' },
      40,
      () => [{ metric: 'request-success-rate', query: 'q', canary: null, error: 'ECONNREFUSED' }],
      init.s,
    );
    assert.equal(r.s.phase, 'Failed');
    assert.equal(r.s.reason, 'ConsecutiveErrorLimit');
    assert.equal(r.s.failedChecks, 0);
  });

  it('a new revision mid-rollout restarts the analysis from weight 0', async () => {
    const mid = await run(model, { ...fresh, initialized: true, revision: 'rev-2' }, 8, good, init.s);
    assert.ok(mid.s.canaryWeight > 0);
    const a = nextAction(mid.s, model, { ...fresh, initialized: true, revision: 'rev-3' }, T0 + 1e6);
    assert.deepEqual(a, { kind: 'start', restart: true });
    const events = decide(
      {
        type: 'StartRollout',
        at: new Date(T0 + 1e6).toISOString(),
        revision: 'rev-3',
        trackedConfigs: {},
        restart: true,
        hooks: [],
      },
      mid.s,
      model,
    );
    const s = fold(events, mid.s);
    assert.equal(s.canaryWeight, 0);
    assert.equal(s.revision, 'rev-3');
    assert.equal(s.run, mid.s.run + 1);
  });

  it('confirm gates hold without counting failed checks', async () => {
    const base = workshopCanary();
    const gated = parseCanary({
      ...base,
      spec: {
        ...base.spec,
        analysis: {
          ...base.spec.analysis,
          webhooks: [{ name: 'gate', type: 'confirm-traffic-increase', url: 'http://lt/gate/halt' }],
        },
      },
    });
    const r = await run(
      gated,
      { ...fresh, initialized: true, revision: 'rev-2' },
      10,
      good,
      init.s,
      (t) => t !== 'confirm-traffic-increase',
    );
    assert.equal(r.s.phase, 'Progressing');
    assert.equal(r.s.canaryWeight, 0);
    assert.equal(r.s.failedChecks, 0);
    assert.ok(r.events.some((e) => e.type === 'TrafficIncreaseHeld'));
  });

  it('replaying the stream gives the same state as stepping (what a restarted analyzer does)', async () => {
    const r = await run(model, { ...fresh, initialized: true, revision: 'rev-2' }, 20, good, init.s);
    assert.deepEqual(fold([...init.events, ...r.events]), r.s);
  });

  it('manual verbs: pause holds, promote skips the analysis, abort rolls back, retry restarts a failed run', async () => {
    const mid = await run(model, { ...fresh, initialized: true, revision: 'rev-2' }, 6, good, init.s);
    const at = new Date(T0 + 1e6).toISOString();
    const paused = fold(decide({ type: 'Pause', at, actor: person }, mid.s, model), mid.s);
    assert.equal(
      nextAction(paused, model, { ...fresh, initialized: true, revision: 'rev-2' }, T0 + 2e6).kind,
      'wait',
    );
    const promoted = fold(decide({ type: 'Promote', at, actor: person }, mid.s, model), mid.s);
    assert.equal(promoted.phase, 'Promoting');
    const aborted = fold(decide({ type: 'Abort', at, actor: person }, mid.s, model), mid.s);
    assert.equal(aborted.phase, 'Failed');
    assert.equal(aborted.reason, 'Aborted');
    const retried = fold(decide({ type: 'Retry', at, actor: person }, aborted, model), aborted);
    assert.equal(retried.phase, 'Progressing');
    assert.equal(retried.run, aborted.run + 1);
    assert.throws(
      () => decide({ type: 'Promote', at, actor: person }, init.s, model),
      RolloutCommandRejected,
    );
    assert.throws(() => decide({ type: 'Resume', at, actor: person }, mid.s, model), /not paused/);
  });

  it('a canary that never gets ready is rolled back after progressDeadlineSeconds', async () => {
    const r = await run(
      model,
      { ...fresh, initialized: true, revision: 'rev-2', canaryReady: false },
      1000,
      good,
      init.s,
    );
    assert.equal(r.s.phase, 'Failed');
    assert.equal(r.s.reason, 'ProgressDeadlineExceeded');
  });

  it('deleted with revertOnDeletion mid-rollout: Terminating, then Terminated with an audited revert', async () => {
    const mid = await run(model, { ...fresh, initialized: true, revision: 'rev-2' }, 6, good, init.s);
    const at = new Date(T0 + 1e6).toISOString();
    const terminating = fold(decide({ type: 'Terminate', at }, mid.s, model), mid.s);
    assert.equal(terminating.phase, 'Terminating');
    assert.deepEqual(decide({ type: 'Terminate', at }, terminating, model), [], 'once');
    const events = decide({ type: 'CompleteTermination', at, replicas: 2 }, terminating, model);
    const done = fold(events, terminating);
    assert.equal(done.phase, 'Terminated');
    assert.equal(done.canaryWeight, 0);
    const [decision] = decisionsFor(events, 99, {
      namespace: 'prod',
      name: 'podinfo',
      uid: 'u1',
      cluster: 'local',
      targets: [],
      run: done.run,
    });
    assert.equal(decision?.data.reason, 'RevertedOnDeletion');
    assert.equal(decision.data.evidence?.['replicas'], 2);
    assert.equal(
      nextAction(done, model, { ...fresh, initialized: true, revision: 'rev-3' }, T0 + 2e6).kind,
      'wait',
    );
  });

  it('the target deleted mid-rollout rolls back', async () => {
    const mid = await run(model, { ...fresh, initialized: true, revision: 'rev-2' }, 4, good, init.s);
    const a = nextAction(mid.s, model, { ...fresh, targetFound: false, initialized: true }, T0 + 1e6);
    assert.equal(a.kind, 'rollback');
  });
});

describe('rollout decider: blue/green and A/B count iterations', () => {
  it('promotes after `iterations` passing checks without moving weight', async () => {
    const base = workshopCanary();
    const bg = parseCanary({
      ...base,
      spec: {
        ...base.spec,
        provider: 'kubernetes',
        analysis: { ...base.spec.analysis, stepWeight: undefined, maxWeight: undefined, iterations: 3 },
      },
    });
    const init = await run(bg, fresh, 2, () => []);
    const r = await run(bg, { ...fresh, initialized: true, revision: 'rev-2' }, 30, goodFor(bg), init.s);
    assert.equal(r.s.phase, 'Succeeded');
    assert.deepEqual(
      r.events.filter((e) => e.type === 'WeightChanged').map((e) => [e.to, e.iterations]),
      [
        [0, 1],
        [0, 2],
      ],
    );
  });
});

describe('rollout decider: promotion shapes', () => {
  const base = workshopCanary();
  it('stepWeightPromotion routes back to the primary in steps before finalising', async () => {
    const m = parseCanary({
      ...base,
      spec: { ...base.spec, analysis: { ...base.spec.analysis, stepWeightPromotion: 20 } },
    });
    const init = await run(m, fresh, 2, () => []);
    const r = await run(m, { ...fresh, initialized: true, revision: 'rev-2' }, 60, good, init.s);
    assert.equal(r.s.phase, 'Succeeded');
    assert.deepEqual(
      r.events.filter((e) => e.type === 'PromotionStepped').map((e) => e.to),
      [30, 10],
    );
  });
  it('skipAnalysis promotes without checks', async () => {
    const m = parseCanary({ ...base, spec: { ...base.spec, skipAnalysis: true } });
    const init = await run(m, fresh, 2, () => []);
    const r = await run(m, { ...fresh, initialized: true, revision: 'rev-2' }, 20, good, init.s);
    assert.equal(r.s.phase, 'Succeeded');
    assert.equal(r.events.filter((e) => e.type === 'CheckCompleted').length, 0);
  });
  it('suspend: nothing happens', async () => {
    const m = parseCanary({ ...base, spec: { ...base.spec, suspend: true } });
    assert.deepEqual(nextAction(initialState, m, fresh, T0), {
      kind: 'wait',
      reason: 'suspended',
      waitMs: 10_000,
    });
  });
});

describe('status projection', () => {
  it("shows Flagger's fields and kstatus conditions", async () => {
    const init = await run(model, fresh, 2, () => []);
    const st = projectStatus(init.s, { generation: 3, now: new Date(T0), previous: [] });
    assert.equal(st.phase, 'Initialized');
    assert.equal(st.lastAppliedSpec, 'rev-1');
    assert.deepEqual(
      st.conditions.map((c) => [c.type, c.status]),
      [
        ['Promoted', 'True'],
        ['Ready', 'True'],
      ],
    );
    const mid = await run(model, { ...fresh, initialized: true, revision: 'rev-2' }, 5, good, init.s);
    const p = projectStatus(mid.s, { generation: 3, now: new Date(T0), previous: st.conditions });
    assert.deepEqual(
      p.conditions.map((c) => [c.type, c.status]),
      [
        ['Promoted', 'Unknown'],
        ['Ready', 'Unknown'],
        ['Reconciling', 'True'],
      ],
    );
  });
});
