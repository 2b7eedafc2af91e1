import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A loopback TCP proxy in front of the kube-apiserver that can make the connections it carries
 * go silent (no data either way, no reset): what a client sees of an HTTP/2 session the server
 * gave up on, or of a socket a middlebox forgot. New connections still go through.
 */
export class FreezableProxy {
  private readonly pairs: { client: Socket; upstream: Socket; frozen: boolean }[] = [];
  private constructor(readonly server: Server) {}
  opened = 0;
  /** While set, new connections go silent too: the API server is unreachable, not refusing. */
  silenceNew = false;

  static async start(target: { host: string; port: number }): Promise<FreezableProxy> {
    const proxy = new FreezableProxy(
      createServer((client) => {
        proxy.opened++;
        const upstream = connect(target.port, target.host);
        const pair = { client, upstream, frozen: proxy.silenceNew };
        proxy.pairs.push(pair);
        client.on('data', (d: Buffer) => {
          if (!pair.frozen) upstream.write(d);
        });
        upstream.on('data', (d: Buffer) => {
          if (!pair.frozen) client.write(d);
        });
        const close = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', close).on('close', close);
        upstream.on('error', close).on('close', close);
      }),
    );
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /**
   * A proxy in front of a kubeconfig's API server, and a copy of the kubeconfig (written in
   * `dir`) that goes through it: same CA, same user, the API server's certificate still valid
   * for 127.0.0.1.
   */
  static async forKubeconfig(
    kubeconfigPath: string,
    dir: string,
  ): Promise<{ proxy: FreezableProxy; kubeconfigPath: string }> {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`${kubeconfigPath}: no current cluster`);
    const server = new URL(cluster.server);
    const proxy = await FreezableProxy.start({ host: server.hostname, port: Number(server.port) });
    server.port = String(proxy.port);
    kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server: server.origin } : c));
    const path = join(dir, 'kubeconfig-through-proxy');
    await writeFile(path, kc.exportConfig());
    return { proxy, kubeconfigPath: path };
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Every connection open now goes silent; the sockets stay open. */
  freezeOpen(): number {
    const open = this.pairs.filter((p) => !p.client.destroyed && !p.frozen);
    for (const p of open) p.frozen = true;
    return open.length;
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    await new Promise((resolve) => this.server.close(resolve));
  }
}
