import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChartNotFoundError, ChartTooLargeError, HttpChartFetcher } from './chart-fetcher.js';
import type { Resolver } from './pinned-http.js';
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
      .catch((e: unknown) => e as Error & { cause?: { code?: string } });
    assert.ok(error instanceof Error);
    assert.match(error.message, new RegExp(`GET http://127\\.0\\.0\\.1:${port}/charts/index\\.yaml failed`));
    assert.equal(error.cause?.code, 'ECONNREFUSED');
  });

  it('stops reading a repository that answers more than it may, naming the URL and the bound', async () => {
    const fetcher = new HttpChartFetcher(join(dir, 'cache-bounded'), 10_000, {}, { maxBytes: 64 });
    await assert.rejects(
      fetcher.fetch(charts.url, 'lib', '^1.0.0'),
      new RegExp(`${charts.url}/index\\.yaml: the answer is larger than 64 bytes \\(limit maxChartBytes\\)`),
    );
  });
});

// DNS rebinding and oversized answers from a repository named in Git: the resolver is an adapter
// that answers differently each time; the repositories are real HTTP servers on 127.0.0.1.
describe('HttpChartFetcher against a hostile repository', () => {
  const id = randomBytes(3).toString('hex');
  let dir: string;
  let charts: ChartRepository;
  let hostile: Server;
  let hostileUrl = '';
  const served: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'capstan-fetcher-hostile-'));
    charts = await ChartRepository.start(id, [['lib', '1.2.0']]);
    // An index naming an archive that never ends, and one redirected to the metadata service.
    hostile = createHttpServer((req, res) => {
      served.push(req.url ?? '');
      if (req.url === '/index.yaml')
        return void res.writeHead(200).end(`apiVersion: v1
entries:
  endless:
  - {name: endless, version: 1.0.0, urls: [endless-1.0.0.tgz]}
  declared:
  - {name: declared, version: 1.0.0, urls: [declared-1.0.0.tgz]}
  moved:
  - {name: moved, version: 1.0.0, urls: [moved-1.0.0.tgz]}
`);
      if (req.url === '/endless-1.0.0.tgz') {
        res.writeHead(200, { 'content-type': 'application/gzip' });
        const chunk = Buffer.alloc(16 * 1024, 7);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      if (req.url === '/declared-1.0.0.tgz')
        return void res.writeHead(200, { 'content-length': String(512 * 1024 * 1024) }).end();
      if (req.url === '/moved-1.0.0.tgz')
        return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    hostileUrl = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}`;
  });
  after(async () => {
    await charts.close();
    hostile.closeAllConnections();
    await new Promise((resolve) => hostile.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('connects to the address it checked: a name that rebinds to the metadata service is refused', async () => {
    let asked = 0;
    // `.test` names exist in no DNS (RFC 6761): the repository is reachable only through the pin.
    const rebinding: Resolver = () => {
      asked++;
      return Promise.resolve([{ address: asked === 1 ? '127.0.0.1' : '169.254.169.254', family: 4 }]);
    };
    const port = new URL(charts.url).port;
    const url = `http://charts.capstan.test:${port}/charts`;
    const fetcher = new HttpChartFetcher(
      join(dir, 'pinned'),
      10_000,
      {},
      {
        checkAddresses: true,
        resolver: rebinding,
      },
    );
    const chart = await fetcher.fetch(url, 'lib', '^1.0.0');
    assert.equal(chart.version, '1.2.0');
    assert.equal(asked, 1, 'one answer, the one connected to');

    const before = charts.requests.length;
    await assert.rejects(fetcher.fetch(url, 'lib', '^1.0.0'), (e: unknown) => {
      assert.ok(e instanceof ChartNotFoundError, String(e));
      assert.match(
        e.message,
        /charts\.capstan\.test resolves to 169\.254\.169\.254, a link-local, multicast or unspecified address; charts are not read from there/,
      );
      return true;
    });
    assert.equal(charts.requests.length, before, 'nothing was sent anywhere');
  });

  it('stops reading an archive that never ends at the limit, naming the archive and the limit', async () => {
    const fetcher = new HttpChartFetcher(join(dir, 'endless'), 10_000, {}, { maxBytes: 256 * 1024 });
    const started = Date.now();
    await assert.rejects(fetcher.fetch(hostileUrl, 'endless', '1.0.0'), (e: unknown) => {
      assert.ok(e instanceof ChartTooLargeError, String(e));
      assert.equal(e.url, `${hostileUrl}/endless-1.0.0.tgz`);
      assert.match(
        e.message,
        /endless-1\.0\.0\.tgz: the answer is larger than 262144 bytes \(limit maxChartBytes\)/,
      );
      return true;
    });
    assert.ok(Date.now() - started < 5_000);
    // A declared length over the limit is refused before a byte of the body is read.
    await assert.rejects(
      fetcher.fetch(hostileUrl, 'declared', '1.0.0'),
      /declared-1\.0\.0\.tgz: the answer is larger than 262144 bytes \(536870912 bytes\) \(limit maxChartBytes\)/,
    );
  });

  it('checks every redirect hop like the first', async () => {
    const fetcher = new HttpChartFetcher(join(dir, 'moved'), 10_000, {}, { checkAddresses: true });
    await assert.rejects(
      fetcher.fetch(hostileUrl, 'moved', '1.0.0'),
      /moved-1\.0\.0\.tgz \(redirected to http:\/\/169\.254\.169\.254\/latest\/meta-data\/\): 169\.254\.169\.254 is a link-local/,
    );
  });
});
