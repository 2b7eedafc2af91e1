import pg from 'pg';
import { migrate } from '@capstan/db';
import { databaseUrl, testDatabaseServerUrl } from '@capstan/testing';

const CHUNK = 1_000_000;
// Shape of the generated log: 200 namespaces x 50 Syncs, 1-3 objects per decision (30,000 objects), 2,000 people.
export const NAMESPACES = 200;
export const APPS = 50;
export const PEOPLE = 2_000;
const ACTIONS = [
  'applied',
  'applied',
  'applied',
  'applied',
  'pruned',
  'skipped',
  'drift.detected',
  'drift.corrected',
];
const TABLES = ['decisions', 'decision_targets'];

export const datasetLabel = (rows: number) =>
  rows >= 1_000_000 ? `${rows / 1_000_000}m` : `${rows / 1_000}k`;

/**
 * The dataset's database, migrated and filled once; a later run reuses it if it is complete.
 * Filling is set-based SQL in one transaction with the two tables' indexes and keys dropped, then
 * rebuilt from their saved definitions (a sort per index instead of 10M random btree inserts,
 * one join per foreign key instead of 20M probes): the schema afterwards is the migrations' own.
 * One transaction, so an interrupted fill leaves the database as it was, indexes included.
 */
export async function benchDatabase(rows: number): Promise<string> {
  const server = testDatabaseServerUrl();
  const name = `capstan_bench_audit_${datasetLabel(rows)}`;
  const admin = new pg.Client({ connectionString: databaseUrl(server, 'postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(server, name);
  await migrate(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const have = Number(
      (await client.query<{ n: string }>('SELECT coalesce(max(seq), 0) AS n FROM decisions')).rows[0]?.n,
    );
    if (have < rows) await fill(client, name, have + 1, rows);
    // VACUUM, not only ANALYZE: it marks the pages all-visible, as autovacuum does on any production
    // server (also after inserts alone, since Postgres 13). This machine's server runs with
    // autovacuum off, and without the visibility map index-only scans read the heap and the planner
    // picks other plans than production would. A no-op when nothing changed since the last run.
    await client.query('VACUUM (ANALYZE) decisions');
    await client.query('VACUUM (ANALYZE) decision_targets');
    await prewarm(client, name);
  } finally {
    await client.end();
  }
  return url;
}

/**
 * Reads the two tables and their indexes into the OS page cache (pg_prewarm 'read'), heaps first so
 * the indexes are the last in and the last out. The benchmark measures a server whose working set
 * is in memory, as a production database's would be; on this shared machine the datasets and
 * every test database compete for the cache, and a request that hits the disk 40 times is a disk
 * benchmark. (Postgres here has 128 MB of shared_buffers, so the OS cache is where data stays.)
 */
async function prewarm(client: pg.Client, name: string): Promise<void> {
  const started = performance.now();
  await client.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
  const relations = await client.query<{ rel: string }>(
    `SELECT c.oid::regclass::text AS rel FROM pg_class c
      WHERE c.relname IN ('decisions', 'decision_targets')
         OR c.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = ANY($1::regclass[]))
      ORDER BY c.relkind = 'i', pg_relation_size(c.oid) DESC`,
    [TABLES],
  );
  for (const { rel } of relations.rows) await client.query(`SELECT pg_prewarm($1, 'read')`, [rel]);
  process.stderr.write(
    `${name}: prewarmed ${relations.rows.length} relations in ${((performance.now() - started) / 1_000).toFixed(0)} s\n`,
  );
}

async function fill(client: pg.Client, name: string, from: number, rows: number): Promise<void> {
  const log = (line: string) => process.stderr.write(`${name}: ${line}\n`);
  const started = performance.now();
  const since = () => `${((performance.now() - started) / 1_000).toFixed(0)} s`;
  await client.query('BEGIN');
  try {
    // Bench data only: losing it in a crash costs a rerun, so no need to wait for each flush.
    await client.query('SET LOCAL synchronous_commit = off');
    await client.query(`SET LOCAL maintenance_work_mem = '1GB'`);
    const saved = await dropKeysAndIndexes(client);
    log(`dropped ${saved.indexes.length} indexes and ${saved.constraints.length} keys`);
    for (let lo = from; lo <= rows; lo += CHUNK) {
      const hi = Math.min(rows, lo + CHUNK - 1);
      await client.query(insertDecisions, [lo, hi, rows]);
      await client.query(insertTargets, [lo, hi]);
      log(`rows ${lo}..${hi} at ${since()}`);
    }
    await client.query(`SELECT setval(pg_get_serial_sequence('decisions', 'seq'), $1)`, [rows]);
    for (const sql of [...saved.indexes, ...saved.constraints]) {
      await client.query(sql);
      log(`${sql.slice(0, 90)}... at ${since()}`);
    }
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK');
    throw e;
  }
}

/** Drops the tables' foreign keys, primary keys and other indexes; returns the SQL that rebuilds them, in order. */
async function dropKeysAndIndexes(client: pg.Client): Promise<{ indexes: string[]; constraints: string[] }> {
  // Foreign keys from or to the two tables (webhook_deliveries points at decisions.seq), then keys.
  const constraints = await client.query<{ tbl: string; name: string; def: string; type: string }>(
    `SELECT conrelid::regclass::text AS tbl, conname AS name, pg_get_constraintdef(oid) AS def, contype AS type
       FROM pg_constraint
      WHERE contype IN ('f', 'p', 'u')
        AND (conrelid = ANY($1::regclass[]) OR confrelid = ANY($1::regclass[]))
      ORDER BY contype = 'f' DESC`,
    [TABLES],
  );
  const indexes = await client.query<{ name: string; def: string }>(
    `SELECT indexname AS name, indexdef AS def FROM pg_indexes
      WHERE schemaname = current_schema() AND tablename = ANY($1)
        AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))`,
    [TABLES],
  );
  for (const c of constraints.rows) await client.query(`ALTER TABLE ${c.tbl} DROP CONSTRAINT "${c.name}"`);
  for (const i of indexes.rows) await client.query(`DROP INDEX "${i.name}"`);
  const add = (c: { tbl: string; name: string; def: string }) =>
    `ALTER TABLE ${c.tbl} ADD CONSTRAINT "${c.name}" ${c.def}`;
  return {
    indexes: indexes.rows.map((i) => i.def),
    // Keys before the foreign keys that need them.
    constraints: [
      ...constraints.rows.filter((c) => c.type !== 'f').map(add),
      ...constraints.rows.filter((c) => c.type === 'f').map(add),
    ],
  };
}

// $1..$2: the seq range; $3: total rows, to spread a year of timestamps over them.
const insertDecisions = `
  INSERT INTO decisions (id, event_id, event_source, seq, time, recorded_at, action, outcome, reason, message,
    actor_kind, actor_name, actor_email, actor_evidence, actors,
    source_repository, source_url, source_ref, source_revision, source_sha, source_commit_message, source_parents,
    source_author_name, source_author_email, source_committer_name, source_committer_email,
    image, cluster, decided_by_kind, decided_by_namespace, decided_by_name, change_set, evidence, correlation_id,
    traceparent, prev_hash, hash)
  OVERRIDING SYSTEM VALUE
  SELECT md5('d' || s)::uuid, 'bench-' || s, '/capstan/reconciler', s, t, t + interval '40 ms',
    (ARRAY['${ACTIONS.join("','")}'])[1 + (s * 7) % ${ACTIONS.length}], 'succeeded', 'ReconciliationSucceeded',
    'applied main@sha1:' || sha,
    'person', 'Dev ' || p, 'dev' || p || '@example.com', 'commit-author',
    jsonb_build_array(jsonb_build_object('kind', 'person', 'name', 'Dev ' || p, 'email', 'dev' || p || '@example.com')),
    ns || '/' || app, 'https://git.example.com/' || ns || '/' || app || '.git', 'branch/main', 'main@sha1:' || sha, sha,
    'change ' || s, ARRAY[lpad(to_hex(s - 1), 40, '0')],
    'Dev ' || p, 'dev' || p || '@example.com', 'Dev ' || p, 'dev' || p || '@example.com',
    NULL, 'prod-eu-1', 'Sync', ns, app,
    (SELECT jsonb_agg(jsonb_build_object('apiVersion', 'apps/v1', 'kind', 'Deployment', 'namespace', ns,
       'name', app || '-' || i, 'action', 'configured')) FROM generate_series(0, s % 3) i),
    jsonb_build_object('diff', jsonb_build_object('changed', 1 + s % 3)), 'corr-' || s, NULL,
    encode(sha256(('p' || s)::bytea), 'hex'), encode(sha256(('h' || s)::bytea), 'hex')
  FROM (
    SELECT s, 'team-' || (s % ${NAMESPACES}) AS ns, 'app-' || ((s / ${NAMESPACES}) % ${APPS}) AS app,
      (s * 7919) % ${PEOPLE} AS p, lpad(to_hex(s), 40, '0') AS sha,
      timestamptz '2025-01-01 00:00:00Z' + (s::float8 / $3 * 365 * 86400) * interval '1 second' AS t
    FROM generate_series($1::bigint, $2::bigint) s
  ) g`;

const insertTargets = `
  INSERT INTO decision_targets (decision_id, decision_seq, namespace, kind, api_version, name, action)
  SELECT md5('d' || s)::uuid, s, 'team-' || (s % ${NAMESPACES}),
    CASE WHEN i = 2 THEN 'ConfigMap' ELSE 'Deployment' END, CASE WHEN i = 2 THEN 'v1' ELSE 'apps/v1' END,
    'app-' || ((s / ${NAMESPACES}) % ${APPS}) || '-' || i, 'configured'
  FROM generate_series($1::bigint, $2::bigint) s, generate_series(0, 2) i
  WHERE i <= s % 3`;
