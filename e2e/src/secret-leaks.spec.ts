import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { run as capstan } from '@capstan/cli';
import { GitWorkspace } from './support/git-workspace.js';
import { HttpGitServer } from './support/git-http.js';
import { applyYaml, readObject } from './support/kube.js';
import { ProcessPlatform } from './support/process-platform.js';
import { repositoryAndSync } from './support/sync-yaml.js';
import { waitFor } from './support/wait.js';

// Secret values never leave the cluster through Capstan. A unique secret value is planted in Git
// (a Secret and a field marked capstan.dev/sensitive), another is typed into the Secret by hand
// (drift), a third comes with a commit that fails to apply and with `capstan diff`, and the
// repository URL carries a password. Then every place Capstan writes to is read whole: Postgres
// (every table), every NATS stream of the run (every message, headers included), the services'
// logs, the audit API, its SSE stream, the CLI's output and the statuses. None holds any of them.

interface Decision {
  action: string;
  reason: string;
  message: string;
  targets: { kind: string; namespace: string; name: string }[];
  source?: { url: string };
  evidence: { fields?: { path: string; before: unknown; after: unknown }[] };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('secrets and credentials never leave the cluster', () => {
  const id = randomBytes(4).toString('hex');
  const ns = `leak-${id}`;
  const name = `leak-${id}`;
  const planted = `planted-secret-${id}`;
  const drifted = `typed-by-hand-${id}`;
  const next = `next-secret-${id}`;
  const urlPassword = `url-password-${id}`;
  const forbidden = [planted, drifted, next, urlPassword].flatMap((s) => [s, b64(s)]);

  let platform: ProcessPlatform;
  let ws: GitWorkspace;
  let server: HttpGitServer;
  const sse = { text: '', status: 0, error: '', stop: new AbortController() };
  const cliOutput: string[] = [];

  const secretYaml = (value: string) => `apiVersion: v1
kind: Secret
metadata: {name: db, namespace: ${ns}}
data: {password: ${b64(value)}, url: ${b64(`postgres://app:${value}@db/app`)}}
`;
  const files = (value: string): Record<string, string> => ({
    'app/namespace.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${ns}}\n`,
    'app/secret.yaml': secretYaml(value),
    'app/config.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: ${ns}
  annotations: {capstan.dev/sensitive: data.DATABASE_URL}
data: {DATABASE_URL: "postgres://app:${value}@db/app", mode: strict}
`,
  });
  const decisions = async () =>
    (await platform.auditGet<{ items: Decision[] }>('/api/v1/decisions?limit=500')).items;
  const cli = async (...argv: string[]) => {
    const lines: string[] = [];
    const code = await capstan(
      argv,
      (s) => lines.push(s),
      (s) => lines.push(s),
      {
        KUBECONFIG: platform.kubeconfigPath,
        CAPSTAN_CACHE_DIR: join(platform.scratch, 'cli-cache'),
        CAPSTAN_AUDIT_URL: platform.auditUrl,
        CAPSTAN_TOKEN: platform.auditToken,
      },
    );
    const text = lines.join('\n');
    cliOutput.push(text);
    return { code, text };
  };

  before(async () => {
    platform = await ProcessPlatform.start({ LOG_LEVEL: 'verbose' });
    ws = await GitWorkspace.create(join(platform.scratch, 'git'), 'app');
    await ws.write(files(planted));
    ws.commit('Deploy with a database password');
    server = await HttpGitServer.start(ws.root, { username: 'deploy', password: urlPassword });
    // Every decision as it is streamed, from before the first one.
    void fetch(`${platform.auditUrl}/api/v1/events/stream?since=2000-01-01T00:00:00Z`, {
      headers: { authorization: `Bearer ${platform.auditToken}` },
      signal: sse.stop.signal,
    })
      .then(async (res) => {
        sse.status = res.status;
        for await (const chunk of res.body ?? [])
          sse.text += Buffer.from(chunk as Uint8Array).toString('utf8');
      })
      .catch((e: unknown) => (sse.error = String(e)));
    const url = server.url('app.git').replace('http://', `http://deploy:${urlPassword}@`);
    await applyYaml(platform.api, repositoryAndSync(name, url, './app'));
  });

  after(async () => {
    sse.stop.abort();
    await server.stop();
    await platform.stop();
  });

