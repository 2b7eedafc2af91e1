import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sharedCluster, testEventPrefix, testNatsUrl } from '@capstan/testing';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseManifests } from '@capstan/gitops-core';
import { ObjectApi, createKubeConfig } from '@capstan/kube';
import { startCanaryAnalyzer } from './service.js';

/** The chart's capstan.dev Canary CRD, as the chart installs it. */
async function installCanaryCrd(kubeconfigPath: string): Promise<void> {
  const api = ObjectApi.fromKubeConfig(createKubeConfig(kubeconfigPath));
  const path = fileURLToPath(
    new URL('../../../deploy/capstan/crds/capstan.dev_canaries.yaml', import.meta.url),
  );
  for (const { object } of parseManifests([{ path, content: await readFile(path, 'utf8') }]))
    await api.applyRaw(object, { fieldManager: 'capstan-tests' });
}

// Boots the real service against the machine's NATS and the shared API server, and checks its probes and metrics over HTTP.
describe('canary-analyzer service', () => {
  it('boots, reports ready with NATS connected and the Canary watch synced, and serves metrics', async () => {
    const { kubeconfigPath } = await sharedCluster();
    await installCanaryCrd(kubeconfigPath);
    const service = await startCanaryAnalyzer({
      KUBECONFIG: kubeconfigPath,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      EVENT_PREFIX: testEventPrefix(),
      LOG_LEVEL: 'error',
      NATS_URL: testNatsUrl(),
    });
    try {
      const base = `http://127.0.0.1:${service.port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      // The Canary watch lists once the CRDs are served; readiness waits for it.
      let checks: unknown;
      for (let i = 0; i < 100; i++) {
        const ready = await fetch(`${base}/readyz`);
        checks = ((await ready.json()) as { checks: unknown }).checks;
        if (ready.status === 200) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.deepEqual(checks, { nats: 'ok', canaries: 'ok', 'api-server': 'ok' });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /process_cpu_seconds_total\{service="canary-analyzer"\}/);
      for (const name of [
        'capstan_canary_weight_percent',
        'capstan_canary_phase',
        'capstan_canary_verdicts_total',
      ])
        assert.match(metrics, new RegExp(`# TYPE ${name} `));
    } finally {
      await service.close();
    }
  });

  it('refuses to start with a bad setting, naming the variable', async () => {
    await assert.rejects(startCanaryAnalyzer({ HTTP_PORT: 'eighty' }), /HTTP_PORT/);
  });
});
