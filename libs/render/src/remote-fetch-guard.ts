import type { LookupAddress } from 'node:dns';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type LookupFunction, type Socket } from 'node:net';
import { remoteAddressProblem } from '@capstan/git';
import { withoutCredentials } from '@capstan/gitops-core';
import { AddressRefusedError, resolveChecked, systemResolver, type Resolver } from './pinned-http.js';

export interface RemoteFetchGuardOptions {
  /** Most bytes all of one tool run's downloads may bring in. */
  maxBytes: number;
  /** DNS, as an adapter: each connection's name is asked once and the answer connected to. */
  resolver?: Resolver;
  /** Why an address is refused; by default the rule for Git remotes (link-local, multicast…). */
  addressRule?: (address: string) => string | undefined;
}

/**
 * An HTTP proxy on loopback for one run of a tool that fetches by itself (kustomize's remote
 * bases: git clones and plain HTTP files): the tool is pointed at it through the proxy variables,
 * and every name it connects to is resolved here once per run, checked, and every connection
 * opened to exactly that address (no DNS rebinding), with the bytes it brings in counted and cut off past `maxBytes`.
 * What it refused is kept in `problems`, so the tool's failure can be explained by its cause.
 */
export class RemoteFetchGuard {
  /** What was refused or cut off, in order: the cause of the tool's failure, if it failed. */
  readonly problems: string[] = [];
  private received = 0;
  private readonly sockets = new Set<Socket>();
  /** Each name is resolved once per run; every connection of the run goes to that answer. */
  private readonly resolved = new Map<string, Promise<LookupAddress>>();

  private constructor(
    private readonly server: Server,
    private readonly options: RemoteFetchGuardOptions,
  ) {}

  static async start(options: RemoteFetchGuardOptions): Promise<RemoteFetchGuard> {
    const server = createServer();
    const guard = new RemoteFetchGuard(server, options);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void guard.forward(req, res));
    server.on(
      'connect',
      (req: IncomingMessage, socket: Socket, head: Buffer) => void guard.tunnel(req, socket, head),
    );
    server.on('connection', (socket: Socket) => {
      guard.sockets.add(socket);
      socket.on('close', () => guard.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return guard;
  }

  /** Bytes brought in so far. */
  get bytes(): number {
    return this.received;
  }

  /**
   * The environment that sends the tool's fetches here: the proxy variables (Go's and curl's
   * spellings), none bypassed, and git limited to HTTP(S), the transports that honour a proxy
   * (ssh and git:// would connect by themselves).
   */
  env(): Record<string, string> {
    const { port } = this.server.address() as AddressInfo;
    const proxy = `http://127.0.0.1:${port}`;
    return {
      HTTP_PROXY: proxy,
      HTTPS_PROXY: proxy,
      http_proxy: proxy,
      https_proxy: proxy,
      NO_PROXY: '',
      no_proxy: '',
      ALL_PROXY: '',
      all_proxy: '',
      GIT_ALLOW_PROTOCOL: 'http:https',
      GIT_TERMINAL_PROMPT: '0',
    };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** `CONNECT host:port` (HTTPS): a tunnel to the checked address, counted. */
  private async tunnel(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    const target = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(req.url ?? '');
    if (!target?.[1] || !target[2]) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const [host, port] = [target[1], Number(target[2])];
    const address = await this.checked(host, `${host}:${port}`);
    if (address === undefined) return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    const upstream = connect({ host: address.address, port, family: address.family });
    upstream.on('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!this.count(chunk.byteLength, `${host}:${port}`)) {
        upstream.destroy();
        client.destroy();
        return;
      }
      client.write(chunk);
    });
    upstream.on('end', () => client.end());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  }

  /** An absolute-form request (`GET http://host/…`, plain HTTP): forwarded to the checked address. */
  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      return void res.writeHead(400).end('not a proxy request\n');
    }
    if (url.protocol !== 'http:') return void res.writeHead(400).end('only http:// is proxied\n');
    const shown = withoutCredentials(url.toString());
    const address = await this.checked(url.hostname, shown);
    if (address === undefined) return void res.writeHead(403).end('refused\n');
    const lookup: LookupFunction = (_host, options, callback) => {
      if ((options as { all?: boolean }).all)
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [address]);
      else callback(null, address.address, address.family);
    };
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([h]) => !h.startsWith('proxy-')));
    const upstream = request(url, { method: req.method, headers, lookup }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.on('data', (chunk: Buffer) => {
        if (!this.count(chunk.byteLength, shown)) {
          answer.destroy();
          res.destroy();
          return;
        }
        res.write(chunk);
      });
      answer.on('end', () => res.end());
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', () => (res.headersSent ? res.destroy() : res.writeHead(502).end()));
    req.pipe(upstream);
  }

  /** The address to connect to, or undefined (and the reason kept) when the name is refused. */
  private async checked(host: string, shown: string): Promise<LookupAddress | undefined> {
    const rule = this.options.addressRule ?? remoteAddressProblem;
    const name = host.toLowerCase();
    let pending = this.resolved.get(name);
    if (pending === undefined) {
      pending = resolveChecked(name, this.options.resolver ?? systemResolver, rule);
      this.resolved.set(name, pending);
    }
    try {
      return await pending;
    } catch (e) {
      this.problems.push(
        e instanceof AddressRefusedError
          ? `${shown}: ${e.message}; remote bases are not read from there`
          : `${shown}: cannot resolve ${host}: ${e instanceof Error ? e.message : String(e)}`,
      );
      return undefined;
    }
  }

  /** Counts bytes brought in; false (the reason kept) once past the limit. */
  private count(bytes: number, shown: string): boolean {
    this.received += bytes;
    if (this.received <= this.options.maxBytes) return true;
    if (!this.problems.some((p) => p.includes('(limit maxRepositoryBytes)')))
      this.problems.push(
        `${shown}: remote bases brought in more than ${this.options.maxBytes} bytes (limit maxRepositoryBytes); cut off`,
      );
    return false;
  }
}