  it('applies, records drift of the Secret, fails a commit and diffs, naming keys but never values', async () => {
    const applied = await waitFor(
      'applied decision',
      async () => (await decisions()).find((d) => d.action === 'applied'),
      90_000,
    );
    assert.match(applied.source?.url ?? '', /^http:\/\/\*\*\*@127\.0\.0\.1:\d+\/app\.git$/);
    const live = await readObject<{ data: Record<string, string> }>(platform.api, 'v1', 'Secret', ns, 'db');
    assert.equal(
      live?.data['password'],
      b64(planted),
      'the cluster has the value: only Capstan must not repeat it',
    );

    // Someone edits the Secret by hand.
    await platform.api.applyRaw(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db', namespace: ns },
        data: { password: b64(drifted) },
      },
      { fieldManager: 'kubectl', force: true },
    );
    const drift = await waitFor('drift.detected of the Secret', async () =>
      (await decisions()).find(
        (d) => d.action === 'drift.detected' && d.targets.some((t) => t.name === 'db'),
      ),
    );
    assert.deepEqual(drift.evidence.fields, [
      { path: 'data.password', before: '(redacted)', after: '(redacted)', manager: 'kubectl' },
    ]);
    assert.match(drift.message, /kubectl changed data\.password \("\(redacted\)" -> "\(redacted\)"\)/);

    // A commit with the next password and an object the API server refuses: nothing applies.
    await ws.write({
      ...files(next),
      'app/broken.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken, namespace: ${ns}}\ndata: {ok: "1"}\nnotAField: ${next}\n`,
    });
    ws.commit('Rotate the password (and break the commit)');
    const failed = await waitFor(
      'failed decision',
      async () => (await decisions()).find((d) => d.action === 'failed'),
      90_000,
    );
    assert.equal(failed.reason, 'ApplyFailed');

    // capstan diff: the failing commit (its message), and a local folder with only the rotation.
    const atCommit = await cli('diff', `sync/${name}`);
    assert.ok(atCommit.code > 1, atCommit.text);
    await ws.write({
      'app/broken.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: broken, namespace: ${ns}}\n`,
    });
    const local = await cli('diff', `sync/${name}`, '--path', join(ws.root, 'app-work', 'app'));
    assert.match(local.text, /Secret\/db changed/);
    assert.match(local.text, /\(redacted\) \(after\)/);
    await cli('who', `${ns}/Secret/db`);
  });

  it('leaves no trace of the values or the URL password in any sink', async () => {
    // Let every consumer catch up: the audit has the failed decision, the stream sent it.
    await waitFor(
      `the SSE stream sent the failed decision (HTTP ${sse.status} ${sse.error}: ${sse.text.slice(-300)})`,
      () => (/"action": ?"failed"/.test(sse.text) ? true : undefined),
      30_000,
    );
    const sinks: Record<string, string> = {
      ...(await postgresRows(platform.db.url)),
      ...(await natsMessages(platform.env['NATS_URL'] ?? '', platform.env['EVENT_PREFIX'] ?? '')),
      ...(await platform.logs()),
      'audit API decisions': JSON.stringify(await decisions()),
      'audit API history': JSON.stringify(await platform.auditGet(`/api/v1/objects/${ns}/Secret/db/history`)),
      'SSE stream': sse.text,
      'CLI output': cliOutput.join('\n'),
      'Sync status': JSON.stringify(
        (await readObject(platform.api, 'capstan.dev/v1alpha1', 'Sync', 'default', name))?.['status'],
      ),
      'GitRepository status': JSON.stringify(
        (await readObject(platform.api, 'capstan.dev/v1alpha1', 'GitRepository', 'default', name))?.[
          'status'
        ],
      ),
    };
    // Not vacuous: the sinks hold the story, only without the values.
    const all = Object.values(sinks).join('\n');
    for (const expected of ['drift.detected', 'data.password', 'ApplyFailed', ns])
      assert.ok(all.includes(expected), `the sinks record ${expected}`);
    assert.ok(
      Object.keys(sinks).some((k) => k.startsWith('nats ')),
      'NATS streams were read',
    );
    assert.ok(
      Object.keys(sinks).some((k) => k.startsWith('postgres ')),
      'Postgres tables were read',
    );
    const leaks = Object.entries(sinks).flatMap(([sink, text]) =>
      forbidden.filter((value) => text.includes(value)).map((value) => `${sink}: ${value}`),
    );
    assert.deepEqual(leaks, []);
  });
});

/** Every row of every table of the audit database, one text per table. */
async function postgresRows(url: string): Promise<Record<string, string>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
        WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
    );
    const out: Record<string, string> = {};
    for (const t of tables.rows) {
      const rows = await client.query<{ row: string }>(
        `SELECT row_to_json(t)::text AS row FROM "${t.schema}"."${t.name}" t`,
      );
      out[`postgres ${t.schema}.${t.name}`] = rows.rows.map((r) => r.row).join('\n');
    }
    return out;
  } finally {
    await client.end();
  }
}

/** Every message (subject, headers, body) of every stream of this run's prefix, KV buckets included. */
async function natsMessages(url: string, prefix: string): Promise<Record<string, string>> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const stream = prefix.toUpperCase().replaceAll('-', '_');
    const out: Record<string, string> = {};
    for await (const info of jsm.streams.list()) {
      const streamName = info.config.name;
      if (!streamName.startsWith(`${stream}_`) && !streamName.startsWith(`KV_${stream}_`)) continue;
      const texts: string[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(streamName, { seq }).catch(() => null);
        if (!m) continue;
        const headers = [...m.header.keys()].map((k) => `${k}: ${m.header.get(k)}`);
        texts.push(`${m.subject}\n${headers.join('\n')}\n${m.string()}`);
      }
      out[`nats ${streamName}`] = texts.join('\n');
    }
    return out;
  } finally {
    await nc.close();
  }
}
