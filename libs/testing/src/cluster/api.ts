// A tiny HTTP(S) JSON client for the start-up probes. The fixture does not load
// @kubernetes/client-node itself: that keeps start-up lean and lets the probes
// trust exactly the CA kube-apiserver generated.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ApiTarget {
  server: string;
  token?: string;
  caPem?: string;
}

export interface ApiResponse {
  status: number;
  body: unknown;
  text: string;
}

export function apiRequest(
  target: ApiTarget,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5_000,
): Promise<ApiResponse> {
  const url = new URL(path, target.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // agent: false — one connection per probe, nothing pooled that outlives the start.
    const req = request(
      url,
      { method, headers, agent: false, ca: target.caPem, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = JSON.parse(text);
          } catch {
            // /readyz and friends answer in plain text.
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${url.href} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
