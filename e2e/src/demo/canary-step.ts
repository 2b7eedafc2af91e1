import { run as capstan } from '@capstan/cli';
import type { DataPlane } from '@capstan/testing';
import type { ObjectApi } from '@capstan/kube';
import { applyYaml, readObject } from '../support/kube.js';
import { podinfoDeployment } from '../support/canary-stage.js';
import { waitFor } from '../support/wait.js';

export const CANARY_DEMO_NAMESPACE = 'canary-demo';

/**
 * The demo's progressive delivery: a Canary for podinfo on the loopback data plane (podinfo
 * processes, HAProxy following the TrafficSplit, Prometheus scraping Linkerd-format metrics).
 * A new version is promoted step by step while traffic flows, each step printed as it happens,
 * then `capstan canary explain` tells the rollout from the audit log. A 2 s interval keeps it
 * to seconds (the analyzer runs with MIN_INTERVAL=1s here; Flagger's floor is 10 s).
 */
export async function showCanaryPromotion(
  say: (s: string) => void,
  api: ObjectApi,
  plane: DataPlane,
  audit: { url: string; token: string },
): Promise<void> {
  const ns = CANARY_DEMO_NAMESPACE;
  say(
    'progressive delivery: a Canary for podinfo (TrafficSplit 0 -> 25 -> 50 %, request-success-rate >= 99 %)',
  );
  await applyYaml(api, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`);
  await applyYaml(api, podinfoDeployment('podinfo', ns, '6.0.0'));
  await applyYaml(
    api,
    `apiVersion: capstan.dev/v1alpha1
kind: Canary
metadata: {name: podinfo, namespace: ${ns}}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  service: {port: 9898}
  analysis:
    interval: 2s
    threshold: 2
    # The first window after a step may hold no canary answers yet: Inconclusive, never a pass.
    inconclusiveLimit: 5
    stepWeight: 25
    maxWeight: 50
    metrics:
      - {name: request-success-rate, thresholdRange: {min: 99}, interval: 10s}
`,
  );
  const status = () =>
    readObject<{ status?: { phase?: string; canaryWeight?: number } }>(
      api,
      'capstan.dev/v1alpha1',
      'Canary',
      ns,
      'podinfo',
    ).then((c) => c?.status ?? {});
  await waitFor('the Canary initialized', async () =>
    (await status()).phase === 'Initialized' ? true : undefined,
  );
  say('podinfo 6.0.0 is the primary; now podinfo 6.0.1 arrives, with traffic flowing');
  const load = { running: true };
  const traffic = (async () => {
    while (load.running) {
      await plane.proxy
        .fetch(`http://podinfo.${ns}:9898/`)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const t0 = Date.now();
  try {
    await applyYaml(api, podinfoDeployment('podinfo', ns, '6.0.1'));
    let shown = '';
    const end = await waitFor(
      'podinfo 6.0.1 promoted',
      async () => {
        const s = await status();
        const line = `${s.phase ?? '?'}, canary weight ${s.canaryWeight ?? 0} %`;
        if (line !== shown)
          say(`  ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  ${(shown = line)}`);
        return s.phase === 'Succeeded' || s.phase === 'Failed' ? s.phase : undefined;
      },
      120_000,
    );
    if (end === 'Failed') throw new Error('the demo canary failed; see the canary-analyzer log');
  } finally {
    load.running = false;
    await traffic;
  }
  say(`promoted in ${((Date.now() - t0) / 1000).toFixed(1)} s; the rollout from the audit log:\n`);
  await waitFor('the promotion audited', async () => {
    const res = await fetch(`${audit.url}/api/v1/decisions?canary=${ns}/podinfo&action=canary.promoted`, {
      headers: { authorization: `Bearer ${audit.token}` },
    });
    return res.ok && ((await res.json()) as { items: unknown[] }).items.length > 0 ? true : undefined;
  });
  const code = await capstan(
    ['canary', 'explain', `${ns}/podinfo`],
    (s) => process.stdout.write(`${s}\n`),
    (s) => process.stderr.write(`${s}\n`),
    { CAPSTAN_TOKEN: audit.token, CAPSTAN_AUDIT_URL: audit.url },
  );
  if (code !== 0) throw new Error(`capstan canary explain exited ${code}`);
  process.stdout.write('\n');
}
