// Webhook subscriptions end to end: a pushed commit is deployed by the git-watcher and the
// reconciler, the audit service records the decision and delivers it, signed, to the URL of a
// Subscription applied to the real API server. The audit service runs as a ServiceAccount that
// has nothing but the explicit rules of the Helm chart's ClusterRole, so the chart's RBAC for
// subscriptions is proven too.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startAudit } from '@capstan/audit';
import { CapstanResources, createKubeConfig } from '@capstan/kube';
import type { StartedService } from '@capstan/platform';
import { GitRepo, type Person } from './support/git-repo.js';
import { renderChart, type K8sObject } from './support/helm.js';
import { applyYaml } from './support/kube.js';
import { Platform } from './support/platform.js';
import { waitFor } from './support/wait.js';
import { repositoryAndSync } from './support/sync-yaml.js';

const grace: Person = { name: 'Grace Hopper', email: 'grace@example.com' };
const HMAC_KEY = 'e2e-subscription-key';

interface Delivery {
  status: number;
  body: string;
  signature: string | undefined;
  ceId: string | undefined;
  ceType: string | undefined;
}
interface DecisionBody {
  id: string;
  type: string;
  subject: string;
  capstanseq: number;
  data: {
    action: string;
    actor: { name: string; email: string | null };
    source: { sha: string; author: { name: string; email: string } } | null;
  };
}

/**
 * A webhook receiver on a fixed loopback port: `up` answers 200, `unavailable` answers 503, and
 * `stop()` closes the port so deliveries get connection refused.
 */
class Receiver {
  readonly deliveries: Delivery[] = [];
  private server: Server | undefined;
  private answer = 200;

  private constructor(readonly port: number) {}

  static async start(): Promise<Receiver> {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((r) => probe.close(() => r()));
    const receiver = new Receiver(port);
    await receiver.up(200);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  accepted(): DecisionBody[] {
    return this.deliveries.filter((d) => d.status === 200).map((d) => JSON.parse(d.body) as DecisionBody);
  }

  async up(answer: number): Promise<void> {
    this.answer = answer;
    if (this.server) return;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.deliveries.push({
          status: this.answer,
          body: Buffer.concat(chunks).toString('utf8'),
          signature: req.headers['x-capstan-signature'] as string | undefined,
          ceId: req.headers['ce-id'] as string | undefined,
          ceType: req.headers['ce-type'] as string | undefined,
        });
        res.writeHead(this.answer).end();
      });
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** A kubeconfig for `serviceAccount`: the admin kubeconfig's cluster, a fresh token of the account. */
async function serviceAccountKubeconfig(
  adminKubeconfig: string,
  namespace: string,
  serviceAccount: string,
  dir: string,
): Promise<string> {
  const admin = createKubeConfig(adminKubeconfig);
  const { status } = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster();
  if (!cluster || !status?.token) throw new Error('no cluster or no token for the ServiceAccount');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: serviceAccount, token: status.token }],
    contexts: [{ name: 'audit', cluster: cluster.name, user: serviceAccount }],
    currentContext: 'audit',
  });
  const path = join(dir, 'audit-kubeconfig');
  await writeFile(path, kc.exportConfig(), { mode: 0o600 });
  return path;
}

