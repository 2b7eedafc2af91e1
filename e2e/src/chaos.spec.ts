import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { decodeEvent, topology } from '@capstan/events';
import { connectBus, type Bus } from '@capstan/messaging';
import {
  createTestDatabase,
  startLocalCluster,
  startPrivatePostgres,
  type LocalCluster,
  type PrivatePostgres,
  type TestDatabase,
} from '@capstan/testing';
import { AutomatedImage } from './support/automated-image.js';
import { SyncFleet } from './support/sync-fleet.js';
import { readObject } from './support/kube.js';
import { waitFor } from './support/wait.js';
import type { Replica } from './support/replicas.js';

// The chaos suite: `kill -9` each service at each step that matters, a NATS node, Postgres and
// the API server, one platform shared by every case (its own API server, 3-node NATS cluster
// with streams at 3 replicas, private Postgres). A replica started with TEST_PAUSE_AT stops
// still at the named step and prints a marker; the test kills it there. After each case the
// Syncs converge on the last commit and the audit log holds every decision published exactly
// once, its chain verified. The canary-analyzer's kill between a weight change and its decision
// is in canary-resilience.spec.ts (its analyzer kills itself right after each step is recorded,
// before the TrafficSplit follows and before the decision is published, for every phase of a
// promotion and a rollback; each decision once, the chain verified), on the data plane and
// Prometheus a Canary needs.
const SYNCS = 12;

