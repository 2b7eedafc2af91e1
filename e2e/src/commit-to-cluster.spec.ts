import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { run as capstan } from '@capstan/cli';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { GitRepo, type Person } from './support/git-repo.js';
import { applyYaml, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

// The foundation's thin path, end to end against the real API server, NATS and Postgres:
// a pushed commit lands in the cluster and the audit API (and CLI) say who deployed it.
const grace: Person = { name: 'Grace Hopper', email: 'grace@example.com' };
const linus: Person = { name: 'Linus Example', email: 'linus@example.com' };

interface HistoryItem {
  action: string;
  objectAction: string | null;
  revision: string | null;
  sha: string | null;
  commitMessage: string | null;
  author: Person | null;
  committer: Person | null;
}
interface DecisionItem {
  id: string;
  action: string;
  outcome: string;
  reason: string;
  message: string;
}

describe('commit to cluster, audited', () => {
  const id = randomBytes(3).toString('hex');
  const ns = `e2e-${id}`; // where the app goes
  const name = `app-${id}`; // the GitRepository and the Sync, in namespace default
  let platform: Platform;
  let repo: GitRepo;
  let resources: CapstanResources;

  const manifests = (replicas: number, greeting = 'hello') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ${ns}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config, namespace: ${ns}}
data: {greeting: ${greeting}}
`;
  const configMap = (n: string) => readObject(platform.api, 'v1', 'ConfigMap', ns, n);
  const readySync = (status: 'True' | 'False', reason?: string) =>
    waitFor(`Sync Ready=${status}${reason ? ` (${reason})` : ''}`, async () => {
      const s = await resources.get('Sync', 'default', name);
      const ready = s.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === status && (!reason || ready.reason === reason) ? s : undefined;
    });
  const applied = (sha: string) =>
    waitFor(`Sync applied ${sha.slice(0, 8)}`, async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAppliedRevision === `main@sha1:${sha}` ? s : undefined;
    });
  const decisionsOf = async (sha: string) =>
    (
      await platform.auditGet<{ items: DecisionItem[] }>(
        `/api/v1/decisions?revision=${encodeURIComponent(`main@sha1:${sha}`)}&limit=500`,
      )
    ).items;

  before(async () => {
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-repo-${id}`));
  });
  after(async () => {
    await platform.stop();
    await repo.remove();
  });

  it('deploys a pushed commit and answers who deployed it, from the API and the CLI', async () => {
    await repo.write({
      'deploy/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
      'deploy/app.yaml': manifests(2),
    });
    const sha = repo.commit('Deploy web with two replicas', grace, linus);
    await applyYaml(platform.api, repositoryAndSync(name, repo.url, './deploy'));

    const deployment = await waitFor('Deployment web in the cluster', () =>
      readObject<{ spec: { replicas: number } }>(platform.api, 'apps/v1', 'Deployment', ns, 'web'),
    );
    assert.equal(deployment.spec.replicas, 2);
    // kwok runs the pods, so the Deployment really becomes Available.
    await waitFor('Deployment Available', async () => {
      const d = await readObject<{ status?: { availableReplicas?: number } }>(
        platform.api,
        'apps/v1',
        'Deployment',
        ns,
        'web',
      );
      return d?.status?.availableReplicas === 2 ? true : undefined;
    });
    const sync = await readySync('True');
    assert.equal(sync.status?.lastAppliedRevision, `main@sha1:${sha}`);
    assert.equal(sync.status.inventory?.entries.length, 3);

    const history = await waitFor('history of the Deployment', async () => {
      const h = await platform.auditGet<{ items: HistoryItem[] }>(
        `/api/v1/objects/${ns}/Deployment/web/history`,
      );
      return h.items.length > 0 ? h.items : undefined;
    });
    const latest = history[0]!;
    assert.equal(latest.sha, sha);
    assert.equal(latest.revision, `main@sha1:${sha}`);
    assert.equal(latest.objectAction, 'created');
    assert.equal(latest.commitMessage, 'Deploy web with two replicas');
    assert.deepEqual(latest.author, grace);
    assert.deepEqual(latest.committer, linus);

    // The decision is a row in Postgres, exactly once.
    const client = new pg.Client({ connectionString: platform.db.url });
    await client.connect();
    try {
      const rows = await client.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM decisions WHERE source_sha = $1',
        [sha],
      );
      assert.equal(rows.rows[0]?.n, '1');
    } finally {
      await client.end();
    }

    const out: string[] = [];
    const code = await capstan(
      ['who', `${ns}/Deployment/web`, '--server', platform.auditUrl],
      (s) => out.push(s),
      (s) => out.push(s),
      platform.cliEnv,
    );
    assert.equal(code, 0, out.join('\n'));
    assert.match(out.join('\n'), /Grace Hopper <grace@example.com>/);
    assert.match(out.join('\n'), new RegExp(`main@sha1:${sha.slice(0, 12)}`));
  });

  it('applies nothing of a commit with malformed YAML, names the file, and recovers on the next good commit', async () => {
    await repo.write({
      'deploy/extra.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: ${ns}}\ndata: {a: b}\n`,
      'deploy/broken.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok, namespace: ${ns}}\n---\nkind: [unclosed\n`,
    });
    const bad = repo.commit('Add extra config (broken)', grace);
    const failed = await readySync('False', 'BuildFailed');
    assert.match(
      failed.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '',
      /deploy\/broken\.yaml \(document 2\)/,
    );
    assert.ok(failed.status?.conditions?.some((c) => c.type === 'Stalled' && c.status === 'True'));
    const decision = await waitFor('failed decision', async () =>
      (await decisionsOf(bad)).find((d) => d.action === 'failed'),
    );
    assert.equal(decision.reason, 'BuildFailed');
    assert.match(decision.message, /deploy\/broken\.yaml/);
    assert.equal(await configMap('extra'), undefined, 'nothing of the broken commit was applied');

    await repo.write({ 'deploy/broken.yaml': null });
    const good = repo.commit('Fix: drop the broken file', grace);
    await applied(good);
    assert.ok(await configMap('extra'));
    await readySync('True');
  });

  it('applies nothing of a commit the API server rejects, and shows its message', async () => {
    await repo.write({
      'deploy/more.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: more, namespace: ${ns}}\ndata: {a: b}\n`,
      'deploy/app.yaml': manifests(2).replace('replicas: 2', 'replicas: "three"'),
    });
    const bad = repo.commit('Scale to three (wrong type)', grace);
    const failed = await readySync('False', 'ApplyFailed');
    const message = failed.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
    assert.match(message, new RegExp(`${ns}/Deployment/web \\(deploy/app\\.yaml, document 1\\)`));
    assert.match(message, /replicas/);
    const decision = await waitFor('failed decision', async () =>
      (await decisionsOf(bad)).find((d) => d.action === 'failed'),
    );
    assert.equal(decision.reason, 'ApplyFailed');
    assert.equal(await configMap('more'), undefined, 'the valid object of the rejected set was not applied');

    await repo.write({ 'deploy/app.yaml': manifests(3) });
    const good = repo.commit('Scale to three', grace);
    await applied(good);
    assert.ok(await configMap('more'));
    const d = await readObject<{ spec: { replicas: number } }>(
      platform.api,
      'apps/v1',
      'Deployment',
      ns,
      'web',
    );
    assert.equal(d?.spec.replicas, 3);
  });

  it('loses and doubles no decision when the audit service restarts while decisions flow', async () => {
    const shas: string[] = [];
    for (let i = 1; i <= 6; i++) {
      if (i === 3) await platform.stopAudit();
      await repo.write({ 'deploy/app.yaml': manifests(3, `v${i}`) });
      const sha = repo.commit(`Greeting v${i}`, grace);
      await applied(sha);
      shas.push(sha);
      if (i === 5) await platform.startAudit();
    }
    for (const sha of shas) {
      const decisions = await waitFor(`decision for ${sha.slice(0, 8)}`, async () => {
        const d = await decisionsOf(sha);
        return d.length > 0 ? d : undefined;
      });
      assert.equal(decisions.length, 1, `exactly one decision for ${sha}`);
      assert.equal(decisions[0]?.action, 'applied');
    }
    const verify = await platform.auditGet<{ ok: boolean }>('/api/v1/audit/verify');
    assert.equal(verify.ok, true);
  });

  it('retries an unreachable repository with backoff and shows it in status, without crashing', async () => {
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: GitRepository
metadata: {name: ${name}-missing, namespace: default}
spec: {url: "file:///nonexistent/${id}.git", interval: 1m}
`,
    );
    const repoStatus = await waitFor('GitRepository not ready', async () => {
      const r = await resources.get('GitRepository', 'default', `${name}-missing`);
      const ready = r.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'False' ? ready : undefined;
    });
    assert.equal(repoStatus.reason, 'GitOperationFailed');
    assert.match(repoStatus.message, /nonexistent.*does not appear to be a git repository/);
    // Retried with backoff (from 200 ms) well before the 1m interval, and the platform stays up.
    await waitFor(
      'three failed polls',
      async () => {
        const metrics = await (await fetch(`${platform.gitWatcherUrl}/metrics`)).text();
        const failed = Number(
          /capstan_git_polls_total\{result="failed"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0,
        );
        return failed >= 3 ? failed : undefined;
      },
      10_000,
    );
    assert.equal((await fetch(`${platform.gitWatcherUrl}/readyz`)).status, 200);
    assert.equal((await fetch(`${platform.auditUrl}/healthz`)).status, 200);
  });
});
