import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusClient } from './prometheus-client.js';

/**
 * A MetricTemplate's provider settings on the wire: headers and credentials reach the server,
 * and insecureSkipVerify is what lets a query through to a server with a self-signed
 * certificate (openssl makes one; the servers answer in Prometheus' API format).
 */
describe('Prometheus client: MetricTemplate provider headers, auth and insecureSkipVerify', () => {
  const seen: IncomingMessage['headers'][] = [];
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    seen.push(req.headers);
    req.resume();
    req.on('end', () =>
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(
        JSON.stringify({
          status: 'success',
          data: { resultType: 'vector', result: [{ value: [0, '99.5'] }] },
        }),
      ),
    );
  };
  const plain = createHttp(answer);
  let tls: ReturnType<typeof createHttps>;
  let dir: string;
  const url = (s: { address(): unknown }, scheme: string) =>
    `${scheme}://127.0.0.1:${(s.address() as AddressInfo).port}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'capstan-prom-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-days',
        '1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    tls = createHttps(
      { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
      answer,
    );
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    await new Promise((r) => plain.close(r));
    await new Promise((r) => tls.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the provider headers and the credentials with every query', async () => {
    const client = new PrometheusClient(
      url(plain, 'http'),
      { username: 'flagger', password: 's3cret' },
      { headers: { 'X-Scope-OrgID': 'team-a' } },
    );
    assert.equal(await client.instant('up', Date.now()), 99.5);
    const h = seen.at(-1);
    assert.equal(h?.['x-scope-orgid'], 'team-a');
    assert.equal(h.authorization, `Basic ${Buffer.from('flagger:s3cret').toString('base64')}`);
  });

  it('a self-signed certificate is refused unless insecureSkipVerify', async () => {
    await assert.rejects(new PrometheusClient(url(tls, 'https')).instant('up', Date.now()), (e: Error) =>
      /prometheus https:\/\/127\.0\.0\.1:\d+: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED)/.test(e.message),
    );
    const insecure = new PrometheusClient(url(tls, 'https'), { token: 't' }, { insecureSkipVerify: true });
    assert.equal(await insecure.instant('up', Date.now()), 99.5);
    assert.equal(seen.at(-1)?.authorization, 'Bearer t');
  });

  it('an unreachable provider is a PrometheusError naming the address and the cause', async () => {
    const port = (plain.address() as AddressInfo).port;
    await new Promise((r) => plain.close(r));
    await assert.rejects(
      new PrometheusClient(`http://127.0.0.1:${port}`).instant('up', Date.now()),
      new RegExp(`prometheus http://127.0.0.1:${port}: ECONNREFUSED`),
    );
    await new Promise<void>((r) => plain.listen(port, '127.0.0.1', r));
  });
});
