import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpChartFetcher } from './chart-fetcher.js';
import { ChartRepository } from './testing/index.js';

// A real Helm repository on 127.0.0.1 (helm repo index) standing in for a public one.
describe('HttpChartFetcher', () => {
  const id = randomBytes(3).toString('hex');
  let dir: string;
  let charts: ChartRepository;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'capstan-fetcher-'));
    charts = await ChartRepository.start(id, [['lib', '1.2.0']]);
  });
  after(async () => {
    await charts.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a public repository from its mirror through the URL rewrite table', async () => {
    const fetcher = new HttpChartFetcher(join(dir, 'cache'), 10_000, {
      'https://charts.example.invalid/stable': charts.url,
    });
    const chart = await fetcher.fetch('https://charts.example.invalid/stable', 'lib', '^1.0.0');
    assert.equal(chart.version, '1.2.0');
    assert.ok((await stat(chart.archive)).size > 0);
    assert.ok(charts.requests.includes('/charts/index.yaml'));
  });

  it('names the URL and the cause when the repository refuses the connection', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const error = await new HttpChartFetcher(join(dir, 'cache'), 10_000)
      .fetch(`http://127.0.0.1:${port}/charts`, 'lib', '^1.0.0')
      .catch((e: unknown) => e as Error & { cause?: { cause?: { code?: string } } });
    assert.ok(error instanceof Error);
    assert.match(error.message, new RegExp(`GET http://127\\.0\\.0\\.1:${port}/charts/index\\.yaml failed`));
    assert.equal(error.cause?.cause?.code, 'ECONNREFUSED');
  });

  it('stops reading a repository that answers more than it may, naming the URL and the bound', async () => {
    const fetcher = new HttpChartFetcher(join(dir, 'cache-bounded'), 10_000, {}, { maxBytes: 64 });
    await assert.rejects(
      fetcher.fetch(charts.url, 'lib', '^1.0.0'),
      new RegExp(`${charts.url}/index\\.yaml: the answer is larger than 64 bytes`),
    );
  });
});
