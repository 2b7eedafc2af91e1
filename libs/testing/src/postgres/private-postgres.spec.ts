import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startPrivatePostgres, type PrivatePostgres } from './private-postgres.js';

async function select1(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one;
  } finally {
    await client.end();
  }
}

void describe('startPrivatePostgres', () => {
  let server: PrivatePostgres;
  before(async () => {
    server = await startPrivatePostgres();
  });
  after(() => server.destroy());

  void it('runs a real server that can be stopped and started again with its data', async () => {
    assert.equal(await select1(server.url), 1);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query('CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)');
    await client.end();

    await server.stop();
    await assert.rejects(select1(server.url), /ECONNREFUSED|connect/);

    await server.start();
    const again = new pg.Client({ connectionString: server.url });
    await again.connect();
    const { rows } = await again.query<{ v: number }>('SELECT v FROM kept');
    await again.end();
    assert.deepEqual(rows, [{ v: 7 }]);
  });
});
