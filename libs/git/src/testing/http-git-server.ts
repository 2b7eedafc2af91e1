import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const BACKEND = '/usr/lib/git-core/git-http-backend';

export type HttpGitAuth = { username: string; password: string } | { bearerToken: string };

export interface HttpGitServerOptions {
  /**
   * Runs when a push's pack arrives, before git-http-backend sees it: the client has already read
   * the branch tips, so what this does to a repository (another push) lands between the client's
   * fetch and its push, like a person pushing at that moment.
   */
  beforePush?: (repository: string) => Promise<void>;
}

/**
 * A real smart-HTTP Git server for tests: git's own `git-http-backend` CGI behind a node http
 * server, serving every bare repository under `root`. With `auth`, requests without the right
 * Authorization header get 401 (and a Basic challenge), like a private GitHub repository.
 */
export class HttpGitServer {
  /** Every request's Authorization header, so tests can check what a client sent. */
  readonly seenAuthorization: (string | undefined)[];

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
    seen: (string | undefined)[],
  ) {
    this.seenAuthorization = seen;
  }

  static async start(
    root: string,
    auth?: HttpGitAuth,
    options: HttpGitServerOptions = {},
  ): Promise<HttpGitServer> {
    const expected =
      auth === undefined
        ? undefined
        : 'bearerToken' in auth
          ? `Bearer ${auth.bearerToken}`
          : `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    const seen: (string | undefined)[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (expected !== undefined && req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="capstan-test"' }).end('unauthorized\n');
        return;
      }
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const beforePush = options.beforePush;
      if (req.method === 'POST' && path.endsWith('/git-receive-pack') && beforePush) {
        // The body waits in the socket until piped to the backend.
        beforePush(path.replace(/^\/|\/git-receive-pack$/g, '')).then(
          () => serveCgi(root, req, res),
          () => res.writeHead(500).end('beforePush failed\n'),
        );
        return;
      }
      serveCgi(root, req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new HttpGitServer(server, `http://127.0.0.1:${port}`, seen);
  }

  /** The clone URL of `<root>/<name>`. */
  url(name: string): string {
    return `${this.baseUrl}/${name}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function serveCgi(root: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const child = spawn(BACKEND, [], {
    env: {
      PATH: '/usr/bin:/bin',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      REMOTE_ADDR: '127.0.0.1',
      REMOTE_USER: 'tester',
    },
  });
  req.pipe(child.stdin);
  let head = Buffer.alloc(0);
  let headersSent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    let status = 200;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.writeHead(status);
    headersSent = true;
    res.write(head.subarray(end + 4));
  });
  child.on('close', () => {
    if (!headersSent) res.writeHead(500);
    res.end();
  });
  child.on('error', () => {
    if (!headersSent) res.writeHead(500);
    res.end();
  });
}
