import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import pg from 'pg';
import { startAudit } from '@capstan/audit';
import { topology } from '@capstan/events';
import { applyYaml, installCrds, objectApi, waitFor } from '@capstan/e2e';
import { connectBus } from '@capstan/messaging';
import { createTestDatabase, sharedCluster, testNatsUrl } from '@capstan/testing';
import { benchDecision } from './audit-ingest.js';
import { percentile, type BenchResult } from './harness.js';

const SUBSCRIBERS = 100;
const DECISIONS = 200;
const TARGET_PER_SECOND = 1_000;

/** A receiver on loopback that answers 200 and remembers when it first saw each event id. */
async function subscriber() {
  const firstSeen = new Map<string, number>();
  let requests = 0;
  const server: Server = createServer((req, res) => {
    const id = req.headers['ce-id'];
    req.resume();
    req.on('end', () => {
      requests++;
      if (typeof id === 'string' && !firstSeen.has(id)) firstSeen.set(id, performance.now());
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    firstSeen,
    requests: () => requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * Webhook fan-out throughput of one audit replica with its production settings: 100 Subscriptions
 * (each its own HTTP receiver on loopback, every decision matches every one), then 200 decisions
 * of 200 different Syncs published at once. Value: deliveries (decisions x subscribers, each a
 * signed POST answered 200) per second, from the first publish to the last delivery, so it
 * includes ingest, the fan-out into the outbox and the workers. Real API server (Subscriptions,
 * HMAC Secret), the machine's NATS and Postgres.
 */
export async function webhookFanout(): Promise<BenchResult> {
  const { kubeconfigPath } = await sharedCluster();
  const api = objectApi(kubeconfigPath);
  await installCrds(api);
  const id = randomBytes(3).toString('hex');
  const ns = `bench-fanout-${id}`;
  const prefix = `bench-fanout-${id}`;
  const db = await createTestDatabase();
  const bus = await connectBus({ url: testNatsUrl(), topology: topology(prefix), name: 'bench-fanout' });
  const receivers = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => subscriber()));
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const audit = await startAudit({
    DATABASE_URL: db.url,
    NATS_URL: testNatsUrl(),
    EVENT_PREFIX: prefix,
    HTTP_PORT: '0',
    HTTP_HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    KUBECONFIG: kubeconfigPath,
    AUDIT_AUTH: 'disabled',
    AUDIT_SUBSCRIPTIONS: 'enabled',
  });
  try {
    await applyYaml(
      api,
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: hook-key, namespace: ${ns}}\nstringData: {token: bench-key}\n`,
    );
    for (const [i, r] of receivers.entries())
      await applyYaml(
        api,
        `apiVersion: capstan.dev/v1alpha1\nkind: Subscription\nmetadata: {name: hook-${i}, namespace: ${ns}}\nspec: {url: "${r.url}", secretRef: {name: hook-key}}\n`,
      );
    await waitFor(
      `${SUBSCRIBERS} Subscriptions Ready`,
      async () => {
        const list = (await api.list('capstan.dev/v1alpha1', 'Subscription', ns)) as {
          items: { status?: { conditions?: { type: string; status: string }[] } }[];
        };
        const ready = list.items.filter((s) =>
          s.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        );
        return ready.length === SUBSCRIBERS ? true : undefined;
      },
      120_000,
    );

    const start = performance.now();
    const publishedAt = new Map<string, number>();
    await Promise.all(
      Array.from({ length: DECISIONS }, async (_, n) => {
        // n < 1000 keeps every decision's Sync distinct: no per-subject ordering holds any back.
        const event = benchDecision(n, prefix);
        publishedAt.set(event.id, performance.now());
        await bus.publish(event);
      }),
    );
    let recordedAt = 0;
    await waitFor(
      'every delivery',
      async () => {
        if (!recordedAt) {
          const n = (await client.query<{ n: string }>('SELECT count(*) AS n FROM decisions')).rows[0]?.n;
          if (Number(n) >= DECISIONS) recordedAt = performance.now();
        }
        return receivers.every((r) => r.firstSeen.size >= DECISIONS) ? true : undefined;
      },
      600_000,
    );
    const end = Math.max(...receivers.flatMap((r) => [...r.firstSeen.values()]));
    const seconds = (end - start) / 1_000;
    const deliveries = DECISIONS * SUBSCRIBERS;
    const rate = Math.round(deliveries / seconds);
    const latencies = receivers
      .flatMap((r) => [...r.firstSeen].map(([eventId, at]) => at - (publishedAt.get(eventId) ?? start)))
      .sort((a, b) => a - b);
    const requests = receivers.reduce((sum, r) => sum + r.requests(), 0);
    return {
      name: 'webhook-fanout',
      value: rate,
      unit: 'deliveries/s',
      target: `>= ${TARGET_PER_SECOND} deliveries/s`,
      details: [
        `${DECISIONS} decisions (200 different Syncs) published at once to ${SUBSCRIBERS} Subscriptions, each a Node HTTP receiver on 127.0.0.1 answering 200: **${deliveries} deliveries in ${seconds.toFixed(1)} s**, from the first publish to the last delivery (${requests - deliveries} repeated requests).`,
        `The decisions were all in the audit log ${((recordedAt - start) / 1_000).toFixed(1)} s after the first publish; decision to delivery latency p50 ${(percentile(latencies, 50) / 1_000).toFixed(1)} s, p99 ${(percentile(latencies, 99) / 1_000).toFixed(1)} s, max ${(percentile(latencies, 100) / 1_000).toFixed(1)} s.`,
        `One audit replica with the production defaults (WEBHOOK_CONCURRENCY 64, WEBHOOK_POLL_MS 250): ingest, the fan-out into the Postgres outbox, claiming with SKIP LOCKED, HMAC signing and the POSTs. Receivers, Postgres, NATS and the kube-apiserver share the machine's cores with it.`,
      ].join('\n\n'),
    };
  } finally {
    await audit.close();
    await api.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
    await Promise.all(receivers.map((r) => r.close()));
    await client.end();
    const t = topology(prefix);
    for (const s of [t.streams.events.name, t.streams.deadLetter.name])
      await bus.jsm.streams.delete(s).catch(() => undefined);
    await bus.close();
    await db.drop();
  }
}
