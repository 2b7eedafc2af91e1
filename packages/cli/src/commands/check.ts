import { ApiextensionsV1Api, VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import { CAPSTAN_VERSION } from '@capstan/platform';
import { renderTable } from '../table.js';

export interface CheckResult {
  check: string;
  ok: boolean | 'skipped';
  detail: string;
}

export interface CheckTargets {
  kube: () => KubeConfig;
  natsUrl: string;
  databaseUrl?: string | undefined;
  /** name -> base URL of each Capstan service to ask (/readyz, capstan_build_info). */
  services: Record<string, string>;
}

const CRDS = [
  'syncs.capstan.dev',
  'gitrepositories.capstan.dev',
  'helmreleases.capstan.dev',
  'subscriptions.capstan.dev',
];
const MIN_KUBE = [1, 28] as const;

const message = (e: unknown): string => {
  const cause = (e as { cause?: { code?: string } }).cause?.code;
  return cause ?? (e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e));
};

async function attempt(check: string, f: () => Promise<string>): Promise<CheckResult> {
  try {
    return { check, ok: true, detail: await f() };
  } catch (e) {
    return { check, ok: false, detail: message(e) };
  }
}

/** `major.minor` at least `min`. */
export function atLeast(version: string, min: readonly [number, number]): boolean {
  const [major = 0, minor = 0] = version
    .replace(/^v/, '')
    .split('.')
    .map((p) => Number.parseInt(p, 10));
  return major > min[0] || (major === min[0] && minor >= min[1]);
}

/**
 * `capstan check`: everything Capstan needs, reachable and of a version it works with: the
 * Kubernetes API server and Capstan's CRDs, NATS with JetStream, PostgreSQL (when a URL is
 * given), and each Capstan service ready and running this CLI's version.
 */
export async function runChecks(t: CheckTargets): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  results.push(
    await attempt('kubernetes', async () => {
      const v = await t.kube().makeApiClient(VersionApi).getCode();
      if (!atLeast(`${v.major}.${v.minor.replace(/\D.*$/, '')}`, MIN_KUBE))
        throw new Error(`${v.gitVersion}: Capstan needs ${MIN_KUBE.join('.')} or newer`);
      return `${v.gitVersion} at ${t.kube().getCurrentCluster()?.server ?? '?'}`;
    }),
  );
  results.push(
    await attempt('crds', async () => {
      const api = t.kube().makeApiClient(ApiextensionsV1Api);
      const missing: string[] = [];
      for (const name of CRDS) {
        const crd = await api.readCustomResourceDefinition({ name }).catch(() => null);
        if (!crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'))
          missing.push(name);
      }
      if (missing.length > 0)
        throw new Error(`not installed: ${missing.join(', ')} (helm install deploy/capstan)`);
      return `${CRDS.length} established`;
    }),
  );
  results.push(
    await attempt('nats', async () => {
      const nc = await connect({ servers: t.natsUrl, timeout: 3_000, reconnect: false });
      try {
        const version = nc.info?.version ?? '?';
        if (!atLeast(version, [2, 9])) throw new Error(`nats-server ${version}: Capstan needs 2.9 or newer`);
        const account = await (await jetstreamManager(nc, { timeout: 3_000 })).getAccountInfo();
        return `nats-server ${version}, JetStream with ${account.streams} streams`;
      } finally {
        await nc.close();
      }
    }),
  );
  if (t.databaseUrl) {
    const url = t.databaseUrl;
    results.push(
      await attempt('postgres', async () => {
        const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
        await client.connect();
        try {
          const version =
            (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ??
            '?';
          if (!atLeast(version, [14, 0])) throw new Error(`PostgreSQL ${version}: Capstan needs 14 or newer`);
          const migrations = await client.query<{ n: string }>(
            `SELECT count(*)::text AS n FROM _prisma_migrations WHERE finished_at IS NOT NULL`,
          );
          return `PostgreSQL ${version}, ${migrations.rows[0]?.n ?? 0} migrations applied`;
        } finally {
          await client.end();
        }
      }),
    );
  } else
    results.push({
      check: 'postgres',
      ok: 'skipped',
      detail: 'no --database URL (the audit service checks its own)',
    });
  for (const [name, base] of Object.entries(t.services)) {
    results.push(
      await attempt(name, async () => {
        const ready = await fetch(new URL('/readyz', base), { signal: AbortSignal.timeout(5_000) });
        const body = (await ready.json()) as { checks?: Record<string, string> };
        const checks = Object.entries(body.checks ?? {})
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
        if (!ready.ok) throw new Error(`not ready: ${checks}`);
        const metrics = await (
          await fetch(new URL('/metrics', base), { signal: AbortSignal.timeout(5_000) })
        ).text();
        const version = /capstan_build_info\{[^}]*version="([^"]+)"/.exec(metrics)?.[1];
        if (version !== CAPSTAN_VERSION)
          throw new Error(`runs ${version ?? 'an unknown version'}, this CLI is ${CAPSTAN_VERSION}`);
        return `ready (${checks || 'no dependencies'}), version ${version}`;
      }),
    );
  }
  return results;
}

export function renderChecks(results: CheckResult[]): string {
  return renderTable(
    ['check', 'result', 'detail'],
    results.map((r) => [r.check, r.ok === 'skipped' ? 'skipped' : r.ok ? 'ok' : 'FAILED', r.detail]),
  );
}
