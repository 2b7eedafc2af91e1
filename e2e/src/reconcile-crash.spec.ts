import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FreezableProxy, sharedCluster } from '@capstan/testing';
import { GitWorkspace } from './support/git-workspace.js';
import { applyYaml, readObject } from './support/kube.js';
import { ProcessPlatform } from './support/process-platform.js';
import { repositoryAndSync } from './support/sync-yaml.js';
import { waitFor } from './support/wait.js';

// The reconciler is killed with SIGKILL in the middle of an apply (some objects of the commit
// written, most not), then started again as the same instance. The Sync it was applying is
// quarantined first (a commit that crashes the reconciler must not crash it on every restart),
// then applied, and that decision names every object of the commit as created, the ones the
// killed attempt wrote included: "who created this object" keeps its answer. Then its
// connection to the API server goes silent (a loopback proxy stops forwarding without closing):
// /readyz reports it while it lasts, and once the API server answers again the connection is
// replaced and reconciles go on.

interface Decision {
  action: string;
  changeSet: { kind: string; name: string; action: string }[];
}
interface SyncStatus {
  conditions?: { type: string; status: string; reason: string; message: string }[];
}

const COUNT = 150;

describe('a reconciler killed in the middle of an apply', () => {
  const id = randomBytes(4).toString('hex');
  const ns = `crash-${id}`;
  const name = `crash-${id}`;
  let platform: ProcessPlatform;
  let ws: GitWorkspace;
  let proxy: FreezableProxy;

  const ready = async () =>
    (
      await readObject<{ status?: SyncStatus }>(platform.api, 'capstan.dev/v1alpha1', 'Sync', 'default', name)
    )?.status?.conditions?.find((c) => c.type === 'Ready');
  const configMaps = async () => {
    const list = await platform.api.list('v1', 'ConfigMap', ns).catch(() => ({ items: [] }));
    return list.items.filter((o) => o.metadata?.name?.startsWith('cm-')).length;
  };

  before(async () => {
    const { kubeconfigPath } = await sharedCluster();
    const dir = await mkdtemp(join(tmpdir(), 'capstan-crash-'));
    const through = await FreezableProxy.forKubeconfig(kubeconfigPath, dir);
    proxy = through.proxy;
    platform = await ProcessPlatform.start({ CRASH_QUARANTINE: '3s' }, undefined, {
      reconciler: {
        KUBECONFIG: through.kubeconfigPath,
        API_PROBE_INTERVAL: '500ms',
        API_PROBE_TIMEOUT: '1s',
      },
    });
    ws = await GitWorkspace.create(join(platform.scratch, 'git'), 'app');
    const objects = Array.from(
      { length: COUNT },
      (_, i) =>
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-${String(i).padStart(3, '0')}, namespace: ${ns}}\ndata: {n: "${i}"}\n`,
    );
    await ws.write({
      'app/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
      'app/config-maps.yaml': objects.join('---\n'),
    });
    ws.commit(`Deploy ${COUNT} ConfigMaps`);
  });

  after(async () => {
    await platform.stop();
    await proxy.stop();
  });

  it('quarantines the Sync on restart, then credits the objects the killed attempt created', async () => {
    await applyYaml(platform.api, repositoryAndSync(name, ws.url, './app'));
    await waitFor(
      'the first ConfigMap written',
      async () => ((await configMaps()) > 0 ? true : undefined),
      90_000,
    );
    await platform.kill('reconciler');
    const writtenBeforeKill = await configMaps();
    assert.ok(
      writtenBeforeKill > 0 && writtenBeforeKill < COUNT,
      `killed in the middle of the apply (${writtenBeforeKill} of ${COUNT} written)`,
    );
    assert.equal((await readObject(platform.api, 'v1', 'Namespace', '', ns)) !== undefined, true);
    const before = await platform.auditGet<{ items: Decision[] }>(
      `/api/v1/decisions?action=applied&limit=50`,
    );
    assert.equal(before.items.length, 0, 'the killed attempt recorded no decision');

    await platform.startService('reconciler');
    const held = await waitFor('Ready=False Quarantined', async () => {
      const r = await ready();
      return r?.reason === 'Quarantined' ? r : undefined;
    });
    assert.equal(held.status, 'False');
    assert.match(held.message, /reconciler stopped during the last attempt at main@sha1:[0-9a-f]{12}/);

    const applied = await waitFor(
      'applied decision after the quarantine',
      async () =>
        (await platform.auditGet<{ items: Decision[] }>(`/api/v1/decisions?action=applied&limit=50`))
          .items[0],
      90_000,
    );
    const created = applied.changeSet.filter((c) => c.kind === 'ConfigMap' && c.action === 'created');
    assert.equal(
      created.length,
      COUNT,
      'every ConfigMap is credited as created, those the killed attempt wrote too',
    );
    assert.ok(applied.changeSet.some((c) => c.kind === 'Namespace' && c.action === 'created'));
    assert.equal(await configMaps(), COUNT);
    await waitFor('Ready=True', async () => ((await ready())?.status === 'True' ? true : undefined));
  });

  it('reports a silent API server connection on /readyz while it lasts, then replaces it', async () => {
    const readyz = async () => {
      const res = await fetch(`${platform.service('reconciler').url}/readyz`);
      return { status: res.status, body: await res.text() };
    };
    await waitFor('/readyz green', async () => ((await readyz()).status === 200 ? true : undefined));
    proxy.silenceNew = true;
    assert.ok(proxy.freezeOpen() > 0, "the reconciler's connections are open, and now silent");
    const down = await waitFor('/readyz failing its API server check', async () => {
      const r = await readyz();
      return r.status !== 200 && r.body.includes('API server not answering') ? r : undefined;
    });
    assert.match(down.body, /no answer to GET \/version within 1000 ms, nor to anything else/);
    proxy.silenceNew = false;
    await waitFor('/readyz green again', async () => ((await readyz()).status === 200 ? true : undefined));

    // Reconciles go on over the new connection: a new commit is applied.
    await ws.write({
      'app/after.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after-outage, namespace: ${ns}}\n`,
    });
    ws.commit('After the outage');
    await waitFor(
      'the next commit applied',
      () => readObject(platform.api, 'v1', 'ConfigMap', ns, 'after-outage'),
      90_000,
    );
  });
});
