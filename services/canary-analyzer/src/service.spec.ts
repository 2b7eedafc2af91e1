import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testEventPrefix, testNatsUrl } from '@capstan/testing';
import { startCanaryAnalyzer } from './service.js';

// Boots the real service against the machine's NATS and checks its probes and metrics over HTTP.
describe('canary-analyzer service', () => {
  it('boots, reports ready with NATS connected, and serves metrics', async () => {
    const service = await startCanaryAnalyzer({
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      EVENT_PREFIX: testEventPrefix(),
      LOG_LEVEL: 'error',
      NATS_URL: testNatsUrl(),
    });
    try {
      const base = `http://127.0.0.1:${service.port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      const ready = await fetch(`${base}/readyz`);
      assert.equal(ready.status, 200);
      assert.deepEqual(((await ready.json()) as { checks: unknown }).checks, { nats: 'ok' });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      assert.match(metrics, /process_cpu_seconds_total\{service="canary-analyzer"\}/);
    } finally {
      await service.close();
    }
  });

  it('refuses to start with a bad setting, naming the variable', async () => {
    await assert.rejects(startCanaryAnalyzer({ HTTP_PORT: 'eighty' }), /HTTP_PORT/);
  });
});
