import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadRegistryWatcherConfig, startRegistryWatcher } from './index.js';

// Booting against a cluster, NATS and a registry is covered end to end (e2e/src/image-*.spec.ts).
describe('registry-watcher configuration', () => {
  it('refuses to start with a bad setting, naming the variable', async () => {
    await assert.rejects(startRegistryWatcher({ HTTP_PORT: 'eighty' }), /HTTP_PORT/);
    assert.throws(
      () => loadRegistryWatcherConfig({ REGISTRY_WEBHOOK_TOKEN: 'short' }),
      /REGISTRY_WEBHOOK_TOKEN/,
    );
    assert.throws(() => loadRegistryWatcherConfig({ REGISTRY_RPS: '-1' }), /REGISTRY_RPS/);
  });

  it('defaults to Flux v1 request budgets and a bot author', () => {
    const c = loadRegistryWatcherConfig({});
    assert.deepEqual(
      [c.REGISTRY_RPS, c.REGISTRY_BURST, c.AUTOMATION_AUTHOR_NAME, c.AUTOMATION_AUTHOR_EMAIL],
      [200, 125, 'Capstan', 'capstan@capstan.dev'],
    );
  });
});
