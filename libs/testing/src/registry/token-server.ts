import { execFile } from 'node:child_process';
import { createSign, randomBytes, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * A Docker token service (distribution's token auth spec) for one user: checks Basic credentials,
 * issues RS256 JWTs with the signing certificate in `x5c`, which the registry trusts through its
 * `rootcertbundle`. Counts the tokens it issued, so tests can see caching.
 */
export class TokenServer {
  issued = 0;
  readonly service = 'capstan-test-registry';
  readonly issuer = 'capstan-test-token-issuer';

  private constructor(
    private readonly server: Server,
    readonly dir: string,
    readonly certPath: string,
  ) {}

  get realm(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/token`;
  }

  static async start(
    user: { username: string; password: string },
    expiresInSeconds = 300,
  ): Promise<TokenServer> {
    const dir = await mkdtemp(join(tmpdir(), 'capstan-token-'));
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=capstan-test-token',
    ]);
    const key = await readFile(keyPath, 'utf8');
    const certDer = new X509Certificate(await readFile(certPath)).raw.toString('base64');
    const ref: { holder?: TokenServer } = {};
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const expected = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
      if (url.pathname !== '/token' || req.headers.authorization !== expected) {
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      const scopes = url.searchParams.getAll('scope');
      const access = scopes.flatMap((s) => {
        const [type, name, actions] = s.split(':');
        return type && name ? [{ type, name, actions: (actions ?? '').split(',') }] : [];
      });
      const now = Math.floor(Date.now() / 1000);
      const token = jwt(key, certDer, {
        iss: ref.holder?.issuer,
        sub: user.username,
        aud: url.searchParams.get('service'),
        exp: now + expiresInSeconds,
        nbf: now - 10,
        iat: now,
        jti: randomBytes(8).toString('hex'),
        access,
      });
      if (ref.holder) ref.holder.issued++;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token, expires_in: expiresInSeconds, issued_at: new Date().toISOString() }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    ref.holder = new TokenServer(server, dir, certPath);
    return ref.holder;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server.close(r));
    await rm(this.dir, { recursive: true, force: true });
  }
}

function jwt(key: string, certDer: string, claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const signingInput = `${b64({ typ: 'JWT', alg: 'RS256', x5c: [certDer] })}.${b64(claims)}`;
  const signature = createSign('RSA-SHA256').update(signingInput).sign(key).toString('base64url');
  return `${signingInput}.${signature}`;
}
