import { readFile } from 'node:fs/promises';
import { applyYaml, CanaryStage, generateLoad, readObject, testCanary, waitFor } from '@capstan/e2e';
import { RolloutStore, startCanaryAnalyzer } from '@capstan/canary-analyzer';
import { topology } from '@capstan/events';
import { connectBus } from '@capstan/messaging';
import { percentile, type BenchResult } from './harness.js';
import { startChild } from './child-service.js';

/**
 * Breaching sample -> rollback: a Canary with threshold 1 receives a version answering 5xx, over
 * and over (a new tag each round). Measured inside the analyzer: from the moment Prometheus
 * answered the breaching query to the rollback recorded in the stream, and to the traffic routed
 * back to the primary (TrafficSplit at 0 %). Target < 1 s.
 */
export async function canaryRollbackLatency(): Promise<BenchResult> {
  const rounds = 30;
  const stage = await CanaryStage.start('bench-rollback');
  const analyzer = await startCanaryAnalyzer(
    { ...stage.env, REPLICA_ID: 'bench', MIN_INTERVAL: '1s' },
    { http: stage.plane.proxy.fetch },
  );
  try {
    await stage.deployPodinfo('fast', '1.0.0');
    await applyYaml(
      stage.api,
      testCanary({
        name: 'fast',
        namespace: stage.namespace,
        interval: '1s',
        threshold: 1,
        stepWeight: 50,
        maxWeight: 50,
      }),
    );
    await stage.waitPhase('fast', ['Initialized'], 60_000);
    const stopLoad = generateLoad(stage, 'fast-canary');
    try {
      for (let i = 1; i <= rounds; i++) {
        await stage.deployPodinfo('fast', `2.0.${i}`, { PODINFO_ERROR_RATE: '1' });
        await waitFor(
          `round ${i} rolled back`,
          () => (analyzer.driver.rollbacks.length >= i ? true : undefined),
          60_000,
        );
      }
    } finally {
      await stopLoad();
    }
    const recorded = analyzer.driver.rollbacks
      .map((r) => r.recordedAtMs - r.sampledAtMs)
      .sort((a, b) => a - b);
    const routed = analyzer.driver.rollbacks.map((r) => r.routedAtMs - r.sampledAtMs).sort((a, b) => a - b);
    const p99 = percentile(routed, 99);
    return {
      name: 'canary-rollback-latency',
      value: p99,
      unit: 'ms',
      target: '< 1000 ms (p99)',
      details: [
        `${rounds} rollbacks of a 5xx canary (threshold 1, interval 1s), real Prometheus, HAProxy and API server.`,
        '',
        '| from the breaching sample to | p50 | p99 | max |',
        '|---|---|---|---|',
        `| rollback recorded (stream append) | ${percentile(recorded, 50)} ms | ${percentile(recorded, 99)} ms | ${recorded.at(-1) ?? 0} ms |`,
        `| traffic routed to the primary (TrafficSplit 0 %, target scaled to 0) | ${percentile(routed, 50)} ms | ${p99} ms | ${routed.at(-1) ?? 0} ms |`,
      ].join('\n'),
    };
  } finally {
    await analyzer.close();
    await stage.stop();
  }
}

/**
 * 100 Canaries stepping every 10 s, each through init, start, pre-rollout, five weight steps,
 * promotion and finalising, driven by one analyzer process. Their pods are kwok pods (no
 * processes: 200 podinfo processes would measure the machine, not the analyzer), and the metric is
 * a MetricTemplate-style inline query Prometheus answers (`vector(100)`), so every step queries
 * the real Prometheus. Measured: analyzer CPU and RSS (/proc), Prometheus queries per second (its
 * own counter), and steps that started more than 1 s after they were due (from the rollout stream).
 */
