// A podinfo-like app, one process per pod, listening on the pod's own (loopback) IP and port.
// It also plays the Linkerd proxy's part for metrics: it counts its inbound responses in
// Linkerd's format (response_total, response_latency_ms_bucket with Linkerd's labels), and in
// podinfo's own format (http_request_duration_seconds) for the Gateway API queries.
// Usage: node podinfo-app.js <json options>; the fault settings come from the pod's env.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

export interface PodinfoOptions {
  ip: string;
  port: number;
  version: string;
  namespace: string;
  deployment: string;
  pod: string;
  /** Fraction of requests answered 500 (PODINFO_ERROR_RATE). */
  errorRate: number;
  /** Added latency in ms (PODINFO_LATENCY_MS). */
  latencyMs: number;
}

const BUCKETS_MS = [
  1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 100, 200, 300, 400, 500, 1000, 2000, 3000, 4000, 5000, 10000,
];

interface Counters {
  responses: Map<string, number>;
  latency: Map<string, number[]>;
  latencySum: Map<string, number>;
}

export function startPodinfo(o: PodinfoOptions) {
  const c: Counters = { responses: new Map(), latency: new Map(), latencySum: new Map() };
  let served = 0;
  const record = (status: number, ms: number) => {
    const key = String(status);
    c.responses.set(key, (c.responses.get(key) ?? 0) + 1);
    const b = c.latency.get(key) ?? BUCKETS_MS.map(() => 0);
    BUCKETS_MS.forEach((le, i) => {
      if (ms <= le) b[i] = (b[i] ?? 0) + 1;
    });
    c.latency.set(key, b);
    c.latencySum.set(key, (c.latencySum.get(key) ?? 0) + ms);
  };
  const server = createServer((req, res) => {
    if (req.url === '/metrics') return metrics(res);
    const started = Date.now();
    served++;
    // Deterministic spread of failures: every n-th request, so a rate of 0.5 is exactly half.
    const fail = o.errorRate > 0 && served % Math.max(1, Math.round(1 / o.errorRate)) === 0;
    setTimeout(() => {
      const status = answer(req, res, fail);
      record(status, Date.now() - started);
    }, o.latencyMs);
  });
  const answer = (req: IncomingMessage, res: ServerResponse, fail: boolean): number => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'X-Podinfo-Version': o.version });
      res.end(JSON.stringify(body));
      return status;
    };
    req.resume();
    if (fail) return json(500, { error: 'fault injected' });
    const status = /^\/status\/(\d{3})$/.exec(req.url ?? '');
    if (status) return json(Number(status[1]), { status: Number(status[1]) });
    if (req.url === '/token' && req.method === 'POST')
      return json(200, {
        token: randomBytes(24).toString('base64url'),
        expires_at: new Date(Date.now() + 60_000).toISOString(),
      });
    if (req.url === '/healthz' || req.url === '/readyz') return json(200, { status: 'OK' });
    return json(200, {
      hostname: o.pod,
      version: o.version,
      message: `greetings from podinfo v${o.version}`,
    });
  };
  const metrics = (res: ServerResponse) => {
    const base = `direction="inbound",namespace="${o.namespace}",deployment="${o.deployment}",pod="${o.pod}",tls="true"`;
    const lines: string[] = ['# TYPE response_total counter'];
    for (const [code, n] of c.responses) {
      const cls = Number(code) >= 500 ? 'failure' : 'success';
      lines.push(`response_total{${base},classification="${cls}",status_code="${code}"} ${n}`);
    }
    lines.push('# TYPE response_latency_ms histogram');
    for (const [code, b] of c.latency) {
      BUCKETS_MS.forEach((le, i) =>
        lines.push(`response_latency_ms_bucket{${base},status_code="${code}",le="${le}"} ${b[i] ?? 0}`),
      );
      lines.push(
        `response_latency_ms_bucket{${base},status_code="${code}",le="+Inf"} ${c.responses.get(code) ?? 0}`,
      );
      lines.push(`response_latency_ms_sum{${base},status_code="${code}"} ${c.latencySum.get(code) ?? 0}`);
      lines.push(`response_latency_ms_count{${base},status_code="${code}"} ${c.responses.get(code) ?? 0}`);
    }
    lines.push('# TYPE http_request_duration_seconds histogram');
    for (const [code, b] of c.latency) {
      const l = `method="GET",path="root",status="${code}"`;
      BUCKETS_MS.forEach((le, i) =>
        lines.push(`http_request_duration_seconds_bucket{${l},le="${le / 1000}"} ${b[i] ?? 0}`),
      );
      lines.push(`http_request_duration_seconds_bucket{${l},le="+Inf"} ${c.responses.get(code) ?? 0}`);
      lines.push(`http_request_duration_seconds_sum{${l}} ${(c.latencySum.get(code) ?? 0) / 1000}`);
      lines.push(`http_request_duration_seconds_count{${l}} ${c.responses.get(code) ?? 0}`);
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(lines.join('\n') + '\n');
  };
  // kwok hands a deleted pod's IP to the next pod at once; its process may still be exiting.
  const listen = (attempt: number): Promise<{ close(): Promise<void> }> =>
    new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE' && attempt < 50) setTimeout(() => resolve(listen(attempt + 1)), 200);
        else reject(e);
      };
      server.once('error', onError);
      server.listen(o.port, o.ip, () => {
        server.off('error', onError);
        resolve({ close: () => new Promise<void>((r) => server.close(() => r())) });
      });
    });
  return listen(0);
}

// Run as a process: `node podinfo-app.js '<json>'`.
if (process.argv[1]?.endsWith('podinfo-app.js') && process.argv[2]) {
  const options = JSON.parse(process.argv[2]) as PodinfoOptions;
  startPodinfo(options).then(
    () => process.stdout.write(`podinfo ${options.version} listening on ${options.ip}:${options.port}\n`),
    (e: unknown) => {
      process.stderr.write(`podinfo: ${String(e)}\n`);
      process.exit(1);
    },
  );
  process.on('SIGTERM', () => process.exit(0));
}
