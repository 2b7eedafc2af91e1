// A real Prometheus (Debian's `prometheus`) on a free loopback port, scraping the data plane's
// pods every second through a file_sd target file the fixture rewrites as pods come and go.
// Target labels `namespace`/`pod` are what Linkerd's scrape config adds; `kubernetes_namespace`
// and `kubernetes_pod_name` what Flagger's Gateway API / kubernetes queries select on.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from '../cluster/ports.js';
import type { RunningPod } from './pod-runner.js';
import { hasExited, stopChild } from './stop-child.js';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';

export class TestPrometheus {
  private child?: ChildProcess;
  private stopped = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<TestPrometheus> {
    const dir = await mkdtemp(join(tmpdir(), 'capstan-prometheus-'));
    const [port] = await freePorts(1);
    const p = new TestPrometheus(dir, port ?? 0);
    await writeFile(
      join(dir, 'prometheus.yml'),
      [
        'global: {scrape_interval: 1s, evaluation_interval: 1s}',
        'scrape_configs:',
        '  - job_name: data-plane',
        '    scrape_interval: 1s',
        '    file_sd_configs: [{files: ["' + join(dir, 'targets.json') + '"], refresh_interval: 1s}]',
        '',
      ].join('\n'),
    );
    await p.setTargets([]);
    await p.resume();
    return p;
  }

  async setTargets(pods: RunningPod[]): Promise<void> {
    if (this.stopped) return;
    const groups = pods.map((pod) => ({
      targets: [`${pod.ip}:${pod.port}`],
      labels: { kubernetes_namespace: pod.namespace, kubernetes_pod_name: pod.name },
    }));
    // Rename, so Prometheus never reads a half-written file.
    const tmp = join(this.dir, 'targets.json.tmp');
    await writeFile(tmp, JSON.stringify(groups));
    await rename(tmp, join(this.dir, 'targets.json'));
  }

  /** Starts (again) on the same port and data directory: the "Prometheus is back" half of an outage. */
  async resume(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${join(this.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    this.child = child;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (hasExited(child)) throw new Error(`prometheus exited with ${child.exitCode ?? child.signalCode}`);
      try {
        if ((await fetch(`${this.url}/-/ready`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error('prometheus not ready within 30s');
  }

  /** Stops the server (an outage); `resume` brings it back. */
  async pause(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    await stopChild(child, 'prometheus', 15_000);
  }

  async query(q: string): Promise<number | null> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as { data?: { result?: { value?: [number, string] }[] } };
    const v = body.data?.result?.[0]?.value?.[1];
    return v === undefined || !Number.isFinite(Number(v)) ? null : Number(v);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pause();
    await rm(this.dir, { recursive: true, force: true });
  }
}
