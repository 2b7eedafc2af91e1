import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, RbacAuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startService, type StartedService } from '@capstan/platform';
import { createTestDatabase, sharedCluster, type TestDatabase } from '@capstan/testing';
import { AuditModule } from '../audit.module.js';
import { DecisionIngest } from '../ingest/decision-ingest.service.js';
import { manualClock } from '../testing/audit-database.js';
import { decisionEvent, deployment, fixedIds } from '../testing/decision-events.js';
import type { AccessReviewer, Caller, Scope } from './access.js';
import { CachingReviewer } from './caching-reviewer.js';
import { createKubeConfig } from '@capstan/kube';
import { KubernetesReviewer } from './kubernetes-reviewer.js';

/** Polls until `probe` returns a value (RBAC changes reach the authorizer's cache a moment later). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Counts the calls that reach the API server, to see what the cache saves. */
class CountingReviewer implements AccessReviewer {
  authentications = 0;
  reviews = 0;
  constructor(private readonly inner: AccessReviewer) {}
  authenticate(token: string): Promise<Caller | null> {
    this.authentications++;
    return this.inner.authenticate(token);
  }
  allowed(caller: Caller, scope: Scope): Promise<boolean> {
    this.reviews++;
    return this.inner.allowed(caller, scope);
  }
}

