import http from 'node:http';
import https from 'node:https';

/**
 * Prometheus' HTTP API, instant and range queries. A provider that does not answer, answers
 * with an error status, or rejects the query throws PrometheusError (the judge's Error); an
 * empty or NaN result is `null` (no data: Inconclusive).
 */
export class PrometheusError extends Error {
  constructor(
    readonly address: string,
    message: string,
  ) {
    super(`prometheus ${address}: ${message}`);
    this.name = 'PrometheusError';
  }
}

export interface PrometheusAuth {
  username?: string;
  password?: string;
  token?: string;
}

/** A MetricTemplate's provider settings beyond the address and credentials. */
export interface PrometheusOptions {
  /** Sent with every query (a MetricTemplate's `provider.headers`: a tenant id, an API key). */
  headers?: Record<string, string>;
  /** Do not verify the server's TLS certificate (`provider.insecureSkipVerify`). */
  insecureSkipVerify?: boolean;
  timeoutMs?: number;
}

// Shared keep-alive pools with a ceiling: 100 Canaries ticking together must not open 200
// sockets to Prometheus (each one memory in the analyzer and a goroutine in Prometheus).
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 16 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 16 }),
  insecure: new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: false }),
};

interface ApiAnswer {
  status: 'success' | 'error';
  error?: string;
  data?: { resultType: string; result: { value?: [number, string]; values?: [number, string][] }[] };
}

export class PrometheusClient {
  /** Queries sent, for the analyzer's own metrics (and the benchmark's Prometheus qps). */
  static queries = 0;

  constructor(
    readonly address: string,
    private readonly auth: PrometheusAuth = {},
    private readonly options: PrometheusOptions = {},
  ) {}

  async instant(query: string, atMs: number): Promise<number | null> {
    const data = await this.call('/api/v1/query', { query, time: String(atMs / 1000) });
    const first = data.result[0]?.value?.[1];
    return toNumber(first);
  }

  /** The series of one query over [start, end] every stepSeconds; NaN points dropped. */
  async range(query: string, startMs: number, endMs: number, stepSeconds: number): Promise<number[]> {
    const data = await this.call('/api/v1/query_range', {
      query,
      start: String(startMs / 1000),
      end: String(endMs / 1000),
      step: String(stepSeconds),
    });
    return (data.result[0]?.values ?? []).map(([, v]) => Number(v)).filter((v) => Number.isFinite(v));
  }

  private async call(path: string, params: Record<string, string>) {
    PrometheusClient.queries++;
    const headers: Record<string, string> = {
      ...this.options.headers,
      'Content-Type': 'application/x-www-form-urlencoded',
    };
    if (this.auth.token) headers['Authorization'] = `Bearer ${this.auth.token}`;
    else if (this.auth.username !== undefined)
      headers['Authorization'] =
        `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password ?? ''}`).toString('base64')}`;
    let res: { status: number; text: string };
    try {
      res = await post(new URL(path, this.address), headers, new URLSearchParams(params).toString(), {
        timeoutMs: this.options.timeoutMs ?? 5_000,
        insecure: this.options.insecureSkipVerify ?? false,
      });
    } catch (e) {
      const err = e as { code?: string; message: string };
      throw new PrometheusError(this.address, err.code ?? err.message);
    }
    let body: ApiAnswer;
    try {
      body = JSON.parse(res.text) as ApiAnswer;
    } catch {
      throw new PrometheusError(this.address, `HTTP ${res.status}, not a Prometheus answer`);
    }
    if (body.status !== 'success' || !body.data)
      throw new PrometheusError(this.address, `HTTP ${res.status}: ${body.error ?? 'error'}`);
    return body.data;
  }
}

/**
 * One POST through the shared pools; rejects with the socket's error code, or ETIMEDOUT. A kept
 * connection the server closed meanwhile fails with ECONNRESET before anything was answered:
 * that one is retried once on a fresh connection (a query is safe to repeat), so an idle pool
 * is not mistaken for a provider error.
 */
async function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  o: { timeoutMs: number; insecure: boolean },
): Promise<{ status: number; text: string }> {
  try {
    return await postOnce(url, headers, body, o);
  } catch (e) {
    if ((e as { code?: string; reused?: boolean }).reused !== true) throw e;
    return postOnce(url, headers, body, o);
  }
}

function postOnce(
  url: URL,
  headers: Record<string, string>,
  body: string,
  o: { timeoutMs: number; insecure: boolean },
): Promise<{ status: number; text: string }> {
  const tls = url.protocol === 'https:';
  const agent = tls ? (o.insecure ? agents.insecure : agents.https) : agents.http;
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(
      url,
      { method: 'POST', headers: { ...headers, 'Content-Length': Buffer.byteLength(body) }, agent },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.setTimeout(o.timeoutMs, () =>
      req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
    );
    req.on('error', (e: Error & { code?: string }) =>
      reject(Object.assign(e, { reused: req.reusedSocket && e.code === 'ECONNRESET' })),
    );
    req.end(body);
  });
}

function toNumber(v: string | undefined): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}
