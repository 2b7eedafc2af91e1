import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { scratchServerUrl } from './env.js';

/**
 * An empty database for this package's own tests. (Everyone else uses @capstan/testing's
 * createTestDatabase, which clones a migrated template; it depends on this package, so the
 * migration runner's tests cannot use it.)
 */
export async function createScratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = new URL(scratchServerUrl());
  server.pathname = '/postgres';
  const name = `capstan_scratch_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(server.toString(), (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withAdmin(server.toString(), (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}

async function withAdmin(url: string, run: (c: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await run(client);
  } finally {
    await client.end();
  }
}
