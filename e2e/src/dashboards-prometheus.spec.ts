// Dashboards and alerts against a real Prometheus (Debian's prometheus and promtool): the
// chart's alert rules pass `promtool check rules` and their unit tests, Prometheus scrapes the
// running Capstan services (git-watcher, reconciler, audit in process; registry-watcher and
// canary-analyzer as processes) and loads the rules, and every query of every Grafana dashboard
// in the chart returns series once Capstan has done some work: a deploy, a failed commit, a
// webhook delivery, a hand change corrected as drift, image and canary decisions, a chain
// verification, an ImageRepository scanned on a registry that sends Docker Hub's RateLimit
// headers, and a real Canary driven by the canary-analyzer on the loopback data plane (its
// weight, phase, failed checks and verdicts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAudit } from '@capstan/audit';
import { decisionEvent } from '@capstan/audit/testing';
import { topology } from '@capstan/events';
import { PatchStrategy } from '@kubernetes/client-node';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import { connectBus, type Bus } from '@capstan/messaging';
import type { StartedService } from '@capstan/platform';
import { PagingRegistry, startDataPlane, type DataPlane } from '@capstan/testing';
import { podinfoDeployment, testCanary } from './support/canary-stage.js';
import { GitRepo, type Person } from './support/git-repo.js';
import { chartDir, renderChart, run } from './support/helm.js';
import { applyYaml, installFlaggerCrds, readObject } from './support/kube.js';
import { Platform } from './support/platform.js';
import { spawnService, type ServiceProcess } from './support/processes.js';
import { repositoryAndSync } from './support/sync-yaml.js';
import { waitFor } from './support/wait.js';

const ada: Person = { name: 'Ada Lovelace', email: 'ada@example.com' };
const rulesDir = join(chartDir, 'rules');
const dashboardsDir = join(chartDir, 'dashboards');

interface Dashboard {
  uid: string;
  title: string;
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

/** A panel's query as Prometheus runs it: Grafana's variables at their "All" values. */
const runnable = (expr: string): string =>
  expr.replaceAll('$__rate_interval', '1m').replaceAll('$__range', '5m').replaceAll('$namespace', '.*');

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

async function loadDashboards(): Promise<Dashboard[]> {
  const files = (await readdir(dashboardsDir)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (f) => JSON.parse(await readFile(join(dashboardsDir, f), 'utf8')) as Dashboard),
  );
}

