import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FreezableProxy, sharedCluster } from '@capstan/testing';
import { ApiConnectionGuard, ObjectApi, createKubeConfig } from './index.js';

// Against the real kube-apiserver, through a loopback TCP proxy whose open connections can go
// silent (FreezableProxy): the guard notices, replaces the pool and reports it meanwhile.
describe('ApiConnectionGuard', () => {
  let proxy: FreezableProxy;
  let dir: string;
  let kubeconfig: string;

  before(async () => {
    const { kubeconfigPath } = await sharedCluster();
    dir = await mkdtemp(join(tmpdir(), 'capstan-guard-'));
    ({ proxy, kubeconfigPath: kubeconfig } = await FreezableProxy.forKubeconfig(kubeconfigPath, dir));
  });
  after(async () => {
    await proxy.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports a connection that went silent and replaces it; requests work again', async () => {
    const kc = createKubeConfig(kubeconfig);
    const api = ObjectApi.fromKubeConfig(kc);
    const warnings: string[] = [];
    const guard = new ApiConnectionGuard(kc, { intervalMs: 200, timeoutMs: 1_000 }, (m) => warnings.push(m));
    await api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    assert.equal(await guard.probe(), true);
    await guard.check();

    assert.ok(proxy.freezeOpen() > 0, 'the pooled connection is open, and now silent');
    const opened = proxy.opened;
    // A request on the silent connection would wait for ever; the guard's probe does not.
    const stuck = assert.rejects(
      api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }),
      'the request stuck on the silent connection fails once it is replaced',
    );
    assert.equal(await guard.probe(), false);
    await assert.rejects(
      guard.check(),
      /API server not answering since .*no answer to GET \/version within 1000 ms/,
    );
    await stuck;

    assert.equal(await guard.probe(), true, 'a fresh connection answers');
    await guard.check();
    assert.ok(proxy.opened > opened, 'a new connection was opened');
    const ns = await api.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    assert.equal(ns.metadata?.name, 'default');
    assert.equal(guard.replaced, 1);
    assert.ok(warnings.some((w) => /replaced/.test(w)) && warnings.some((w) => /answering again/.test(w)));
  });

  it('probes on its interval once started', async () => {
    const kc = createKubeConfig(kubeconfig);
    const guard = new ApiConnectionGuard(kc, { intervalMs: 100, timeoutMs: 1_000 });
    await guard.probe();
    proxy.freezeOpen();
    guard.start();
    try {
      for (let i = 0; i < 100 && guard.replaced === 0; i++) await new Promise((r) => setTimeout(r, 100));
      assert.equal(guard.replaced > 0, true, 'the silent connection was found without anyone asking');
      for (let i = 0; i < 100; i++) {
        if (
          await guard.check().then(
            () => true,
            () => false,
          )
        )
          break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await guard.check();
    } finally {
      guard.stop();
    }
  });
});