export async function canaryHundred(): Promise<BenchResult> {
  const n = 100;
  const stage = await CanaryStage.start('bench-hundred');
  // NODE_OPTIONS as the Helm chart sets them (services.canary-analyzer.nodeOptions).
  const child = await startChild(
    'canary-analyzer',
    {
      ...stage.env,
      REPLICA_ID: 'bench-100',
      LOG_LEVEL: 'error',
      // The chart's lease (the stage's 6 s is for the failover tests' speed).
      LEASE_SECONDS: '15',
      NODE_OPTIONS: '--max-old-space-size=96 --max-semi-space-size=2',
    },
    stage.logDir,
  );
  const queriesBefore = await prometheusQueries(stage.plane.prometheus.url);
  const cpuBefore = await cpuSeconds(child.pid);
  const idleRss = await rssMiB(child.pid);
  const t0 = Date.now();
  let peakRss = 0;
  let peakHeap = 0;
  const lag = { peakMs: 0, secondsOver100Ms: 0, samples: 0 };
  const sampler = setInterval(() => {
    void rssMiB(child.pid)
      .then((r) => (peakRss = Math.max(peakRss, r)))
      .catch(() => undefined);
    void analyzerGauges(child.port)
      .then((g) => {
        peakHeap = Math.max(peakHeap, g.heapUsedMiB);
        // prom-client resets its event-loop histogram at every scrape: this is the last second's.
        lag.peakMs = Math.max(lag.peakMs, g.lagMaxMs);
        lag.samples++;
        if (g.lagMaxMs > 100) lag.secondsOver100Ms++;
      })
      .catch(() => undefined);
  }, 1000);
  try {
    for (let i = 0; i < n; i++) {
      await applyYaml(
        stage.api,
        `apiVersion: apps/v1
kind: Deployment
metadata: {name: app-${i}, namespace: ${stage.namespace}}
spec:
  selector: {matchLabels: {app: app-${i}}}
  template:
    metadata: {labels: {app: app-${i}}}
    spec: {containers: [{name: app, image: "example/app:1.0.0"}]}
`,
      );
      await applyYaml(
        stage.api,
        testCanary({
          name: `app-${i}`,
          namespace: stage.namespace,
          interval: '10s',
          stepWeight: 10,
          maxWeight: 50,
          metrics: `      - name: always-fine\n        query: "vector(100)"\n        thresholdRange: {min: 99}\n`,
        }),
      );
    }
    await waitFor(
      '100 Canaries initialized',
      async () => {
        const list = (await stage.api.list('flagger.app/v1beta1', 'Canary', stage.namespace)) as unknown as {
          items: { status?: { phase?: string } }[];
        };
        return list.items.filter((c) => c.status?.phase === 'Initialized').length === n ? true : undefined;
      },
      300_000,
    );
    const rolloutStart = Date.now();
    for (let i = 0; i < n; i++)
      await applyYaml(
        stage.api,
        `apiVersion: apps/v1
kind: Deployment
metadata: {name: app-${i}, namespace: ${stage.namespace}}
spec:
  selector: {matchLabels: {app: app-${i}}}
  template:
    metadata: {labels: {app: app-${i}}}
    spec: {containers: [{name: app, image: "example/app:1.0.1"}]}
`,
      );
    await waitFor(
      '100 Canaries promoted',
      async () => {
        const list = (await stage.api.list('flagger.app/v1beta1', 'Canary', stage.namespace)) as unknown as {
          items: { status?: { phase?: string } }[];
        };
        return list.items.filter((c) => c.status?.phase === 'Succeeded').length === n ? true : undefined;
      },
      600_000,
    );
    const rolloutSeconds = (Date.now() - rolloutStart) / 1000;
    const seconds = (Date.now() - t0) / 1000;
    const cpu = (await cpuSeconds(child.pid)) - cpuBefore;
    const queries = (await prometheusQueries(stage.plane.prometheus.url)) - queriesBefore;
    const late = await lateSteps(stage, n);
    const parts = await stepParts(child.port);
    return {
      name: 'canary-100-concurrent',
      value: late.late,
      unit: 'late steps',
      target: '0 steps late by > 1 s; RSS < 150 MiB',
      details: [
        `${n} flagger.app Canaries (interval 10s, stepWeight 10, maxWeight 50) on kwok pods, one analyzer process, real Prometheus and API server.`,
        '',
        '| measure | value | target |',
        '|---|---|---|',
        `| analysis steps late by more than 1 s | ${late.late} of ${late.steps} (max lateness ${late.maxMs} ms) | 0 |`,
        `| pre-rollout checks later than 1 s after the start (they wait for the canary pods to be ready) | ${late.preRollout.late} of ${late.preRollout.steps} (max ${late.preRollout.maxMs} ms) | |`,
        `| analyzer peak RSS | ${peakRss.toFixed(0)} MiB (idle before the Canaries: ${idleRss.toFixed(0)} MiB; peak V8 heap in use ${peakHeap.toFixed(0)} MiB) | < 150 MiB |`,
        `| analyzer event-loop delay | max ${lag.peakMs.toFixed(0)} ms; over 100 ms in ${lag.secondsOver100Ms} of ${lag.samples} one-second samples | |`,
        `| analyzer CPU | ${((cpu / seconds) * 100).toFixed(1)} % of a core (${cpu.toFixed(1)} s over ${seconds.toFixed(0)} s) | |`,
        `| Prometheus queries | ${(queries / seconds).toFixed(1)} per second | |`,
        `| all 100 rollouts, new revision to Succeeded | ${rolloutSeconds.toFixed(0)} s | |`,
        `| a step's parts, mean (the analyzer's capstan_canary_step_part_seconds) | ${parts} | |`,
      ].join('\n'),
    };
  } finally {
    clearInterval(sampler);
    await child.stop();
    await stage.stop();
  }
}

/**
 * One full promotion (interval 10s, stepWeight 10, maxWeight 50) of a real podinfo canary with
 * traffic, from the new revision applied to Succeeded, against its floor of interval x steps.
 */