describe('dashboards and alerts in a real Prometheus', { timeout: 600_000 }, () => {
  const id = randomBytes(3).toString('hex');
  const name = `dash-${id}`;
  const appNs = `e2e-dash-${id}`;
  const canaryNs = `e2e-dash-canary-${id}`;
  let platform: Platform;
  let audit: StartedService | undefined;
  const others: ServiceProcess[] = [];
  let bus: Bus | undefined;
  let repo: GitRepo;
  let scratch: string;
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  let receiver: Server | undefined;
  let registry: PagingRegistry | undefined;
  let plane: DataPlane | undefined;

  const promQuery = async (expr: string): Promise<unknown[]> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
    return body.data?.result ?? [];
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'capstan-e2e-dash-'));
    platform = await Platform.start();
    const resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    await platform.stopAudit();
    audit = await startAudit({
      ...platform.env,
      AUDIT_SUBSCRIPTIONS: 'enabled',
      AUDIT_VERIFY_INTERVAL_MS: '2000',
      WEBHOOK_POLL_MS: '50',
    });
    // A registry that answers with Docker Hub's rate-limit headers, for the registry panels.
    registry = await PagingRegistry.start({
      tags: (repository) => (repository === 'team/web' ? ['1.0.0', '1.1.0'] : undefined),
      pageCap: 100,
      rateLimit: { limit: 100, remaining: 42, windowSeconds: 21600 },
    });
    // The canary's data plane: podinfo pods as processes, HAProxy and the Prometheus it judges by.
    await installFlaggerCrds(platform.api);
    await applyYaml(platform.api, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${canaryNs}}\n`);
    plane = await startDataPlane(platform.kubeconfigPath, [canaryNs]);
    others.push(await spawnService('registry-watcher', await freePort(), platform.env, scratch));
    // Only this file's Canary: other specs on the shared cluster run analyzers of their own.
    others.push(
      await spawnService(
        'canary-analyzer',
        await freePort(),
        {
          ...platform.env,
          WATCH_NAMESPACES: canaryNs,
          METRICS_SERVER: plane.prometheus.url,
          MIN_INTERVAL: '1s',
          LEASE_SECONDS: '6',
        },
        scratch,
      ),
    );

    // A webhook receiver, so deliveries are counted.
    receiver = createServer((req, res) => req.resume().on('end', () => res.writeHead(200).end()));
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const hookPort = (receiver.address() as { port: number }).port;

    // Prometheus scraping every service each second, with the chart's rules.
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const targets = [
      platform.gitWatcherUrl,
      platform.reconcilerUrl,
      `http://127.0.0.1:${audit.port}`,
      ...others.map((o) => o.url),
    ].map((u) => new URL(u).host);
    await writeFile(
      join(scratch, 'prometheus.yml'),
      JSON.stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [join(rulesDir, 'capstan-alerts.yaml')],
        scrape_configs: [{ job_name: 'capstan', static_configs: [{ targets }] }],
      }),
    );
    prometheus = spawn(
      '/usr/bin/prometheus',
      [
        `--config.file=${join(scratch, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(scratch, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: 'ignore' },
    );
    await waitFor('Prometheus ready', async () =>
      (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok ? true : undefined,
    );

    // Work for the panels: a deploy, a failed commit, a delivery, image and canary decisions.
    await applyYaml(
      platform.api,
      `apiVersion: v1
kind: Namespace
metadata: {name: ${appNs}}
---
apiVersion: capstan.dev/v1alpha1
kind: Subscription
metadata: {name: all, namespace: ${appNs}}
spec: {url: "http://127.0.0.1:${hookPort}/hook"}
`,
    );
    repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-dash-${id}`));
    await repo.write({
      'deploy/app.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: greeting, namespace: ${appNs}}\ndata: {greeting: hello}\n`,
    });
    const sha = repo.commit('Deploy the greeting', ada);
    await applyYaml(platform.api, repositoryAndSync(name, repo.url, './deploy'));
    await waitFor('Sync applied', async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAppliedRevision === `main@sha1:${sha}` ? s : undefined;
    });
    // A hand change, so drift is detected and corrected.
    await platform.api.patch(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'greeting', namespace: appNs },
        data: { greeting: 'changed by hand' },
      },
      undefined,
      undefined,
      'kubectl-edit',
      undefined,
      PatchStrategy.MergePatch,
    );
    await waitFor('drift corrected', async () => {
      const cm = await platform.api
        .read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'greeting', namespace: appNs } })
        .catch(() => undefined);
      return (cm as { data?: Record<string, string> } | undefined)?.data?.['greeting'] === 'hello'
        ? true
        : undefined;
    });
    // An ImageRepository scanned every few seconds: requests, scans and the rate limit.
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: ImageRepository
metadata: {name: web, namespace: ${appNs}}
spec: {image: ${registry.host}/team/web, interval: 5s}
`,
    );
    // A real Canary: initialized on podinfo 1.0.0, then a new revision starts its analysis.
    await applyYaml(platform.api, podinfoDeployment('web', canaryNs, '1.0.0'));
    await applyYaml(platform.api, testCanary({ name: 'web', namespace: canaryNs }));
    await waitFor(
      'the Canary initialized',
      async () => {
        const c = await readObject<{ status?: { phase?: string } }>(
          platform.api,
          'flagger.app/v1beta1',
          'Canary',
          canaryNs,
          'web',
        );
        return c?.status?.phase === 'Initialized' ? true : undefined;
      },
      90_000,
    );
    await applyYaml(platform.api, podinfoDeployment('web', canaryNs, '1.0.1'));
    await repo.write({ 'deploy/broken.yaml': 'kind: [unclosed\n' });
    repo.commit('Break the build', ada);
    bus = await connectBus({
      url: platform.env['NATS_URL'] ?? 'nats://127.0.0.1:4222',
      topology: topology(platform.env['EVENT_PREFIX']),
      name: 'e2e-dash',
    });
    const actions = [
      'image.updated',
      'canary.started',
      'canary.check-failed',
      'canary.promoted',
      'canary.rolled-back',
    ] as const;
    for (const [i, action] of actions.entries())
      await bus.publish(
        decisionEvent({
          id: `dash-${id}-${i}`,
          action,
          commit: 100 + i,
          sync: { namespace: appNs, name: `app-${i}` },
        }),
      );
    await bus.publish(
      decisionEvent({
        id: `dash-${id}-failed`,
        action: 'image.updated',
        outcome: 'failed',
        commit: 200,
        sync: { namespace: appNs, name: 'img' },
      }),
    );
  });

  after(async () => {
    prometheus?.kill('SIGTERM');
    await bus?.close();
    for (const o of others) await o.stop();
    await plane?.stop();
    await registry?.stop();
    await audit?.close();
    receiver?.closeAllConnections();
    receiver?.close();
    await platform.stop();
    await repo.remove();
    for (const kind of ['Sync', 'GitRepository'])
      await platform.api
        .delete({ apiVersion: 'capstan.dev/v1alpha1', kind, metadata: { name, namespace: 'default' } })
        .catch(() => undefined);
    for (const ns of [appNs, canaryNs])
      await platform.api
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
        .catch(() => undefined);
    await rm(scratch, { recursive: true, force: true });
  });

  it('the alert rules are valid and pass their unit tests (promtool)', async () => {
    const check = await run('promtool', ['check', 'rules', join(rulesDir, 'capstan-alerts.yaml')]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /SUCCESS: 7 rules found/);
    const test = await run('promtool', ['test', 'rules', join(rulesDir, 'capstan-alerts.test.yaml')]);
    assert.equal(test.code, 0, test.stdout + test.stderr);
  });

  it('Prometheus loads every rule and evaluates them against the scraped services', async () => {
    const rules = await waitFor('every rule evaluated', async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
        data: { groups: { name: string; rules: { name: string; health: string }[] }[] };
      };
      const all = body.data.groups.flatMap((g) => g.rules);
      return all.length === 7 && all.every((r) => r.health === 'ok') ? all : undefined;
    });
    assert.deepEqual(rules.map((r) => r.name).sort(), [
      'CapstanAuditChainBroken',
      'CapstanAuditChainNotVerified',
      'CapstanConsumerLagGrowing',
      'CapstanDeadLetters',
      'CapstanRegistryRateLimited',
      'CapstanSyncNotReady',
      'CapstanWebhookDeliveriesDead',
    ]);
    const targets = await waitFor('the five services scraped', async () => {
      const body = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as {
        data: { activeTargets: { health: string; scrapeUrl: string }[] };
      };
      const up = body.data.activeTargets.filter((t) => t.health === 'up');
      return up.length === 5 ? up : undefined;
    });
    assert.deepEqual(
      targets.map((t) => new URL(t.scrapeUrl).pathname),
      ['/metrics', '/metrics', '/metrics', '/metrics', '/metrics'],
    );
  });

  it('the chart ships each dashboard as a grafana_dashboard ConfigMap and the rules as a PrometheusRule', async () => {
    const objects = await renderChart(['--set', 'prometheusRule.enabled=true']);
    const dashboards = await loadDashboards();
    const maps = objects.filter(
      (o) => o.kind === 'ConfigMap' && o.metadata.labels?.['grafana_dashboard'] === '1',
    );
    assert.equal(maps.length, dashboards.length);
    for (const d of dashboards) {
      const map = maps.find((m) =>
        Object.values((m['data'] as Record<string, string> | undefined) ?? {}).some((v) =>
          v.includes(`"uid": "${d.uid}"`),
        ),
      );
      assert.ok(map, `a ConfigMap carries dashboard ${d.uid}`);
      const json = Object.values(map['data'] as Record<string, string>)[0]!;
      assert.equal((JSON.parse(json) as Dashboard).title, d.title, 'the JSON survives templating intact');
    }
    const rule = objects.find((o) => o.kind === 'PrometheusRule');
    const groups = (rule?.['spec'] as { groups: { rules: unknown[] }[] } | undefined)?.groups ?? [];
    assert.equal(groups.flatMap((g) => g.rules).length, 7);
  });

  it('fires an alert: a decision the audit service gives up on raises CapstanDeadLetters', async () => {
    // Postgres text cannot hold a NUL byte: the audit consumer fails this decision on every
    // delivery and dead-letters it; the dead-letter gauge goes from 0 to 1 and the rule fires.
    await bus!.publish(
      decisionEvent({
        id: `dash-${id}-poison`,
        action: 'image.updated',
        message: 'bad \u0000 byte',
        commit: 300,
        sync: { namespace: appNs, name: 'poison' },
      }),
    );
    const alert = await waitFor(
      'CapstanDeadLetters firing',
      async () => {
        const body = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as {
          data: { alerts: { labels: Record<string, string>; state: string }[] };
        };
        return body.data.alerts.find(
          (a) => a.labels['alertname'] === 'CapstanDeadLetters' && a.state === 'firing',
        );
      },
      90_000,
    );
    assert.equal(alert.labels['severity'], 'warning');
    assert.match(alert.labels['consumer'] ?? '', /audit/);
  });

  for (const file of [
    'capstan-syncs',
    'capstan-backbone',
    'capstan-audit',
    'capstan-images',
    'capstan-rollouts',
  ])
    it(`every panel of ${file} returns series`, async () => {
      const dashboard = (await loadDashboards()).find((d) => d.uid === file);
      assert.ok(dashboard, `${file}.json is in the chart`);
      const queries = dashboard.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({ panel: p.title, expr: runnable(t.expr) })),
      );
      assert.ok(queries.length > 0);
      // Each variable's choices too (Grafana's label_values(<selector>, <label>)).
      for (const v of dashboard.templating.list.filter((t) => t.type === 'query')) {
        const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
        const m = /^label_values\((.+),\s*(\w+)\)$/.exec(q);
        assert.ok(m, `${file}: variable ${v.name} is label_values(<selector>, <label>): ${q}`);
        const values = await waitFor(`values for variable ${v.name} of ${file}`, async () => {
          const url = `${promUrl}/api/v1/label/${m[2]}/values?match[]=${encodeURIComponent(m[1] ?? '')}`;
          const body = (await (await fetch(url)).json()) as { data: string[] };
          return body.data.length > 0 ? body.data : undefined;
        });
        assert.ok(values.length > 0);
      }
      const missing = new Map(queries.map((q) => [q.expr, q.panel]));
      await waitFor(
        `series for every panel of ${file}`,
        async () => {
          for (const [expr] of missing) if ((await promQuery(expr)).length > 0) missing.delete(expr);
          return missing.size === 0 ? true : undefined;
        },
        120_000,
      ).catch((e: unknown) => {
        throw new Error(
          `panels without series: ${[...missing].map(([e, p]) => `${p}: ${e}`).join('; ')} (${String(e)})`,
        );
      });
    });
});
