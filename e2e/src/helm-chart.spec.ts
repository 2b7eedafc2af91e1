// The Helm chart in deploy/capstan and the CRDs in its crds/ folder, checked with the real
// helm binary and against a real kube-apiserver (kwok runs the pods, so images need not exist).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  type V1ClusterRole,
  type V1ClusterRoleBinding,
  type V1CustomResourceDefinition,
  type V1Deployment,
  type V1EnvVar,
  type V1Job,
  type V1PodDisruptionBudget,
  type V1Secret,
  type V1Service,
  type V1ServiceAccount,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { sharedCluster } from '@capstan/testing';
import {
  apiErrorText,
  applyCrds,
  chartDir,
  describeRun,
  errorCode,
  helm,
  kubeConfig,
  loadCrds,
  namespaceObject,
  ofKind,
  renderChart,
  valuesFile,
} from './support/helm.js';

const SERVICES = ['git-watcher', 'registry-watcher', 'reconciler', 'canary-analyzer', 'audit'] as const;
const APP_VERSION = '0.1.0';
const GROUP = 'capstan.dev';
const VERSION = 'v1alpha1';

function suffix(): string {
  return randomBytes(3).toString('hex');
}

function env(container: { env?: V1EnvVar[] }, name: string): V1EnvVar {
  const found = container.env?.find((e) => e.name === name);
  assert.ok(found, `env ${name} is set`);
  return found;
}

/** Lints the chart with a values file and expects a schema failure naming the field (its JSON pointer). */
async function assertLintFails(values: unknown, ...expected: string[]): Promise<void> {
  const file = await valuesFile(values);
  try {
    const r = await helm(['lint', chartDir, '-f', file.path]);
    assert.notEqual(r.code, 0, `helm lint should reject ${JSON.stringify(values)}\n${describeRun(r)}`);
    const out = r.stdout + r.stderr;
    assert.match(out, /schema/i, `the failure comes from values.schema.json\n${describeRun(r)}`);
    for (const e of expected) assert.ok(out.includes(e), `the failure names ${e}\n${describeRun(r)}`);
  } finally {
    await file.cleanup();
  }
}

