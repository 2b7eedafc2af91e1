import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as capstan } from '@capstan/cli';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

// The audit API as a platform user meets it: with a Kubernetes token, asking what runs in a
// namespace and who put it there, following one deploy, exporting the log, using the CLI.
const ada: Person = { name: 'Ada Lovelace', email: 'ada@example.com' };
const grace: Person = { name: 'Grace Hopper', email: 'grace@example.com' };

interface Running {
  name: string;
  kind: string;
  revision: string | null;
  lastApplied: {
    revision: string | null;
    objectAction: string;
    actor: { name: string };
    correlationId: string | null;
  };
}
interface Decision {
  seq: number;
  action: string;
  correlationId: string | null;
  source: { sha: string } | null;
}

void describe('audit API with Kubernetes auth', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `e2e-audit-${id}`;
  const name = `audit-${id}`;
  let platform: Platform;
  let repo: GitRepo;

  const app = (withConfig: boolean) => ({
    'deploy/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
    'deploy/web.yaml': `apiVersion: v1
kind: ConfigMap
metadata: {name: web, namespace: ${ns}}
data: {color: blue}
`,
    'deploy/extra.yaml': withConfig
      ? `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: ${ns}}\n`
      : null,
  });
  const running = () => platform.auditGet<{ items: Running[] }>(`/api/v1/running?namespace=${ns}`);
  /** waitFor, but a timeout says what the log held: the decisions of this Sync. */
  const waitForLog = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> => {
    try {
      return await waitFor(what, probe);
    } catch (e) {
      const log = await platform.auditGet<{ items: unknown[] }>(`/api/v1/decisions?sync=default/${name}`);
      throw new Error(`${String(e)}; decisions: ${JSON.stringify(log.items)}`, { cause: e });
    }
  };

  before(async () => {
    platform = await Platform.start();
    repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-audit-${id}`));
  });
  after(async () => {
    await platform.stop();
    await repo.remove();
  });

  void it('says what runs in a namespace and who put it there, leaving out what was pruned', async () => {
    await repo.write(app(true));
    const first = repo.commit('Add web and extra', ada);
    await applyYaml(platform.api, repositoryAndSync(name, repo.url, './deploy', 'prune: true'));
    const before = await waitForLog('both ConfigMaps in the log', async () => {
      const r = await running();
      return r.items.length === 2 ? r : undefined;
    });
    assert.deepEqual(
      before.items.map((o) => [o.name, o.revision, o.lastApplied.actor.name]),
      [
        ['extra', `main@sha1:${first}`, ada.name],
        ['web', `main@sha1:${first}`, ada.name],
      ],
    );

    await repo.write(app(false));
    const second = repo.commit('Drop extra', grace);
    const after = await waitForLog('extra pruned in the log', async () => {
      const r = await running();
      return r.items.length === 1 && r.items[0]?.revision === `main@sha1:${second}` ? r : undefined;
    });
    // web was unchanged by the second commit: it runs that commit, but Ada put it there.
    const [web] = after.items;
    assert.equal(web?.name, 'web');
    assert.equal(web.lastApplied.revision, `main@sha1:${first}`);
    assert.equal(web.lastApplied.actor.name, ada.name);

    const bySync = await platform.auditGet<{ items: Running[] }>(`/api/v1/running?sync=default/${name}`);
    assert.deepEqual(bySync.items.map((o) => `${o.kind}/${o.name}`).sort(), [
      'ConfigMap/web',
      'Namespace/' + ns,
    ]);
  });

  void it('follows one deploy by its correlation id and exports the log as NDJSON and CSV', async () => {
    const page = await platform.auditGet<{ items: Decision[] }>(
      `/api/v1/decisions?sync=default/${name}&limit=500`,
    );
    const latest = page.items[0];
    assert.ok(latest?.correlationId, 'decisions carry a correlation id');
    const timeline = await platform.auditGet<{ steps: (Decision & { step: number })[] }>(
      `/api/v1/timeline/${encodeURIComponent(latest.correlationId)}`,
    );
    assert.ok(timeline.steps.length >= 1);
    assert.deepEqual(
      timeline.steps.map((s) => s.step),
      timeline.steps.map((_, i) => i + 1),
    );
    assert.ok(timeline.steps.every((s) => s.correlationId === latest.correlationId));

    const headers = { authorization: `Bearer ${platform.auditToken}` };
    const ndjson = await fetch(`${platform.auditUrl}/api/v1/decisions?sync=default/${name}`, {
      headers: { ...headers, accept: 'application/x-ndjson' },
    });
    const lines = (await ndjson.text()).trimEnd().split('\n');
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as Decision).seq),
      page.items.map((d) => d.seq),
    );
    const csv = await (
      await fetch(`${platform.auditUrl}/api/v1/decisions?sync=default/${name}&format=csv`, { headers })
    ).text();
    assert.equal(csv.split('\r\n').length, page.items.length + 2);

    // Without a token: refused. The docs stay readable.
    assert.equal((await fetch(`${platform.auditUrl}/api/v1/decisions`)).status, 401);
    assert.equal((await fetch(`${platform.auditUrl}/api/docs-json`)).status, 200);
  });

  void it('shows the history in the CLI with the token from CAPSTAN_TOKEN, and fails clearly without it', async () => {
    const out: string[] = [];
    const code = await capstan(
      ['history', '--namespace', ns, '--actor', grace.email],
      (s) => out.push(s),
      (s) => out.push(s),
      platform.cliEnv,
    );
    assert.equal(code, 0, out.join('\n'));
    assert.match(out.join('\n'), /^TIME\s+ACTION\s+OUTCOME\s+OBJECTS/);
    assert.match(out.join('\n'), /Grace Hopper <grace@example.com>/);
    assert.doesNotMatch(out.join('\n'), /Ada Lovelace/);

    const errors: string[] = [];
    const denied = await capstan(
      ['history', '--server', platform.auditUrl],
      () => undefined,
      (s) => errors.push(s),
      {},
    );
    assert.equal(denied, 1);
    assert.match(errors.join('\n'), /401 from \/api\/v1\/decisions: a bearer token is required/);
  });
});
