import { request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * The API server's own count of requests served so far, by verb and resource
 * (apiserver_request_total), so a run can say how many requests it cost, from every client.
 */
export async function apiServerRequests(kubeconfigPath: string): Promise<Map<string, number>> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const server = new URL(`${kc.getCurrentCluster()?.server ?? ''}/metrics`);
  const options: { headers: Record<string, string>; ca?: unknown } = { headers: {} };
  await kc.applyToHTTPSOptions(options);
  const text = await new Promise<string>((resolve, reject) => {
    const req = request(server, options as never, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^apiserver_request_total\{([^}]*)\} (\S+)$/gm)) {
    const labels = m[1] ?? '';
    const label = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1] ?? '';
    const key = `${label('verb')} ${label('resource')}${label('subresource') ? `/${label('subresource')}` : ''}${label('dry_run') ? ' (dry-run)' : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(m[2]));
  }
  return counts;
}

/** What was served between two readings, largest first, as `verb resource: n`. */
export function requestDelta(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...after]
    .map(([key, n]) => [key, n - (before.get(key) ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key}: ${Math.round(n)}`);
}
