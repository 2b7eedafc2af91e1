import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CanaryStage, generateLoad, testCanary } from './support/canary-stage.js';
import { applyYaml, readObject } from './support/kube.js';
import { waitFor } from './support/wait.js';

const NS = 'canary-strategies';

interface RouteView {
  spec: {
    rules: {
      matches?: { headers?: { name: string; value: string }[] }[];
      backendRefs: { name: string; weight: number }[];
    }[];
  };
}

/**
 * Gateway API weights, blue/green by iterations and A/B by headers, on the real data plane:
 * HAProxy follows the HTTPRoute, the Gateway API flavour of Flagger's built-in queries reads
 * podinfo's own http_request_duration_seconds by pod name.
 */
describe('canary strategies: Gateway API, blue/green, A/B', { timeout: 600_000 }, () => {
  let stage: CanaryStage;

  before(async () => {
    stage = await CanaryStage.start(NS);
    await stage.startAnalyzer({ MIN_INTERVAL: '1s' });
  });

  after(async () => {
    await stage.stop();
  });

  const route = (name: string) =>
    readObject<RouteView>(stage.api, 'gateway.networking.k8s.io/v1', 'HTTPRoute', NS, name);

  it('Gateway API: the HTTPRoute carries the weights step by step, and the proxy follows it', async () => {
    await stage.deployPodinfo('gw', '1.0.0');
    await applyYaml(
      stage.api,
      testCanary({
        name: 'gw',
        namespace: NS,
        provider: 'gatewayapi:v1',
        stepWeight: 25,
        maxWeight: 50,
      }).replace(
        '  service: {port: 9898}',
        `  service: {port: 9898, gatewayRefs: [{name: public, namespace: ${NS}}]}`,
      ),
    );
    await stage.waitPhase('gw', ['Initialized'], 60_000);
    const stopLoad = generateLoad(stage, 'gw');
    const seen = new Set<number>();
    try {
      await stage.deployPodinfo('gw', '1.0.1');
      await waitFor(
        'gw promoted',
        async () => {
          const r = await route('gw');
          const canary = r?.spec.rules.at(-1)?.backendRefs.find((b) => b.name === 'gw-canary');
          if (canary) seen.add(canary.weight);
          const s = await stage.canary('gw');
          if (s.phase === 'Failed') throw new Error(JSON.stringify(s.conditions));
          return s.phase === 'Succeeded' ? s : undefined;
        },
        120_000,
      );
    } finally {
      await stopLoad();
    }
    assert.ok(seen.has(25) && seen.has(50), `weights seen ${[...seen].join(',')}`);
    const r = await route('gw');
    assert.deepEqual(
      r?.spec.rules.at(-1)?.backendRefs.map((b) => [b.name, b.weight]),
      [
        ['gw-primary', 100],
        ['gw-canary', 0],
      ],
    );
    const body = (await (await stage.plane.proxy.fetch(`http://gw.${NS}:9898/`)).json()) as {
      version: string;
    };
    assert.equal(body.version, '1.0.1');
  });

  it('blue/green: iterations without shifting weight, then the switch', async () => {
    await stage.deployPodinfo('bg', '1.0.0');
    await applyYaml(
      stage.api,
      testCanary({ name: 'bg', namespace: NS, provider: 'kubernetes', iterations: 3 }),
    );
    await stage.waitPhase('bg', ['Initialized'], 60_000);
    const stopLoad = generateLoad(stage, 'bg-canary');
    let maxWeight = 0;
    try {
      await stage.deployPodinfo('bg', '1.0.1');
      await waitFor(
        'bg promoted',
        async () => {
          const s = await stage.canary('bg');
          maxWeight = Math.max(maxWeight, s.canaryWeight ?? 0);
          if (s.phase === 'Failed') throw new Error(JSON.stringify(s.conditions));
          return s.phase === 'Succeeded' ? s : undefined;
        },
        120_000,
      );
    } finally {
      await stopLoad();
    }
    assert.equal(maxWeight, 0);
    const iterations = (await stage.decisions('bg')).filter((d) => d.reason === 'IterationCompleted');
    assert.equal(iterations.length, 2);
    const body = (await (await stage.plane.proxy.fetch(`http://bg.${NS}:9898/`)).json()) as {
      version: string;
    };
    assert.equal(body.version, '1.0.1');
  });

  it('A/B: requests with the header go to the canary while the analysis runs, the rest to the primary', async () => {
    await stage.deployPodinfo('ab', '1.0.0');
    await applyYaml(
      stage.api,
      testCanary({
        name: 'ab',
        namespace: NS,
        provider: 'gatewayapi:v1',
        iterations: 6,
        analysisExtra: '    match:\n      - headers:\n          x-canary: {exact: insider}\n',
      }),
    );
    await stage.waitPhase('ab', ['Initialized'], 60_000);
    const stopLoad = generateLoad(stage, 'ab', { 'x-canary': 'insider' });
    try {
      await stage.deployPodinfo('ab', '1.0.1');
      const r = await waitFor('the A/B rule', async () => {
        const x = await route('ab');
        return x?.spec.rules.length === 2 ? x : undefined;
      });
      assert.deepEqual(r.spec.rules[0]?.matches?.[0]?.headers, [
        { type: 'Exact', name: 'x-canary', value: 'insider' },
      ]);
      const versions = await waitFor('the proxy to follow the A/B rule', async () => {
        const insider = (await (
          await stage.plane.proxy.fetch(`http://ab.${NS}:9898/`, { headers: { 'x-canary': 'insider' } })
        ).json()) as { version: string };
        const other = (await (await stage.plane.proxy.fetch(`http://ab.${NS}:9898/`)).json()) as {
          version: string;
        };
        return insider.version === '1.0.1' ? [insider.version, other.version] : undefined;
      });
      assert.deepEqual(versions, ['1.0.1', '1.0.0']);
      await stage.waitPhase('ab', ['Succeeded'], 120_000);
    } finally {
      await stopLoad();
    }
    assert.equal((await route('ab'))?.spec.rules.length, 1);
  });
});