describe('webhook subscriptions, end to end', { timeout: 300_000 }, () => {
  const id = randomBytes(3).toString('hex');
  const appNs = `e2e-subs-app-${id}`;
  const hookNs = `e2e-subs-hooks-${id}`;
  const release = `subs-${id}`;
  const releaseNs = `e2e-subs-release-${id}`;
  const name = `subs-${id}`; // the GitRepository and the Sync, in namespace default
  let platform: Platform;
  let audit: StartedService | undefined;
  let repo: GitRepo;
  let receiver: Receiver;
  let resources: CapstanResources;
  let scratch: string;
  let rbac: K8sObject[] = [];

  const commitAndApply = async (greeting: string): Promise<string> => {
    await repo.write({
      'deploy/app.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: greeting, namespace: ${appNs}}\ndata: {greeting: ${greeting}}\n`,
    });
    const sha = repo.commit(`Greeting ${greeting}`, grace);
    await waitFor(`Sync applied ${sha.slice(0, 8)}`, async () => {
      const s = await resources.get('Sync', 'default', name);
      return s.status?.lastAppliedRevision === `main@sha1:${sha}` ? s : undefined;
    });
    return sha;
  };

  before(async () => {
    platform = await Platform.start();
    resources = new CapstanResources(createKubeConfig(platform.kubeconfigPath));
    repo = await GitRepo.create(join(tmpdir(), `capstan-e2e-subs-${id}`));
    scratch = await mkdtemp(join(tmpdir(), 'capstan-e2e-subs-'));
    receiver = await Receiver.start();

    // The chart's ClusterRole without its wildcard rules (rbac.clusterAdmin), so what the audit
    // service can do is exactly the explicit rules the chart lists, bound as the chart binds it.
    const rendered = await renderChart([], release, releaseNs);
    const role = rendered.find((o) => o.kind === 'ClusterRole' && o.metadata.name === `${release}-capstan`);
    const binding = rendered.find(
      (o) => o.kind === 'ClusterRoleBinding' && o.metadata.name === `${release}-capstan`,
    );
    assert.ok(role && binding, 'the chart renders its ClusterRole and ClusterRoleBinding');
    const rules = (
      role['rules'] as { apiGroups?: string[]; resources?: string[]; nonResourceURLs?: string[] }[]
    ).filter((r) => !r.nonResourceURLs && !r.apiGroups?.includes('*') && !r.resources?.includes('*'));
    assert.ok(rules.some((r) => r.resources?.includes('subscriptions/status')));
    rbac = [{ ...role, rules }, binding];
    const serviceAccount = rendered.find((o) => o.kind === 'ServiceAccount');
    assert.ok(serviceAccount);
    await applyYaml(platform.api, `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${releaseNs}}\n`);
    for (const o of [serviceAccount, ...rbac])
      await platform.api.applyRaw(o, { fieldManager: 'capstan-tests' });

    await applyYaml(
      platform.api,
      `apiVersion: v1
kind: Namespace
metadata: {name: ${hookNs}}
---
apiVersion: v1
kind: Secret
metadata: {name: hook-key, namespace: ${hookNs}}
stringData: {token: ${HMAC_KEY}}
`,
    );

    // This test's audit service: subscriptions on, fast retries, and only the chart's RBAC.
    await platform.stopAudit();
    audit = await startAudit({
      ...platform.env,
      KUBECONFIG: await serviceAccountKubeconfig(
        platform.kubeconfigPath,
        releaseNs,
        serviceAccount.metadata.name,
        scratch,
      ),
      AUDIT_AUTH: 'disabled',
      AUDIT_SUBSCRIPTIONS: 'enabled',
      // The Subscription lives in its own namespace and follows a Sync in `default`: a
      // cross-namespace reference, which this installation allows (off by default).
      ALLOW_CROSS_NAMESPACE_REFS: 'true',
      WEBHOOK_MAX_ATTEMPTS: '100',
      WEBHOOK_BACKOFF_BASE_MS: '100',
      WEBHOOK_BACKOFF_MAX_MS: '1000',
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_TIMEOUT_MS: '2000',
    });
  });

  after(async () => {
    await audit?.close();
    await receiver.stop();
    await platform.stop();
    await repo.remove();
    await rm(scratch, { recursive: true, force: true });
    for (const o of rbac) await platform.api.delete(o).catch(() => undefined);
    for (const ns of [appNs, hookNs, releaseNs])
      await platform.api
        .delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
        .catch(() => undefined);
  });

  it('delivers the signed CloudEvent of a deploy, naming the commit author', async () => {
    await applyYaml(
      platform.api,
      `apiVersion: capstan.dev/v1alpha1
kind: Subscription
metadata: {name: deploys, namespace: ${hookNs}}
spec:
  url: ${receiver.url}
  filter: {actions: [applied], syncs: [default/${name}]}
  secretRef: {name: hook-key}
`,
    );
    const ready = await waitFor('Subscription Ready', async () => {
      const s = (await platform.api.read({
        apiVersion: 'capstan.dev/v1alpha1',
        kind: 'Subscription',
        metadata: { name: 'deploys', namespace: hookNs },
      })) as { status?: { conditions?: { type: string; status: string; message: string }[] } };
      return s.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    });
    assert.ok(ready);

    await repo.write({
      'deploy/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${appNs}}\n`,
    });
    await applyYaml(platform.api, repositoryAndSync(name, repo.url, './deploy'));
    const sha = await commitAndApply('hello');

    const delivery = await waitFor('the webhook for the deploy', () =>
      receiver.deliveries.find(
        (d) => d.status === 200 && (JSON.parse(d.body) as DecisionBody).data.source?.sha === sha,
      ),
    );
    const expected = `sha256=${createHmac('sha256', HMAC_KEY).update(delivery.body).digest('hex')}`;
    assert.equal(delivery.signature, expected, 'X-Capstan-Signature is the HMAC of the exact body');
    const body = JSON.parse(delivery.body) as DecisionBody;
    assert.equal(body.type, 'dev.capstan.audit.decision.v1');
    assert.equal(delivery.ceType, body.type);
    assert.equal(delivery.ceId, body.id);
    assert.equal(body.subject, `Sync/default/${name}`);
    assert.equal(body.data.action, 'applied');
    assert.deepEqual(body.data.source?.author, grace);
    assert.equal(body.data.actor.name, grace.name);
    assert.equal(body.data.actor.email, grace.email);
  });

  it('delivers every decision, in order, once the receiver is back from refusing and 503s', async () => {
    const before = receiver.accepted().length;
    await receiver.stop(); // connection refused
    const shas = [await commitAndApply('one'), await commitAndApply('two')];
    await waitFor('a delivery refused', async () => {
      const page = (await (
        await fetch(
          `http://127.0.0.1:${audit!.port}/api/v1/subscriptions/${hookNs}/deploys/deliveries?status=pending`,
        )
      ).json()) as { items: { attempt: number; lastError: string | null }[] };
      return page.items.some((d) => d.attempt > 0 && d.lastError) ? true : undefined;
    });
    await receiver.up(503);
    shas.push(await commitAndApply('three'));
    await waitFor('503 answers', () =>
      receiver.deliveries.filter((d) => d.status === 503).length >= 3 ? true : undefined,
    );
    await receiver.up(200);

    const accepted = await waitFor('the three deliveries after the outage', () => {
      const late = receiver.accepted().slice(before);
      return late.length >= 3 ? late : undefined;
    });
    assert.deepEqual(
      accepted.map((b) => b.data.source?.sha),
      shas,
      'each commit delivered once, in commit order',
    );
    const seqs = accepted.map((b) => b.capstanseq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );
    assert.equal(
      new Set(receiver.accepted().map((b) => b.id)).size,
      receiver.accepted().length,
      'none twice',
    );

    const status = await waitFor('Subscription status caught up', async () => {
      const s = (await platform.api.read({
        apiVersion: 'capstan.dev/v1alpha1',
        kind: 'Subscription',
        metadata: { name: 'deploys', namespace: hookNs },
      })) as {
        status?: { pending?: number; deadLetters?: number; lastDelivered?: { eventId: string } };
      };
      return s.status?.pending === 0 && s.status.lastDelivered?.eventId === accepted.at(-1)?.id
        ? s.status
        : undefined;
    });
    assert.equal(status.deadLetters, 0);
  });
});
