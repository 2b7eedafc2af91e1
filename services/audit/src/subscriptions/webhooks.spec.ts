import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { connect } from '@nats-io/transport-node';
import { CDEVENT_SERVICE_DEPLOYED } from '@capstan/events';
import type { StartedService } from '@capstan/platform';
import { createTestDatabase, sharedCluster, type TestDatabase } from '@capstan/testing';
import { DecisionIngest } from '../ingest/decision-ingest.service.js';
import { startAudit } from '../service.js';
import { decisionEvent, deployment } from '../testing/decision-events.js';
import { testNatsUrl } from '../testing/env.js';
import { createKubeConfig } from '@capstan/kube';
import { verifySignature } from './signature.js';
import type { SubscriptionResource } from './subscription.js';

const crdFile = fileURLToPath(
  new URL('../../../../deploy/capstan/crds/capstan.dev_subscriptions.yaml', import.meta.url),
);

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Received {
  status: number;
  body: string;
  signature: string | undefined;
  ceId: string | undefined;
  ceType: string | undefined;
}

/** A real HTTP receiver on loopback; `failNext` answers that many requests with 500. */
async function receiver() {
  const received: Received[] = [];
  let failNext = 0;
  let alwaysFail = false;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = alwaysFail || failNext > 0 ? 500 : 200;
      if (failNext > 0) failNext--;
      received.push({
        status,
        body: Buffer.concat(chunks).toString('utf8'),
        signature: req.headers['x-capstan-signature'] as string | undefined,
        ceId: req.headers['ce-id'] as string | undefined,
        ceType: req.headers['ce-type'] as string | undefined,
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    accepted: () => received.filter((r) => r.status === 200),
    failFor: (n: number) => (failNext = n),
    setAlwaysFail: (v: boolean) => (alwaysFail = v),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

type Body = { id: string; subject: string; capstanseq: number; data: { action: string } };

void describe('webhook subscriptions', () => {
  let db: TestDatabase;
  let audit: StartedService;
  let base: string;
  let ingest: DecisionIngest;
  let k8s: KubernetesObjectApi;
  const ns = `subs-${randomBytes(3).toString('hex')}`;
  const prefix = `t-subs-${randomBytes(4).toString('hex')}`;
  const secret = 'hmac-key-for-tests';
  let n = 0;
  const record = async (sync: string, action: 'applied' | 'pruned' = 'applied') => {
    n++;
    await ingest.ingest(
      decisionEvent({
        id: `wh-${n}`,
        decidedAt: new Date(Date.UTC(2026, 10, 22, 12, 0, n)).toISOString(),
        action,
        changeSet: [{ ...deployment(`web-${sync}`), action: n % 2 ? 'created' : 'configured' }],
      }),
    );
    return `wh-${n}`;
  };
  // decisionEvent always decides as Sync flux-system/shop; vary the decider for two subjects.
  const recordAs = async (sync: string) => {
    n++;
    const event = decisionEvent({
      id: `wh-${n}`,
      decidedAt: new Date(Date.UTC(2026, 10, 22, 12, 0, n)).toISOString(),
      changeSet: [{ ...deployment(`web-${sync}`), action: 'configured' }],
    });
    await ingest.ingest({
      ...event,
      data: { ...event.data, decidedBy: { kind: 'Sync', namespace: 'flux-system', name: sync } },
    });
    return `wh-${n}`;
  };

  const subscription = async (name: string, url: string, extra: Record<string, unknown> = {}) => {
    await k8s.create({
      apiVersion: 'capstan.dev/v1alpha1',
      kind: 'Subscription',
      metadata: { name, namespace: ns },
      spec: { url, secretRef: { name: 'hook-secret' }, ...extra },
    } as KubernetesObject);
    return eventually(`Subscription ${name} Ready`, async () => {
      const s = (await k8s.read({
        apiVersion: 'capstan.dev/v1alpha1',
        kind: 'Subscription',
        metadata: { name, namespace: ns },
      })) as unknown as SubscriptionResource;
      return s.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? s : undefined;
    });
  };

  before(async () => {
    const { kubeconfigPath } = await sharedCluster();
    const kc = createKubeConfig(kubeconfigPath);
    k8s = KubernetesObjectApi.makeApiClient(kc);
    const crd = parse(await readFile(crdFile, 'utf8')) as KubernetesObject;
    try {
      await k8s.create(crd);
    } catch {
      await k8s.patch(crd, undefined, undefined, 'capstan-tests', true, 'application/apply-patch+yaml');
    }
    await eventually('the Subscription CRD to be served', async () => {
      try {
        await k8s.list('capstan.dev/v1alpha1', 'Subscription', 'default');
        return true;
      } catch {
        return undefined;
      }
    });
    await k8s.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await k8s.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'hook-secret', namespace: ns },
      stringData: { token: secret },
    } as KubernetesObject);
    db = await createTestDatabase();
    audit = await startAudit({
      DATABASE_URL: db.url,
      NATS_URL: testNatsUrl(),
      EVENT_PREFIX: prefix,
      HTTP_PORT: '0',
      HTTP_HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      KUBECONFIG: kubeconfigPath,
      AUDIT_AUTH: 'disabled',
      AUDIT_SUBSCRIPTIONS: 'enabled',
      // The decisions come from Syncs in flux-system, the Subscriptions live in their own namespace.
      ALLOW_CROSS_NAMESPACE_REFS: 'true',
      WEBHOOK_MAX_ATTEMPTS: '6',
      WEBHOOK_BACKOFF_BASE_MS: '20',
      WEBHOOK_BACKOFF_MAX_MS: '100',
      WEBHOOK_POLL_MS: '20',
      EVENTS_POLL_MS: '20',
      EVENTS_HEARTBEAT_MS: '200',
    });
    base = `http://127.0.0.1:${audit.port}`;
    ingest = audit.app.get(DecisionIngest);
  });
  after(async () => {
    await audit.close();
    await k8s.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
    await db.drop();
  });

  void it('delivers signed, in order per Sync, none twice, to a receiver that fails for a while', async () => {
    const hook = await receiver();
    try {
      await subscription('orders', hook.url);
      hook.failFor(5);
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) {
        ids.push(await recordAs('a'));
        ids.push(await recordAs('b'));
      }
      await eventually('all 8 accepted', () => (hook.accepted().length >= 8 ? true : undefined));
      assert.ok(hook.received.some((r) => r.status === 500));
      const accepted = hook.accepted();
      for (const r of accepted) {
        assert.ok(verifySignature(secret, r.body, r.signature), 'signature verifies');
        assert.ok(!verifySignature('another key', r.body, r.signature));
        const body = JSON.parse(r.body) as Body;
        assert.equal(r.ceId, body.id);
        assert.equal(r.ceType, 'dev.capstan.audit.decision.v1');
      }
      const bodies = accepted.map((r) => JSON.parse(r.body) as Body);
      assert.deepEqual(bodies.map((b) => b.id).sort(), [...ids].sort(), 'every decision once');
      for (const subject of ['Sync/flux-system/a', 'Sync/flux-system/b']) {
        const seqs = bodies.filter((b) => b.subject === subject).map((b) => b.capstanseq);
        assert.deepEqual(
          seqs,
          [...seqs].sort((x, y) => x - y),
          `${subject} in order`,
        );
      }
      const status = await eventually('status lastDelivered', async () => {
        const s = (await k8s.read({
          apiVersion: 'capstan.dev/v1alpha1',
          kind: 'Subscription',
          metadata: { name: 'orders', namespace: ns },
        })) as unknown as SubscriptionResource;
        return s.status?.lastDelivered && s.status.pending === 0 ? s.status : undefined;
      });
      assert.equal(status.deadLetters, 0);

      // Replay from a point in time: the decisions from the 5th on come again, in order.
      const since = new Date(Date.UTC(2026, 10, 22, 12, 0, n - 3)).toISOString();
      const before = hook.accepted().length;
      const res = await fetch(
        `${base}/api/v1/subscriptions/${ns}/orders/replay?since=${encodeURIComponent(since)}`,
        {
          method: 'POST',
        },
      );
      assert.equal(res.status, 202);
      assert.equal(((await res.json()) as { enqueued: number }).enqueued, 4);
      await eventually('replayed deliveries', () =>
        hook.accepted().length >= before + 4 ? true : undefined,
      );
      const replayed = hook
        .accepted()
        .slice(before)
        .map((r) => (JSON.parse(r.body) as Body).id);
      assert.deepEqual([...replayed].sort(), ids.slice(-4).sort());
    } finally {
      await hook.close();
    }
  });

  void it('dead-letters after the last attempt, shows it, and re-drives it', async () => {
    const hook = await receiver();
    try {
      await subscription('broken', hook.url, { filter: { actions: ['pruned'] } });
      hook.setAlwaysFail(true);
      await record('x', 'applied'); // filtered out
      const pruned = await record('x', 'pruned');
      type Deliveries = {
        items: { id: string; status: string; attempt: number; lastError: string | null }[];
      };
      const dead = await eventually('a dead letter', async () => {
        const page = (await (
          await fetch(`${base}/api/v1/subscriptions/${ns}/broken/deliveries?status=dead`)
        ).json()) as Deliveries;
        return page.items.length === 1 ? page.items[0] : undefined;
      });
      assert.equal(dead.attempt, 6);
      assert.equal(dead.lastError, 'HTTP 500');
      assert.equal(hook.received.length, 6);
      assert.ok(hook.received.every((r) => (JSON.parse(r.body) as Body).id === pruned));
      hook.setAlwaysFail(false);
      const res = await fetch(`${base}/api/v1/subscriptions/${ns}/broken/redrive`, { method: 'POST' });
      assert.deepEqual(await res.json(), { redriven: 1 });
      await eventually('the re-driven delivery', () => (hook.accepted().length === 1 ? true : undefined));
      assert.equal((JSON.parse(hook.accepted()[0]!.body) as Body).id, pruned);
    } finally {
      await hook.close();
    }
  });

  void it('sends CDEvents to cdevents subscriptions and publishes them on NATS', async () => {
    const nc = await connect({ servers: testNatsUrl() });
    const hook = await receiver();
    try {
      const sub = nc.subscribe(`${prefix}.cdevents.>`);
      await nc.flush();
      await subscription('cd', hook.url, { format: 'cdevents' });
      n++;
      await ingest.ingest(
        decisionEvent({ id: `wh-${n}`, changeSet: [{ ...deployment('fresh'), action: 'created' }] }),
      );
      await eventually('a CDEvent webhook', () => (hook.accepted().length === 1 ? true : undefined));
      const cd = JSON.parse(hook.accepted()[0]!.body) as { context: { type: string; id: string } };
      assert.equal(cd.context.type, CDEVENT_SERVICE_DEPLOYED);
      assert.equal(hook.accepted()[0]!.ceType, CDEVENT_SERVICE_DEPLOYED);
      for await (const m of sub) {
        if (m.json<{ context: { id: string } }>().context.id !== cd.context.id) continue;
        assert.equal(m.subject, `${prefix}.cdevents.dev.cdevents.service.deployed.0.2.0`);
        break;
      }
    } finally {
      await hook.close();
      await nc.drain();
    }
  });
});
