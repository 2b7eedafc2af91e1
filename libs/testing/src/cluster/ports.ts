import { createServer, type AddressInfo, type Server } from 'node:net';

/**
 * Asks the kernel for `count` distinct free loopback ports. The listeners are held
 * together so the ports differ from each other; they are released before the
 * binaries bind them, so a small race with other processes remains — the caller
 * retries the whole start when a bind fails.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}