describe('chaos: kill -9 at every step, and the system converges', { timeout: 900_000 }, () => {
  let cluster: LocalCluster;
  let clusterDir: string;
  let postgres: PrivatePostgres;
  let db: TestDatabase;
  let fleet: SyncFleet;
  let bus: Bus;
  let audits: Replica[] = [];

  before(async () => {
    clusterDir = mkdtempSync(join(tmpdir(), 'capstan-chaos-cluster-'));
    cluster = await startLocalCluster({ dir: clusterDir });
    postgres = await startPrivatePostgres();
    db = await createTestDatabase({ serverUrl: postgres.url });
    fleet = await SyncFleet.start({
      syncs: SYNCS,
      natsCluster: true,
      kubeconfigPath: cluster.kubeconfigPath,
      env: { SHARD_LEASE_SECONDS: '3', DATABASE_URL: db.url, AUDIT_AUTH: 'disabled', RETRY_BASE_MS: '200' },
    });
    bus = await connectBus({
      url: fleet.env['NATS_URL']!,
      topology: topology(fleet.env['EVENT_PREFIX'], { replicas: 3 }),
      name: 'chaos-observer',
    });
    audits = [await fleet.replicas.start('audit'), await fleet.replicas.start('audit')];
    await fleet.replicas.start('git-watcher');
    await fleet.replicas.start('reconciler');
    await fleet.allReady(fleet.revision, 120_000);
    await auditHoldsEveryDecisionOnce();
  });
  after(async () => {
    await bus.close().catch(() => undefined);
    await fleet.stop();
    await db.drop().catch(() => undefined);
    await postgres.destroy();
    await cluster.stop();
    rmSync(clusterDir, { recursive: true, force: true });
  });

  /** Every decision event in the stream, by id (read again if a NATS node is away meanwhile). */
  function publishedDecisions(): Promise<Set<string>> {
    return waitFor('the decisions in the stream', () => readDecisions().catch(() => undefined), 60_000);
  }

  async function readDecisions(): Promise<Set<string>> {
    const t = bus.topology;
    const consumer = await bus.js.consumers.get(t.streams.events.name, {
      filter_subjects: t.filter('decisions'),
    });
    const ids = new Set<string>();
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 1000, expires: 1000 });
      let n = 0;
      for await (const m of batch) {
        n++;
        ids.add(decodeEvent(m.data).id);
      }
      if (n === 0) break;
    }
    return ids;
  }

  async function query<R extends pg.QueryResultRow>(sql: string): Promise<R[]> {
    const client = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query<R>(sql)).rows;
    } finally {
      await client.end();
    }
  }

  async function auditHoldsEveryDecisionOnce(): Promise<void> {
    const published = await publishedDecisions();
    assert.ok(published.size > 0);
    const recorded = await waitFor(
      `all ${published.size} decisions in the audit log`,
      async () => {
        const rows = await query<{ event_id: string }>('SELECT event_id FROM decisions');
        const ids = new Set(rows.map((r) => r.event_id));
        return [...published].every((id) => ids.has(id)) ? rows : undefined;
      },
      90_000,
    );
    assert.equal(
      recorded.length,
      new Set(recorded.map((r) => r.event_id)).size,
      'no decision recorded twice',
    );
    assert.equal(recorded.length, published.size, 'nothing recorded that was not published');
    const live = fleet.replicas.live('audit')[0];
    assert.ok(live, 'an audit replica is running');
    const verify = (await (await fetch(`${live.url}/api/v1/audit/verify`)).json()) as {
      ok: boolean;
      checked: number;
    };
    assert.deepEqual(verify, { ok: true, checked: recorded.length }, 'the chain verifies');
  }

  /** The Syncs on the last commit, their objects as it says, and the audit log complete. */
  async function converged(): Promise<void> {
    await fleet.allReady(fleet.revision, 120_000);
    for (const name of fleet.names) {
      const cm = await readObject<{ data?: Record<string, string> }>(
        fleet.api,
        'v1',
        'ConfigMap',
        fleet.ns,
        name,
      );
      assert.equal(cm?.data?.['round'], String(fleet.round), `${name} at round ${fleet.round}`);
      const extra = await readObject(fleet.api, 'v1', 'ConfigMap', fleet.ns, `${name}-extra`);
      assert.equal(extra !== undefined, fleet.extra, `${name}-extra ${fleet.extra ? 'applied' : 'pruned'}`);
    }
    await auditHoldsEveryDecisionOnce();
  }

  /** Starts a replica that stops at `step`, makes it get there, and kills it there. */
  async function killAt(
    service: string,
    step: string,
    cause: (victim: Replica) => Promise<unknown>,
  ): Promise<Replica> {
    const victim = await fleet.replicas.start(
      service,
      { TEST_PAUSE_AT: step, TEST_PAUSE_MS: '120000' },
      false,
    );
    // Its share first, then the cause: a commit applied before it joined would write nothing
    // for it to stop in (a step may also come sooner, in the reconcile of a shard it gained).
    await Promise.race([fleet.replicas.logged(victim, /took shards/), fleet.replicas.atStep(victim, step)]);
    await cause(victim);
    await fleet.replicas.atStep(victim, step, 60_000);
    await fleet.replicas.kill(victim);
    return victim;
  }

  const reconcilerSteps = [
    'reconciler.run-start',
    'reconciler.planned',
    'reconciler.applying',
    'reconciler.finishing',
    'reconciler.deciding',
  ];
  for (const step of reconcilerSteps)
    for (const extra of [true, false])
      it(`reconciler killed at ${step} (${extra ? 'objects added' : 'objects pruned'})`, async () => {
        await killAt('reconciler', step, () => fleet.commit(extra));
        await converged();
      });

  it('reconciler killed at reconciler.applying twice in a row (its replacement too)', async () => {
    await killAt('reconciler', 'reconciler.applying', () => fleet.commit(true));
    await killAt('reconciler', 'reconciler.applying', () => fleet.commit(true));
    await converged();
  });

  it('every reconciler killed at once, then one started', async () => {
    await fleet.commit(false);
    for (const r of fleet.replicas.live('reconciler')) await fleet.replicas.kill(r);
    await fleet.replicas.start('reconciler');
    await converged();
  });

  for (const extra of [true, false])
    it(`git-watcher killed between fetch and publish (${extra ? 'objects added' : 'objects pruned'})`, async () => {
      // One repository, so one shard: the victim gets it when the running git-watcher leaves.
      await killAt('git-watcher', 'git-watcher.fetched', async (victim) => {
        await fleet.commit(extra);
        for (const g of fleet.replicas.live('git-watcher')) if (g !== victim) await g.process.stop();
      });
      await fleet.replicas.start('git-watcher');
      await converged();
    });

  for (const step of ['audit.batch-inserted', 'audit.batch-committed'] as const)
    it(`audit killed in the middle of a batch (${step === 'audit.batch-inserted' ? 'rows written, not committed' : 'committed, not acked'})`, async () => {
      // The victim alone on the shared durable consumer, so the commit's decisions are its batches.
      for (const r of fleet.replicas.live('audit')) await r.process.stop();
      const victim = await fleet.replicas.start(
        'audit',
        { TEST_PAUSE_AT: step, TEST_PAUSE_MS: '120000' },
        false,
      );
      await fleet.commit(step === 'audit.batch-inserted');
      await fleet.replicas.atStep(victim, step, 60_000);
      await fleet.replicas.kill(victim);
      // Its transaction rolled back with its connection, or its rows stay and their redelivery
      // (after the consumer's ack wait) finds them recorded: either way each decision once.
      audits.push(await fleet.replicas.start('audit'), await fleet.replicas.start('audit'));
      await converged();
    });

  it('registry-watcher killed between the automation commit and the push', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'capstan-chaos-images-'));
    const images = await AutomatedImage.start(fleet, dir, ['1.0.0']);
    try {
      const victim = await fleet.replicas.start(
        'registry-watcher',
        { TEST_PAUSE_AT: 'registry-watcher.committed', TEST_PAUSE_MS: '120000' },
        false,
      );
      await waitFor('the first tag applied', async () =>
        (await images.imageApplied()) === `${images.image}:1.0.0` ? true : undefined,
      );
      images.push('1.1.0');
      await fleet.replicas.atStep(victim, 'registry-watcher.committed', 60_000);
      await fleet.replicas.kill(victim);
      // Committed in the victim's clone, never pushed.
      assert.deepEqual(images.automationCommits(), []);
      assert.equal(images.imageOnBranch(), `${images.image}:1.0.0`);

      // The replacement runs the automation when it starts (or when the push the victim never
      // acked is redelivered): the update is committed and pushed once, then applied.
      const replacement = await fleet.replicas.start('registry-watcher');
      await waitFor(
        'the new tag applied',
        async () => ((await images.imageApplied()) === `${images.image}:1.1.0` ? true : undefined),
        150_000,
      );
      assert.equal(images.imageOnBranch(), `${images.image}:1.1.0`);
      assert.equal(images.automationCommits().length, 1, images.automationCommits().join('; '));
      await converged();
      await replacement.process.stop();
    } finally {
      await images.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an audit replica killed while decisions flow', async () => {
    await fleet.commit(true);
    await waitFor('the first decision of the commit', async () =>
      (await fleet.notReady()).length < SYNCS ? true : undefined,
    );
    const [victim] = fleet.replicas.live('audit');
    await fleet.replicas.kill(victim!);
    audits.push(await fleet.replicas.start('audit'));
    await converged();
  });

  it('both audit replicas killed, then started again', async () => {
    await fleet.commit(false);
    for (const r of fleet.replicas.live('audit')) await fleet.replicas.kill(r);
    await new Promise((r) => setTimeout(r, 1_000));
    audits.push(await fleet.replicas.start('audit'), await fleet.replicas.start('audit'));
    await converged();
  });

  it('the NATS stream leader killed while a commit is applied, then restarted', async () => {
    const nats = fleet.nats!;
    const leader = (await bus.jsm.streams.info(bus.topology.streams.events.name)).cluster?.leader;
    const index = nats.nodes.findIndex((n) => n.name === leader);
    assert.ok(index >= 0);
    await fleet.commit(true);
    await nats.kill(index);
    await converged();
    await nats.start(index);
    await fleet.commit(false);
    await converged();
  });

  it('a NATS follower killed, a commit applied without it, then restarted', async () => {
    const nats = fleet.nats!;
    const info = await bus.jsm.streams.info(bus.topology.streams.events.name);
    const index = nats.nodes.findIndex((n) => n.name !== info.cluster?.leader);
    await nats.kill(index);
    try {
      await fleet.commit(true);
      await converged();
    } finally {
      await nats.start(index);
    }
  });

  it('Postgres killed with kill -9 while decisions flow, then started again', async () => {
    await fleet.commit(false);
    const pid = Number(readFileSync(join(postgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    // Its backends notice the postmaster's death and exit; until then a start finds them.
    await waitFor('Postgres started again', () => postgres.start().then(() => true), 60_000);
    await converged();
  });

  it('the kube-apiserver killed with kill -9 while a commit is applied, then started again', async () => {
    await fleet.commit(true);
    await cluster.killApiserver();
    await new Promise((r) => setTimeout(r, 3_000));
    await cluster.startApiserver();
    await converged();
  });
});
