import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Helm HTTP repository for tests: real `helm package` archives and `helm repo index`, served by
 * node:http under /charts/, so chart fetches and `helm dependency build` work offline. Each chart
 * holds one ConfigMap named after the release (and chart, for subcharts) carrying its version.
 */
export class ChartRepository {
  /** Paths requested so far, so tests can tell what was downloaded (and how often). */
  readonly requests: string[];

  private constructor(
    readonly url: string,
    private readonly server: Server,
    private readonly dir: string,
    requests: string[],
  ) {
    this.requests = requests;
  }

  static async start(id: string, charts: [string, string][]): Promise<ChartRepository> {
    const dir = await mkdtemp(join(tmpdir(), `capstan-chartrepo-${id}-`));
    const repo = join(dir, 'repo');
    await mkdir(repo);
    for (const [name, version] of charts) await packageChart(join(dir, 'src'), name, version, repo);
    const requests: string[] = [];
    // Served under /charts/, and the index names archives by absolute URL, as real repositories do.
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      requests.push(path);
      if (!path.startsWith('/charts/') || path.includes('..')) return void res.writeHead(404).end();
      readFile(join(repo, path.slice('/charts/'.length))).then(
        (body) => res.writeHead(200).end(body),
        () => res.writeHead(404).end('not found'),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/charts`;
    execFileSync('helm', ['repo', 'index', repo, '--url', url], { stdio: 'ignore' });
    return new ChartRepository(url, server, dir, requests);
  }

  /** How many times an archive of `name` was downloaded. */
  downloads(name: string): number {
    return this.requests.filter((p) => new RegExp(`/${name}-[^/]+\\.tgz$`).test(p)).length;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** `helm package` of a one-ConfigMap chart into `destination`; returns the archive's path. */
export async function packageChart(
  scratch: string,
  name: string,
  version: string,
  destination: string,
): Promise<string> {
  const src = join(scratch, `${name}-${version}`);
  await mkdir(join(src, 'templates'), { recursive: true });
  await writeFile(join(src, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
  await writeFile(
    join(src, 'templates', 'cm.yaml'),
    `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}{{ if .Values.global.subchart }}-${name}{{ end }}}\ndata: {version: {{ .Chart.Version | quote }}}\n`,
  );
  await writeFile(join(src, 'values.yaml'), 'global: {subchart: false}\n');
  await mkdir(destination, { recursive: true });
  execFileSync('helm', ['package', src, '--destination', destination], { stdio: 'ignore' });
  return join(destination, `${name}-${version}.tgz`);
}