export async function canaryPromotion(): Promise<BenchResult> {
  const stage = await CanaryStage.start('bench-promotion');
  const analyzer = await startCanaryAnalyzer(
    { ...stage.env, REPLICA_ID: 'bench' },
    { http: stage.plane.proxy.fetch },
  );
  try {
    await stage.deployPodinfo('promo', '1.0.0');
    await applyYaml(
      stage.api,
      testCanary({
        name: 'promo',
        namespace: stage.namespace,
        interval: '10s',
        stepWeight: 10,
        maxWeight: 50,
      }),
    );
    await stage.waitPhase('promo', ['Initialized'], 60_000);
    const stopLoad = generateLoad(stage, 'promo-canary');
    const t0 = Date.now();
    try {
      await stage.deployPodinfo('promo', '1.0.1');
      await stage.waitPhase('promo', ['Succeeded'], 300_000);
    } finally {
      await stopLoad();
    }
    const seconds = (Date.now() - t0) / 1000;
    const floor = 10 * (50 / 10);
    return {
      name: 'canary-promotion',
      value: Math.round(seconds * 10) / 10,
      unit: 's',
      target: `floor ${floor} s (interval x maxWeight/stepWeight)`,
      details: [
        'One podinfo canary with traffic, interval 10s, stepWeight 10, maxWeight 50.',
        '',
        `New revision applied to Succeeded: ${seconds.toFixed(1)} s against the floor of ${floor} s (10 s x 5 steps). `,
        "The rest is Flagger's shape of a rollout, three more intervals and the canary's start: the pre-rollout",
        'webhooks run one interval before the first weight (counted in the five steps), then one interval of',
        'analysis at the maximum weight before promoting, one to route back to the promoted primary, one to',
        'finalise; the new canary pod becoming ready takes the rest.',
      ].join('\n'),
    };
  } finally {
    await analyzer.close();
    await stage.stop();
  }
}

async function prometheusQueries(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const m of text.matchAll(
    /^prometheus_http_requests_total\{[^}]*handler="\/api\/v1\/query(?:_range)?"[^}]*\} ([0-9.e+]+)$/gm,
  ))
    total += Number(m[1]);
  return total;
}

async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

/** Mean seconds of each part of a step, from the analyzer's histogram. */
async function stepParts(port: number): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const value = (part: string, what: 'sum' | 'count') =>
    Number(
      new RegExp(
        `^capstan_canary_step_part_seconds_${what}\\{[^}]*part="${part}"[^}]*\\} ([0-9.e+-]+)$`,
        'm',
      ).exec(text)?.[1] ?? 0,
    );
  return ['late', 'look', 'lease', 'measure', 'decide', 'converge', 'tell', 'status']
    .map((p) => `${p} ${((value(p, 'sum') / Math.max(1, value(p, 'count'))) * 1000).toFixed(0)} ms`)
    .join(', ');
}

/** V8 heap in use and the event loop's worst delay, from the analyzer's own /metrics (prom-client's default metrics). */
async function analyzerGauges(port: number): Promise<{ heapUsedMiB: number; lagMaxMs: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const gauge = (name: string) =>
    Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    heapUsedMiB: gauge('nodejs_heap_size_used_bytes') / 1024 / 1024,
    lagMaxMs: gauge('nodejs_eventloop_lag_max_seconds') * 1000,
  };
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * Steps that started more than 1 s after they were due, read from the rollout streams: each
 * analysis step (a CheckCompleted) is due one interval after the step before it.
 */
async function lateSteps(
  stage: CanaryStage,
  n: number,
): Promise<{
  steps: number;
  late: number;
  maxMs: number;
  preRollout: { steps: number; late: number; maxMs: number };
}> {
  const bus = await connectBus({
    url: stage.env['NATS_URL'] ?? '',
    topology: topology(stage.env['EVENT_PREFIX']),
  });
  const store = new RolloutStore(bus);
  // Analysis steps (the weight walk) apart from the pre-rollout check, which also waits for the
  // new canary pods to be ready (kwok and the controller-manager, not the analyzer).
  const analysis = { steps: 0, late: 0, maxMs: 0 };
  const preRollout = { steps: 0, late: 0, maxMs: 0 };
  try {
    for (let i = 0; i < n; i++) {
      const c = await readObject<{ metadata: { uid: string } }>(
        stage.api,
        'flagger.app/v1beta1',
        'Canary',
        stage.namespace,
        `app-${i}`,
      );
      if (!c) continue;
      const history = await store.load({ namespace: stage.namespace, name: `app-${i}`, uid: c.metadata.uid });
      let previous: number | undefined;
      for (const step of history.steps) {
        const at = Date.parse(step.events[0]?.at ?? '');
        const check = step.events.find((e) => e.type === 'CheckCompleted');
        if (previous !== undefined && check) {
          const lateness = at - previous - 10_000;
          const bucket = check.stage === 'analysis' ? analysis : preRollout;
          bucket.steps++;
          bucket.maxMs = Math.max(bucket.maxMs, lateness);
          if (lateness > 1_000) bucket.late++;
        }
        previous = at;
      }
    }
  } finally {
    await bus.close();
  }
  return { ...analysis, preRollout };
}