void describe('helm chart deploy/capstan', () => {
  void describe('helm lint', () => {
    void it('passes with the default values (strict)', async () => {
      const r = await helm(['lint', chartDir, '--strict']);
      assert.equal(r.code, 0, describeRun(r));
      assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    });

    void it('passes with an existing database Secret and some services disabled', async () => {
      const r = await helm([
        'lint',
        chartDir,
        '--strict',
        '--set',
        'database.existingSecret=capstan-db,database.url=,services.canary-analyzer.enabled=false,rbac.clusterAdmin=false',
      ]);
      assert.equal(r.code, 0, describeRun(r));
    });
  });

  void describe('values.schema.json rejects bad values, naming the field', () => {
    void it('a negative replica count', () =>
      assertLintFails({ services: { reconciler: { replicas: -1 } } }, '/services/reconciler/replicas'));
    void it('a replica count of the wrong type', () =>
      assertLintFails(
        { services: { audit: { replicas: 'two' } } },
        '/services/audit/replicas',
        'want integer',
      ));
    void it('an unknown log level', () => assertLintFails({ logLevel: 'loud' }, '/logLevel'));
    void it('a misspelt key', () =>
      assertLintFails({ services: { 'git-watcher': { replica: 2 } } }, '/services/git-watcher', "'replica'"));
    void it('an unknown service', () =>
      assertLintFails({ services: { 'image-updater': { enabled: true } } }, '/services', "'image-updater'"));
    void it('a database URL that is not postgres', () =>
      assertLintFails({ database: { url: 'mysql://db/capstan' } }, '/database/url'));
    void it('a wrong image pull policy', () =>
      assertLintFails({ image: { pullPolicy: 'Sometimes' } }, '/image/pullPolicy'));
    void it('a wrong type for a whole section', () =>
      assertLintFails({ rbac: { create: 'yes' } }, '/rbac/create'));

    void it('helm template (and so install) fails the same way', async () => {
      const r = await helm(['template', 'capstan', chartDir, '--set', 'services.reconciler.replicas=-1']);
      assert.notEqual(r.code, 0, describeRun(r));
      assert.match(r.stderr, /\/services\/reconciler\/replicas/);
    });
  });

  void describe('helm template', () => {
    const namespace = 'capstan-system';

    void it('renders the five Deployments with image, env, port, probes, resources and a locked-down securityContext', async () => {
      const objects = await renderChart([], 'capstan', namespace);
      const deployments = ofKind<V1Deployment>(objects, 'Deployment');
      assert.deepEqual(
        deployments.map((d) => d.metadata.name).sort(),
        SERVICES.map((s) => `capstan-${s}`).sort(),
      );
      for (const service of SERVICES) {
        const d = deployments.find((x) => x.metadata.name === `capstan-${service}`)!;
        assert.equal(d.metadata.namespace, namespace);
        assert.equal(d.spec!.replicas, 1);
        assert.equal(d.spec!.selector.matchLabels!['app.kubernetes.io/component'], service);
        const pod = d.spec!.template;
        for (const [k, v] of Object.entries(d.spec!.selector.matchLabels!)) {
          assert.equal(pod.metadata!.labels![k], v, `pod template carries selector label ${k}`);
        }
        assert.equal(pod.spec!.serviceAccountName, 'capstan');
        assert.equal(pod.spec!.securityContext!.runAsNonRoot, true);
        const [c, ...others] = pod.spec!.containers;
        assert.ok(c);
        assert.equal(others.length, 0);
        assert.equal(c.image, `ghcr.io/capstan/capstan-${service}:${APP_VERSION}`);
        assert.equal(env(c, 'NATS_URL').value, 'nats://nats:4222');
        assert.equal(env(c, 'CLUSTER_NAME').value, 'default');
        assert.equal(env(c, 'LOG_LEVEL').value, 'log');
        assert.deepEqual(env(c, 'DATABASE_URL').valueFrom?.secretKeyRef, {
          name: 'capstan-database',
          key: 'DATABASE_URL',
        });
        assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
        assert.deepEqual(c.livenessProbe?.httpGet, { path: '/healthz', port: 'http' });
        assert.deepEqual(c.readinessProbe?.httpGet, { path: '/readyz', port: 'http' });
        assert.ok(c.resources?.requests?.memory !== undefined, 'memory request set');
        assert.ok(c.resources.limits?.memory !== undefined, 'memory limit set');
        assert.deepEqual(c.securityContext, {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        assert.ok(
          c.volumeMounts?.some((m) => m.mountPath === '/tmp'),
          'writable /tmp',
        );
        assert.equal(pod.metadata!.annotations!['prometheus.io/path'], '/metrics');
      }
      // Tenants stay apart unless the installation says otherwise, in every service that follows references.
      for (const service of ['git-watcher', 'registry-watcher', 'reconciler', 'audit']) {
        const d = deployments.find((x) => x.metadata.name === `capstan-${service}`)!;
        assert.equal(env(d.spec!.template.spec!.containers[0]!, 'ALLOW_CROSS_NAMESPACE_REFS').value, 'false');
      }
      const reconcilerEnv = deployments.find((x) => x.metadata.name === 'capstan-reconciler')!.spec!.template
        .spec!.containers[0]!;
      assert.equal(env(reconcilerEnv, 'TENANCY_POLICIES').value, 'enabled');
      assert.equal(
        reconcilerEnv.env?.find((e) => e.name === 'DEFAULT_SERVICE_ACCOUNT'),
        undefined,
        'no default account unless one is set',
      );
    });

    void it('renders the DATABASE_URL Secret, the ServiceAccount and the audit Service', async () => {
      const objects = await renderChart([], 'capstan', namespace);
      const secrets = ofKind<V1Secret>(objects, 'Secret').filter(
        (s) => !s.metadata.annotations?.['helm.sh/hook'],
      );
      const byName = new Map(secrets.map((s) => [s.metadata.name, s]));
      assert.deepEqual([...byName.keys()].sort(), ['capstan-console-session', 'capstan-database']);
      assert.deepEqual(byName.get('capstan-database')!.stringData, {
        DATABASE_URL: 'postgresql://capstan:capstan@postgres:5432/capstan',
      });
      // One random key sealing console sessions, shared by every audit replica.
      const sealing = Buffer.from(
        byName.get('capstan-console-session')!.data!['sessionSecret']!,
        'base64',
      ).toString();
      assert.match(sealing, /^[A-Za-z0-9]{48}$/);
      assert.deepEqual(
        ofKind<V1ServiceAccount>(objects, 'ServiceAccount').map((s) => s.metadata.name),
        ['capstan'],
      );
      const services = ofKind<V1Service>(objects, 'Service');
      assert.deepEqual(services.map((s) => s.metadata.name).sort(), [
        'capstan-audit',
        'capstan-registry-notifications',
        'capstan-webhook-receiver',
      ]);
      const receiver = services.find((s) => s.metadata.name === 'capstan-webhook-receiver')!;
      const gitWatcher = ofKind<V1Deployment>(objects, 'Deployment').find(
        (d) => d.metadata.name === 'capstan-git-watcher',
      )!;
      for (const [k, v] of Object.entries(receiver.spec!.selector!)) {
        assert.equal(
          gitWatcher.spec!.template.metadata!.labels![k],
          v,
          `push webhooks reach the git-watcher (${k})`,
        );
      }
      const svc = services.find((s) => s.metadata.name === 'capstan-audit')!;
      assert.deepEqual(svc.spec!.ports, [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
      const audit = ofKind<V1Deployment>(objects, 'Deployment').find(
        (d) => d.metadata.name === 'capstan-audit',
      )!;
      for (const [k, v] of Object.entries(svc.spec!.selector!)) {
        assert.equal(
          audit.spec!.template.metadata!.labels![k],
          v,
          `audit pods match the Service selector ${k}`,
        );
      }
      assert.deepEqual(env(audit.spec!.template.spec!.containers[0]!, 'CONSOLE_SESSION_SECRET').valueFrom, {
        secretKeyRef: { name: 'capstan-console-session', key: 'sessionSecret' },
      });
      const own = await renderChart(['--set', 'console.sessionSecretName=console-key'], 'capstan', namespace);
      assert.ok(!ofKind<V1Secret>(own, 'Secret').some((s) => s.metadata.name === 'capstan-console-session'));
      const ownAudit = ofKind<V1Deployment>(own, 'Deployment').find(
        (d) => d.metadata.name === 'capstan-audit',
      )!;
      assert.deepEqual(
        env(ownAudit.spec!.template.spec!.containers[0]!, 'CONSOLE_SESSION_SECRET').valueFrom?.secretKeyRef,
        { name: 'console-key', key: 'sessionSecret' },
      );
      const others = ofKind<V1Deployment>(objects, 'Deployment').filter(
        (d) => d.metadata.name !== 'capstan-audit',
      );
      for (const d of others) {
        const labels = d.spec!.template.metadata!.labels!;
        assert.ok(
          Object.entries(svc.spec!.selector!).some(([k, v]) => labels[k] !== v),
          `${d.metadata.name} pods are not behind the audit Service`,
        );
      }
    });

    void it('renders cluster-wide RBAC, including tokenreviews and subjectaccessreviews for the audit API', async () => {
      const objects = await renderChart([], 'capstan', namespace);
      // The audit reader roles (audit-rbac.yaml) are asserted in their own test below.
      const roles = ofKind<V1ClusterRole>(objects, 'ClusterRole').filter(
        (r) => !r.metadata.name.includes('-audit-'),
      );
      assert.equal(roles.length, 1);
      const rules = roles[0]!.rules!;
      assert.ok(
        rules.some((r) => r.apiGroups?.includes('*') && r.resources?.includes('*') && r.verbs.includes('*')),
        'broad rights to apply arbitrary objects',
      );
      for (const [group, resource] of [
        ['authentication.k8s.io', 'tokenreviews'],
        ['authorization.k8s.io', 'subjectaccessreviews'],
      ] as const) {
        assert.ok(
          rules.some(
            (r) =>
              r.apiGroups?.includes(group) && r.resources?.includes(resource) && r.verbs.includes('create'),
          ),
          `create ${resource}`,
        );
      }
      const bindings = ofKind<V1ClusterRoleBinding>(objects, 'ClusterRoleBinding');
      assert.equal(bindings.length, 1);
      assert.equal(bindings[0]!.roleRef.name, roles[0]!.metadata.name);
      assert.deepEqual(bindings[0]!.subjects, [{ kind: 'ServiceAccount', name: 'capstan', namespace }]);

      // Without clusterAdmin the role is narrowed, but the audit API keeps what it needs.
      // The release's own role, not the audit readers' or a service's narrower one.
      const narrow = ofKind<V1ClusterRole>(
        await renderChart(['--set', 'rbac.clusterAdmin=false']),
        'ClusterRole',
      ).find((r) => r.metadata.name === 'capstan')!;
      assert.ok(!narrow.rules!.some((r) => r.resources?.includes('*')), 'no wildcard');
      assert.ok(narrow.rules!.some((r) => r.resources?.includes('tokenreviews')));
      assert.ok(narrow.rules!.some((r) => r.resources?.includes('syncs/status')));
    });

    void it('renders read roles for the audit API: cluster-wide, and aggregated into view/edit/admin', async () => {
      const roles = ofKind<V1ClusterRole>(await renderChart([], 'capstan', namespace), 'ClusterRole');
      const reader = roles.find((r) => r.metadata.name === 'capstan-audit-reader');
      const view = roles.find((r) => r.metadata.name === 'capstan-audit-view');
      const audit = [{ apiGroups: ['audit.capstan.dev'], resources: ['decisions'], verbs: ['get'] }];
      assert.ok(reader && view, 'capstan-audit-reader and capstan-audit-view');
      assert.deepEqual(reader.rules, audit);
      assert.deepEqual(view.rules, audit);
      assert.equal(view.metadata.labels!['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
      assert.equal(reader.metadata.labels!['rbac.authorization.k8s.io/aggregate-to-view'], undefined);
    });

    void it('renders the migration Job as a pre-install/pre-upgrade hook running migrate-cli in the audit image', async () => {
      const objects = await renderChart([], 'capstan', namespace);
      const jobs = ofKind<V1Job>(objects, 'Job');
      assert.equal(jobs.length, 1);
      const job = jobs[0]!;
      const hooks = job.metadata.annotations!['helm.sh/hook']!.split(',').sort();
      assert.deepEqual(hooks, ['pre-install', 'pre-upgrade']);
      const pod = job.spec!.template.spec!;
      assert.equal(pod.restartPolicy, 'Never');
      const c = pod.containers[0]!;
      assert.equal(c.image, `ghcr.io/capstan/capstan-audit:${APP_VERSION}`);
      assert.deepEqual(c.command, ['node', 'libs/db/dist/migrate-cli.js', 'deploy']);
      // Its DATABASE_URL Secret is a hook too, created before the Job (pre-install runs before
      // the release's own Secret exists).
      const ref = env(c, 'DATABASE_URL').valueFrom!.secretKeyRef!;
      const hookSecret = ofKind<V1Secret>(objects, 'Secret').find((s) => s.metadata.name === ref.name)!;
      assert.ok(hookSecret, 'the Job reads a Secret the chart renders');
      assert.equal(hookSecret.metadata.annotations!['helm.sh/hook'], 'pre-install,pre-upgrade');
      assert.ok(
        Number(hookSecret.metadata.annotations!['helm.sh/hook-weight']) <
          Number(job.metadata.annotations!['helm.sh/hook-weight']),
        'the Secret hook runs before the Job hook',
      );
      // The services themselves never run migrations.
      for (const d of ofKind<V1Deployment>(objects, 'Deployment')) {
        const cmd = [
          ...(d.spec!.template.spec!.containers[0]!.command ?? []),
          ...(d.spec!.template.spec!.containers[0]!.args ?? []),
        ];
        assert.ok(!cmd.join(' ').includes('migrate'), `${d.metadata.name} does not migrate`);
      }
    });

    void it('applies values: image registry/tag, replicas, disabled services, existing Secret, no migrations', async () => {
      const file = await valuesFile({
        image: { registry: 'registry.example.com/platform', tag: '1.2.3' },
        clusterName: 'prod-eu',
        logLevel: 'debug',
        tenancy: { allowCrossNamespaceRefs: true, defaultServiceAccount: 'capstan-tenant', policies: false },
        nats: { url: 'nats://nats.messaging:4222' },
        database: { url: '', existingSecret: 'pg-credentials', existingSecretKey: 'uri' },
        migrations: { enabled: false },
        services: {
          reconciler: { replicas: 3 },
          'canary-analyzer': { enabled: false },
          audit: { enabled: false },
        },
      });
      try {
        const objects = await renderChart(['-f', file.path], 'prod', 'ops');
        const deployments = ofKind<V1Deployment>(objects, 'Deployment');
        assert.deepEqual(deployments.map((d) => d.metadata.name).sort(), [
          'prod-capstan-git-watcher',
          'prod-capstan-reconciler',
          'prod-capstan-registry-watcher',
        ]);
        const reconciler = deployments.find((d) => d.metadata.name === 'prod-capstan-reconciler')!;
        assert.equal(reconciler.spec!.replicas, 3);
        const c = reconciler.spec!.template.spec!.containers[0]!;
        assert.equal(c.image, 'registry.example.com/platform/capstan-reconciler:1.2.3');
        assert.equal(env(c, 'CLUSTER_NAME').value, 'prod-eu');
        assert.equal(env(c, 'LOG_LEVEL').value, 'debug');
        assert.equal(env(c, 'DEFAULT_SERVICE_ACCOUNT').value, 'capstan-tenant');
        assert.equal(env(c, 'TENANCY_POLICIES').value, 'disabled');
        assert.equal(env(c, 'ALLOW_CROSS_NAMESPACE_REFS').value, 'true');
        assert.equal(env(c, 'NATS_URL').value, 'nats://nats.messaging:4222');
        assert.deepEqual(env(c, 'DATABASE_URL').valueFrom?.secretKeyRef, {
          name: 'pg-credentials',
          key: 'uri',
        });
        const gitWatcher = deployments.find((d) => d.metadata.name === 'prod-capstan-git-watcher')!;
        assert.equal(
          env(gitWatcher.spec!.template.spec!.containers[0]!, 'ALLOW_CROSS_NAMESPACE_REFS').value,
          'true',
        );
        assert.equal(ofKind(objects, 'Secret').length, 0, 'no Secret when an existing one is named');
        assert.equal(ofKind(objects, 'Job').length, 0, 'no migration Job when disabled');
        assert.deepEqual(
          ofKind<V1Service>(objects, 'Service').map((x) => x.metadata.name),
          ['prod-capstan-registry-notifications', 'prod-capstan-webhook-receiver'],
          'no audit Service when audit is disabled',
        );
      } finally {
        await file.cleanup();
      }
    });

    void it('runs every service as three replicas: PodDisruptionBudgets, anti-affinity, stream replicas, shards', async () => {
      const file = await valuesFile({
        nats: { url: 'nats://nats-0:4222,nats://nats-1:4222,nats://nats-2:4222', streamReplicas: 3 },
        sharding: { shards: 64, leaseSeconds: 10 },
        services: Object.fromEntries(SERVICES.map((s) => [s, { replicas: 3 }])),
      });
      try {
        const objects = await renderChart(['-f', file.path], 'ha', 'ops');
        const deployments = ofKind<V1Deployment>(objects, 'Deployment');
        const pdbs = ofKind<V1PodDisruptionBudget>(objects, 'PodDisruptionBudget');
        assert.deepEqual(
          pdbs.map((p) => p.metadata.name).sort(),
          SERVICES.map((s) => `ha-capstan-${s}`).sort(),
        );
        for (const d of deployments) {
          assert.equal(d.spec!.replicas, 3);
          const pdb = pdbs.find((p) => p.metadata.name === d.metadata.name)!;
          assert.equal(pdb.spec!.maxUnavailable, 1);
          assert.deepEqual(
            pdb.spec!.selector?.matchLabels,
            d.spec!.selector.matchLabels,
            'the budget covers its pods',
          );
          const anti =
            d.spec!.template.spec!.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
          assert.equal(anti?.[0]?.podAffinityTerm.topologyKey, 'kubernetes.io/hostname');
          assert.deepEqual(anti[0].podAffinityTerm.labelSelector?.matchLabels, d.spec!.selector.matchLabels);
          const c = d.spec!.template.spec!.containers[0]!;
          assert.equal(env(c, 'NATS_STREAM_REPLICAS').value, '3');
          assert.equal(env(c, 'SHARDS').value, '64');
          assert.equal(env(c, 'SHARD_LEASE_SECONDS').value, '10');
          assert.equal(env(c, 'POD_NAME').valueFrom?.fieldRef?.fieldPath, 'metadata.name');
        }
        // One replica needs neither; `hard` anti-affinity is required, not preferred.
        const single = await renderChart([]);
        assert.equal(ofKind(single, 'PodDisruptionBudget').length, 0);
        assert.ok(ofKind<V1Deployment>(single, 'Deployment').every((d) => !d.spec!.template.spec!.affinity));
        const hard = await renderChart(['-f', file.path, '--set', 'podAntiAffinity=hard']);
        for (const d of ofKind<V1Deployment>(hard, 'Deployment'))
          assert.equal(
            d.spec!.template.spec!.affinity?.podAntiAffinity
              ?.requiredDuringSchedulingIgnoredDuringExecution?.[0]?.topologyKey,
            'kubernetes.io/hostname',
          );
      } finally {
        await file.cleanup();
      }
    });

    void it('keeps the CRDs in crds/ (installed by helm, shown by --include-crds), identical to the files', async () => {
      const objects = await renderChart(['--include-crds']);
      const rendered = ofKind<V1CustomResourceDefinition>(objects, 'CustomResourceDefinition');
      const files = await loadCrds();
      assert.deepEqual(
        rendered.map((c) => c.metadata.name).sort(),
        files.map((c) => c.metadata?.name ?? '').sort(),
      );
      assert.ok(rendered.some((c) => c.metadata.name === 'gitrepositories.capstan.dev'));
      assert.ok(rendered.some((c) => c.metadata.name === 'syncs.capstan.dev'));
      assert.deepEqual(
        [...rendered].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)),
        [...files].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '')),
      );
      const sources = files.filter((c) =>
        ['gitrepositories.capstan.dev', 'syncs.capstan.dev'].includes(c.metadata?.name ?? ''),
      );
      for (const crd of sources) {
        const [v, ...more] = crd.spec.versions;
        assert.equal(more.length, 0);
        assert.equal(v?.name, VERSION);
        assert.equal(v.served && v.storage, true);
        assert.deepEqual(v.subresources?.status, {});
        assert.deepEqual(
          v.additionalPrinterColumns?.filter((col) => !col.priority).map((col) => col.name),
          ['Ready', 'Status', 'Revision', 'Age'],
        );
      }
    });
  });

  void describe('CRDs on a real API server', { timeout: 240_000 }, () => {
    let kc: KubeConfig;
    let custom: CustomObjectsApi;
    let objects: KubernetesObjectApi | undefined;
    const namespace = `capstan-crd-${suffix()}`;

    before(async () => {
      const { kubeconfigPath } = await sharedCluster();
      kc = kubeConfig(kubeconfigPath);
      await applyCrds(kc);
      custom = kc.makeApiClient(CustomObjectsApi);
      objects = KubernetesObjectApi.makeApiClient(kc);
      await objects.create(namespaceObject(namespace));
    });

    after(async () => {
      await objects?.delete(namespaceObject(namespace)).catch(() => undefined);
    });

    function create(plural: string, body: object): Promise<unknown> {
      return custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, body });
    }

    async function rejected(plural: string, body: object, ...expected: (string | RegExp)[]): Promise<void> {
      await assert.rejects(create(plural, body), (err: unknown) => {
        const text = apiErrorText(err);
        assert.equal(errorCode(err), 422, `rejected as invalid: ${text}`);
        for (const e of expected) {
          if (typeof e === 'string') assert.ok(text.includes(e), `error mentions ${e}: ${text}`);
          else assert.match(text, e);
        }
        return true;
      });
    }

    const gitRepo = (name: string, spec: object) => ({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'GitRepository',
      metadata: { name },
      spec,
    });
    const sync = (name: string, spec: object) => ({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'Sync',
      metadata: { name },
      spec,
    });

    void it('are served with the short names, printer columns and status subresource', async () => {
      const live = await kc
        .makeApiClient(ApiextensionsV1Api)
        .readCustomResourceDefinition({ name: 'gitrepositories.capstan.dev' });
      assert.deepEqual(live.spec.names.shortNames, ['gitrepo']);
      assert.deepEqual(
        live.spec.versions[0]!.additionalPrinterColumns!.filter((c) => !c.priority).map((c) => c.name),
        ['Ready', 'Status', 'Revision', 'Age'],
      );
    });

    void it('reject a GitRepository without url', () =>
      rejected(
        'gitrepositories',
        gitRepo('no-url', { ref: { branch: 'main' } }),
        'spec.url',
        'Required value',
      ));

    void it('reject a GitRepository with an unsupported url scheme', () =>
      rejected('gitrepositories', gitRepo('bad-url', { url: 'ftp://example.com/repo.git' }), 'spec.url'));

    void it('reject a ref with two of branch/tag/semver/commit, or a short commit', async () => {
      await rejected(
        'gitrepositories',
        gitRepo('two-refs', { url: 'https://example.com/a.git', ref: { branch: 'main', tag: 'v1.0.0' } }),
        'exactly one of ref.branch, ref.tag, ref.semver or ref.commit',
      );
      await rejected(
        'gitrepositories',
        gitRepo('empty-ref', { url: 'https://example.com/a.git', ref: {} }),
        'exactly one of',
      );
      await rejected(
        'gitrepositories',
        gitRepo('short-sha', { url: 'https://example.com/a.git', ref: { commit: 'abc123' } }),
        'spec.ref.commit',
      );
    });

    void it('reject an interval that is not a positive Go duration', async () => {
      await rejected(
        'gitrepositories',
        gitRepo('bad-interval', { url: 'https://example.com/a.git', interval: '5 minutes' }),
        'spec.interval',
      );
      await rejected(
        'gitrepositories',
        gitRepo('zero-interval', { url: 'https://example.com/a.git', interval: '0s' }),
        'interval must be greater than zero',
      );
    });

    void it('accept good GitRepositories (every URL form) and apply the defaults', async () => {
      const urls = [
        'https://github.com/org/app.git',
        'http://gitea.local/org/app',
        'ssh://git@github.com/org/app.git',
        'git@github.com:org/app.git',
        'git://example.com/app.git',
        'file:///srv/git/app.git',
      ];
      for (const [i, url] of urls.entries()) {
        await create('gitrepositories', gitRepo(`ok-${i}`, { url, ref: { branch: 'main' } }));
      }
      const created = (await create(
        'gitrepositories',
        gitRepo('full', {
          url: 'https://github.com/org/app.git',
          ref: { semver: '>=1.2.0 <2.0.0' },
          interval: '1h30m',
          timeout: '90s',
          secretRef: { name: 'git-creds' },
          ignore: '/docs\n*.md',
          suspend: false,
        }),
      )) as { spec: Record<string, unknown> };
      assert.equal(created.spec.interval, '1h30m');
      const defaulted = (await custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: 'gitrepositories',
        name: 'ok-0',
      })) as { spec: Record<string, unknown> };
      assert.equal(defaulted.spec.interval, '1m');
      assert.equal(defaulted.spec.timeout, '60s');
    });

    void it('validate GitRepository status through the status subresource (metav1.Condition shape)', async () => {
      const base = { group: GROUP, version: VERSION, namespace, plural: 'gitrepositories' };
      await create('gitrepositories', gitRepo('with-status', { url: 'https://example.com/a.git' }));
      const sha = 'a'.repeat(40);
      const condition = {
        type: 'Ready',
        status: 'True',
        observedGeneration: 1,
        lastTransitionTime: '2026-01-01T00:00:00Z',
        reason: 'Succeeded',
        message: `stored artifact for revision main@sha1:${sha}`,
      };
      // Merge patches, not replaces: a git-watcher of another spec on the shared cluster may write
      // this object's status meanwhile, and a replace would then be a 409, not the schema's answer.
      const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
      const updated = (await custom.patchNamespacedCustomObjectStatus(
        {
          ...base,
          name: 'with-status',
          body: {
            status: {
              observedGeneration: 1,
              conditions: [condition],
              artifact: { revision: `main@sha1:${sha}`, sha, observedAt: '2026-01-01T00:00:00Z' },
              lastObservedCommit: sha,
            },
          },
        },
        mergePatch,
      )) as { status: { artifact: { sha: string } } };
      assert.equal(updated.status.artifact.sha, sha);

      await assert.rejects(
        custom.patchNamespacedCustomObjectStatus(
          {
            ...base,
            name: 'with-status',
            body: { status: { conditions: [{ ...condition, status: 'Maybe' }] } },
          },
          mergePatch,
        ),
        (err: unknown) => {
          assert.equal(errorCode(err), 422);
          assert.match(apiErrorText(err), /status\.conditions\[0\]\.status/);
          return true;
        },
      );
    });

    void it('reject a Sync without sourceRef, with an unknown source kind or drift policy', async () => {
      await rejected('syncs', sync('no-source', { path: './deploy' }), 'spec.sourceRef', 'Required value');
      await rejected(
        'syncs',
        sync('bad-kind', { sourceRef: { kind: 'Bucket', name: 'a' } }),
        'spec.sourceRef.kind',
        'GitRepository',
      );
      await rejected(
        'syncs',
        sync('bad-drift', { sourceRef: { kind: 'GitRepository', name: 'a' }, driftPolicy: 'ignore' }),
        'spec.driftPolicy',
      );
    });

    void it('reject a Sync escaping the source with .. or depending on itself', async () => {
      await rejected(
        'syncs',
        sync('escape', { sourceRef: { kind: 'GitRepository', name: 'a' }, path: './apps/../../etc' }),
        "must not contain '..'",
      );
      await rejected(
        'syncs',
        sync('selfish', {
          sourceRef: { kind: 'GitRepository', name: 'a' },
          dependsOn: [{ name: 'selfish' }],
        }),
        'cannot depend on itself',
      );
    });

    void it('accept a good Sync and apply the defaults', async () => {
      const created = (await create(
        'syncs',
        sync('app', {
          sourceRef: { kind: 'GitRepository', name: 'app' },
          dependsOn: [{ name: 'infra', namespace: 'ops' }],
        }),
      )) as { spec: Record<string, unknown> };
      assert.equal(created.spec.path, './');
      assert.equal(created.spec.prune, true);
      assert.equal(created.spec.driftPolicy, 'correct');
      assert.equal(created.spec.interval, '5m');
      assert.equal(created.spec.wait, false);
      assert.equal(created.spec.force, false);

      const base = { group: GROUP, version: VERSION, namespace, plural: 'syncs', name: 'app' };
      const obj = (await custom.getNamespacedCustomObject(base)) as Record<string, unknown>;
      const withStatus = (await custom.replaceNamespacedCustomObjectStatus({
        ...base,
        body: {
          ...obj,
          status: {
            observedGeneration: 1,
            lastAppliedRevision: `main@sha1:${'b'.repeat(40)}`,
            lastAttemptedRevision: `main@sha1:${'b'.repeat(40)}`,
            inventory: {
              entries: [
                { id: 'default_web_apps_Deployment', v: 'v1' },
                { id: '_web__Namespace', v: 'v1' },
              ],
            },
            conditions: [
              {
                type: 'Ready',
                status: 'True',
                lastTransitionTime: '2026-01-01T00:00:00Z',
                reason: 'ReconciliationSucceeded',
                message: 'applied',
              },
              {
                type: 'Reconciling',
                status: 'False',
                lastTransitionTime: '2026-01-01T00:00:00Z',
                reason: 'Succeeded',
                message: '',
              },
            ],
          },
        },
      })) as { status: { inventory: { entries: unknown[] } } };
      assert.equal(withStatus.status.inventory.entries.length, 2);
    });
  });

  void describe('helm install into the real cluster', { timeout: 600_000 }, () => {
    let kubeconfigPath = '';
    let kc: KubeConfig | undefined;
    const id = suffix();
    const release = `capstan-${id}`;
    const namespace = `capstan-install-${id}`;
    let installed = false;
    let installHookStartedAt = '';
    let sessionKey: string | undefined;

    before(async () => {
      ({ kubeconfigPath } = await sharedCluster());
      kc = kubeConfig(kubeconfigPath);
    });

    after(async () => {
      if (!kc) return; // no cluster: nothing to clean up, and helm must not fall back to ~/.kube/config
      // Uninstall even after a failed install (the release then exists in a failed state);
      // only a successful install must also uninstall cleanly.
      const r = await helm(
        ['uninstall', release, '--namespace', namespace, '--wait', '--timeout', '2m', '--ignore-not-found'],
        kubeconfigPath,
        180_000,
      );
      if (installed) assert.equal(r.code, 0, describeRun(r));
      await KubernetesObjectApi.makeApiClient(kc)
        .delete(namespaceObject(namespace))
        .catch(() => undefined);
    });

    void it('installs (migration hook Job included) and every Deployment becomes Available', async () => {
      const r = await helm(
        [
          'install',
          release,
          chartDir,
          '--namespace',
          namespace,
          '--create-namespace',
          '--set',
          `clusterName=e2e-${id}`,
          '--wait',
          '--timeout',
          '5m',
        ],
        kubeconfigPath,
        360_000,
      );
      installed = r.code === 0;
      assert.equal(r.code, 0, describeRun(r));

      const status = await helm(['status', release, '--namespace', namespace, '-o', 'json'], kubeconfigPath);
      assert.equal(status.code, 0, describeRun(status));
      const info = JSON.parse(status.stdout) as {
        info: { status: string };
        hooks?: { kind: string; last_run?: { phase?: string; started_at?: string } }[];
      };
      assert.equal(info.info.status, 'deployed');
      const jobHook = info.hooks?.find((h) => h.kind === 'Job');
      assert.ok(jobHook, 'the migration Job ran as a hook');
      assert.equal(jobHook.last_run?.phase, 'Succeeded');
      installHookStartedAt = jobHook.last_run.started_at ?? '';

      // --wait already waited; check each Deployment ourselves anyway, with a deadline.
      const cluster = kc!;
      const apps = cluster.makeApiClient(AppsV1Api);
      const deadline = Date.now() + 120_000;
      let notReady: string[] = [];
      for (;;) {
        const list = await apps.listNamespacedDeployment({
          namespace,
          labelSelector: `app.kubernetes.io/instance=${release}`,
        });
        assert.deepEqual(
          list.items.map((d) => d.metadata?.labels?.['app.kubernetes.io/component']).sort(),
          [...SERVICES].sort(),
        );
        notReady = list.items
          .filter((d) => {
            const available =
              d.status?.conditions?.some((c) => c.type === 'Available' && c.status === 'True') ?? false;
            return !available || (d.status?.readyReplicas ?? 0) < (d.spec?.replicas ?? 1);
          })
          .map((d) => d.metadata?.name ?? '?');
        if (notReady.length === 0 || Date.now() > deadline) break;
        await new Promise((res) => setTimeout(res, 1_000));
      }
      assert.deepEqual(notReady, [], 'every Deployment is Available');

      const svc = await cluster
        .makeApiClient(CoreV1Api)
        .readNamespacedService({ name: `${release}-audit`, namespace });
      assert.equal(svc.spec?.ports?.[0]?.port, 80);
      const role = await cluster.makeApiClient(RbacAuthorizationV1Api).readClusterRole({ name: release });
      assert.ok(role.rules?.some((rule) => rule.resources?.includes('tokenreviews')));
      // The hook Secret was removed once the hooks succeeded; the services' Secret stays.
      const secrets = await cluster.makeApiClient(CoreV1Api).listNamespacedSecret({ namespace });
      const names = secrets.items.map((s) => s.metadata?.name);
      assert.ok(names.includes(`${release}-database`));
      assert.ok(names.includes(`${release}-console-session`));
      assert.ok(!names.includes(`${release}-migrate`));
      sessionKey = secrets.items.find((s) => s.metadata?.name === `${release}-console-session`)?.data?.[
        'sessionSecret'
      ];
      assert.ok(sessionKey);
    });

    void it('upgrades: the migration hook runs again and a replica change rolls out', async () => {
      assert.ok(installed, 'needs the release installed by the previous test');
      const r = await helm(
        [
          'upgrade',
          release,
          chartDir,
          '--namespace',
          namespace,
          '--reuse-values',
          '--set',
          'services.reconciler.replicas=2',
          '--wait',
          '--timeout',
          '5m',
        ],
        kubeconfigPath,
        360_000,
      );
      assert.equal(r.code, 0, describeRun(r));
      const status = await helm(['status', release, '--namespace', namespace, '-o', 'json'], kubeconfigPath);
      const info = JSON.parse(status.stdout) as {
        version: number;
        info: { status: string };
        hooks?: { kind: string; events?: string[]; last_run?: { phase?: string; started_at?: string } }[];
      };
      assert.equal(info.version, 2);
      assert.equal(info.info.status, 'deployed');
      const jobHook = info.hooks?.find((h) => h.kind === 'Job');
      assert.equal(jobHook?.last_run?.phase, 'Succeeded');
      assert.ok(
        Date.parse(jobHook.last_run.started_at ?? '') > Date.parse(installHookStartedAt),
        'the pre-upgrade run is a new one',
      );
      const reconciler = await kc!
        .makeApiClient(AppsV1Api)
        .readNamespacedDeployment({ name: `${release}-reconciler`, namespace });
      assert.equal(reconciler.spec?.replicas, 2);
      assert.equal(reconciler.status?.readyReplicas, 2);
      // The console's session key is looked up and kept: an upgrade logs nobody out.
      const kept = await kc!
        .makeApiClient(CoreV1Api)
        .readNamespacedSecret({ name: `${release}-console-session`, namespace });
      assert.equal(kept.data?.['sessionSecret'], sessionKey);
    });
  });
});