void describe('who may read the audit log (real kube-apiserver)', () => {
  const suffix = randomBytes(3).toString('hex');
  const home = `audit-auth-${suffix}`;
  const teamA = `team-a-${suffix}`;
  const teamB = `team-b-${suffix}`;
  const readerRole = `capstan-audit-reader-${suffix}`;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let rbac: RbacAuthorizationV1Api;
  let db: TestDatabase;
  let service: StartedService;
  let base: string;
  const tokens: Record<'nobody' | 'teamA' | 'cluster', string> = { nobody: '', teamA: '', cluster: '' };

  const get = async (path: string, token?: string) => {
    const res = await fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return {
      status: res.status,
      header: res.headers.get('www-authenticate'),
      body: await res.json(),
    };
  };
  const names = (body: unknown) =>
    (body as { items: { targets: { namespace: string }[] }[] }).items.map((d) => d.targets[0]?.namespace);

  /** The data of the first decision a stream sends, read as team-a's reader; then hangs up. */
  async function firstStreamedDecision(path: string): Promise<string> {
    const controller = new AbortController();
    const res = await fetch(base + path, {
      headers: { authorization: `Bearer ${tokens.teamA}` },
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended before a decision');
        buffer += decoder.decode(value as Uint8Array | undefined, { stream: true });
        const data = /^event: decision\ndata: (.*)\n\n/m.exec(buffer)?.[1];
        if (data) return data;
      }
    } finally {
      controller.abort();
    }
  }

  async function serviceAccountToken(name: string): Promise<string> {
    await core.createNamespacedServiceAccount({ namespace: home, body: { metadata: { name } } });
    const request = await core.createNamespacedServiceAccountToken({
      name,
      namespace: home,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const token = request.status?.token;
    assert.ok(token, `TokenRequest for ${name} returned no token`);
    return token;
  }

  before(async () => {
    const { kubeconfigPath } = await sharedCluster();
    kc = createKubeConfig(kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    for (const name of [home, teamA, teamB]) await core.createNamespace({ body: { metadata: { name } } });

    // The reader role as the Helm chart ships it (capstan-audit-reader), under a private name.
    await rbac.createClusterRole({
      body: {
        metadata: { name: readerRole },
        rules: [{ apiGroups: ['audit.capstan.dev'], resources: ['decisions'], verbs: ['get'] }],
      },
    });
    tokens.nobody = await serviceAccountToken('nobody');
    tokens.teamA = await serviceAccountToken('team-a-dev');
    tokens.cluster = await serviceAccountToken('auditor');
    const subject = (name: string) => [{ kind: 'ServiceAccount', name, namespace: home }];
    await rbac.createNamespacedRoleBinding({
      namespace: teamA,
      body: {
        metadata: { name: 'audit-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: readerRole },
        subjects: subject('team-a-dev'),
      },
    });
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: readerRole },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: readerRole },
        subjects: subject('auditor'),
      },
    });

    db = await createTestDatabase();
    service = await startService(
      AuditModule.forRoot({
        databaseUrl: db.url,
        clock: manualClock(),
        ids: fixedIds(),
        // No caching here: RBAC is being set up while the tests start asking.
        kube: { kubeconfigPath },
        auth: { mode: 'kubernetes', cacheTtlMs: 0 },
      }),
      { HTTP_PORT: 0, HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    );
    base = `http://127.0.0.1:${service.port}`;
    const ingest = service.app.get(DecisionIngest);
    let n = 0;
    for (const ns of [teamA, teamB]) {
      n++;
      await ingest.ingest(
        decisionEvent({
          id: `ev-${n}`,
          commit: n,
          changeSet: [{ ...deployment('web', ns), action: 'created' }],
        }),
      );
    }
  });

  after(async () => {
    await service.close();
    await db.drop();
    await rbac.deleteClusterRoleBinding({ name: readerRole });
    await rbac.deleteClusterRole({ name: readerRole });
    for (const name of [home, teamA, teamB]) await core.deleteNamespace({ name });
  });

  void it('answers 401 with a Bearer challenge without a token, and for a token the API server rejects', async () => {
    const none = await get('/api/v1/decisions');
    assert.equal(none.status, 401);
    assert.equal(none.header, 'Bearer realm="capstan-audit"');
    assert.equal((none.body as { reason: string }).reason, 'missing-token');
    const garbage = await get('/api/v1/decisions', 'not-a-token');
    assert.equal(garbage.status, 401);
    assert.equal((garbage.body as { reason: string }).reason, 'invalid-token');
    // Health and docs stay open.
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
  });

  void it('answers 403 to a valid token without rights, naming the permission', async () => {
    const res = await get(`/api/v1/decisions?namespace=${teamA}`, tokens.nobody);
    assert.equal(res.status, 403);
    assert.match(
      (res.body as { message: string }).message,
      new RegExp(
        `system:serviceaccount:${home}:nobody may not get decisions.audit.capstan.dev in namespace "${teamA}"`,
      ),
    );
  });

  void it("lets a namespace-scoped reader see its namespace's history, and nothing else", async () => {
    const own = await waitFor('team-a access', async () => {
      const res = await get(`/api/v1/decisions?namespace=${teamA}`, tokens.teamA);
      return res.status === 200 ? res : undefined;
    });
    assert.deepEqual(names(own.body), [teamA]);
    assert.equal((await get(`/api/v1/objects/${teamA}/Deployment/web/history`, tokens.teamA)).status, 200);
    assert.equal((await get(`/api/v1/running?namespace=${teamA}`, tokens.teamA)).status, 200);

    assert.equal((await get(`/api/v1/decisions?namespace=${teamB}`, tokens.teamA)).status, 403);
    assert.equal((await get(`/api/v1/objects/${teamB}/Deployment/web/history`, tokens.teamA)).status, 403);
    // Every namespace at once is a cluster-wide question: refused, with a hint to name one.
    const all = await get('/api/v1/decisions', tokens.teamA);
    assert.equal(all.status, 403);
    assert.match((all.body as { message: string }).message, /cluster-wide.*\?namespace=/);
    assert.equal((await get('/api/v1/objects/_/ClusterRole/x/history', tokens.teamA)).status, 403);
    assert.equal((await get('/api/v1/audit/verify', tokens.teamA)).status, 403);
    // A deploy touching another namespace is not theirs to read.
    assert.equal((await get('/api/v1/timeline/corr-ev-2', tokens.teamA)).status, 403);
    assert.equal((await get('/api/v1/timeline/corr-ev-1', tokens.teamA)).status, 200);
  });

  void it('lets a cluster-wide reader see everything', async () => {
    const all = await waitFor('cluster-wide access', async () => {
      const res = await get('/api/v1/decisions', tokens.cluster);
      return res.status === 200 ? res : undefined;
    });
    assert.deepEqual(names(all.body), [teamB, teamA]);
    assert.equal((await get(`/api/v1/decisions?namespace=${teamB}`, tokens.cluster)).status, 200);
    assert.deepEqual((await get('/api/v1/audit/verify', tokens.cluster)).body, { ok: true, checked: 2 });
  });

  void it("shows a namespace-scoped reader a multi-namespace decision without the other namespaces' objects", async () => {
    // One Sync in team-a deploying into team-a and team-b, and pruning from team-b.
    const event = decisionEvent({
      id: 'ev-span',
      commit: 3,
      changeSet: [
        { ...deployment('api', teamA), action: 'created' },
        { ...deployment('api', teamB), action: 'created' },
        { ...deployment('old', teamB), action: 'deleted' },
      ],
      evidence: { skipped: [{ ...deployment('db', teamB), reason: 'annotated' }] },
    });
    event.data.decidedBy = { kind: 'Sync', namespace: teamA, name: 'multi' };
    event.data.message = `applied: ${teamA}/Deployment/api, ${teamB}/Deployment/api, ${teamB}/Deployment/old`;
    await service.app.get(DecisionIngest).ingest(event);
    const onlyTeamA = (what: string, text: string) => assert.doesNotMatch(text, new RegExp(teamB), what);
    const asTeamA = (path: string) => get(path, tokens.teamA);

    const list = await asTeamA(`/api/v1/decisions?namespace=${teamA}`);
    const [span] = (list.body as { items: Record<string, unknown>[] }).items;
    assert.equal(span?.eventId, 'ev-span');
    assert.deepEqual(span.targets, [{ ...deployment('api', teamA), action: 'created' }]);
    assert.deepEqual(span.changeSet, [{ ...deployment('api', teamA), action: 'created' }]);
    assert.deepEqual(span.evidence, { skipped: [] });
    assert.equal(span.message, `applied: ${teamA}/Deployment/api, (hidden object), (hidden object)`);
    assert.equal(span.hiddenObjects, 2);

    const text = async (path: string) => {
      const res = await fetch(base + path, { headers: { authorization: `Bearer ${tokens.teamA}` } });
      assert.equal(res.status, 200, path);
      return res.text();
    };
    const ndjson = await text(`/api/v1/decisions?namespace=${teamA}&format=ndjson`);
    assert.match(ndjson, /ev-span/);
    onlyTeamA('NDJSON export', ndjson);
    const csv = await text(`/api/v1/decisions?namespace=${teamA}&format=csv`);
    assert.match(csv, new RegExp(`${teamA}/Deployment/api=created`));
    onlyTeamA('CSV export', csv);
    const history = await asTeamA(`/api/v1/objects/${teamA}/Deployment/api/history`);
    assert.equal((history.body as { items: unknown[] }).items.length, 1);
    onlyTeamA('object history', JSON.stringify(history.body));
    const running = await asTeamA(`/api/v1/running?sync=${teamA}/multi`);
    assert.deepEqual(
      (running.body as { items: { namespace: string; name: string }[] }).items.map((o) => o.name),
      ['api'],
    );
    onlyTeamA('running', JSON.stringify(running.body));
    const timeline = await asTeamA('/api/v1/timeline/corr-ev-span');
    assert.equal(timeline.status, 200);
    assert.equal((timeline.body as { steps: unknown[] }).steps.length, 1);
    onlyTeamA('timeline', JSON.stringify(timeline.body));
    const streamed = await firstStreamedDecision(
      `/api/v1/events/stream?namespace=${teamA}&kind=Deployment&name=api&since=2000-01-01T00:00:00Z`,
    );
    assert.match(streamed, /ev-span/);
    onlyTeamA('event stream', streamed);

    // A cluster-wide reader gets the decision whole.
    const whole = await get(`/api/v1/decisions?namespace=${teamA}`, tokens.cluster);
    const [all] = (whole.body as { items: Record<string, unknown>[] }).items;
    assert.equal((all?.targets as unknown[]).length, 3);
    assert.equal(all?.hiddenObjects, undefined);
  });

  void it('reuses review answers within the TTL and asks again after it', async () => {
    const clock = manualClock();
    const counting = new CountingReviewer(new KubernetesReviewer(kc));
    const cached = new CachingReviewer(counting, clock, 10_000);
    const caller = await cached.authenticate(tokens.teamA);
    assert.equal(caller?.username, `system:serviceaccount:${home}:team-a-dev`);
    assert.equal(await cached.allowed(caller, teamA), true);
    assert.equal(await cached.allowed(caller, teamB), false);
    await cached.authenticate(tokens.teamA);
    await cached.allowed(caller, teamA);
    assert.equal(await cached.authenticate('garbage'), null);
    assert.equal(await cached.authenticate('garbage'), null);
    assert.deepEqual([counting.authentications, counting.reviews], [2, 2]);
    clock.advance(10_001);
    await cached.authenticate(tokens.teamA);
    await cached.allowed(caller, teamA);
    assert.deepEqual([counting.authentications, counting.reviews], [3, 3]);
  });
});
