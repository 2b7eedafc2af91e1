import { KubeConfig } from '@kubernetes/client-node';

type DispatcherFactory = (cluster: unknown, agentOptions: unknown) => unknown;

/** A kubeconfig path wins; without one we are in a cluster (service account) or use ~/.kube/config. */
export function createKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  pooled(kc);
  return kc;
}

/**
 * client-node 2.0 builds a new undici Agent for every request, so every API call opens a new
 * TCP + TLS connection and leaves it idling until the agent is collected. With a thousand Syncs
 * that is thousands of handshakes (CPU on both sides) and hundreds of MiB of TLS buffers in the
 * reconciler. One agent per cluster and user keeps a connection pool instead. Credentials are
 * unaffected: tokens go in headers per request; certificates belong to the cluster/user pair.
 */
function pooled(kc: KubeConfig): void {
  const target = kc as unknown as { createDispatcher: DispatcherFactory };
  const create = target.createDispatcher.bind(kc);
  const pool: Pool = { agents: new Map(), lastResponseAt: 0 };
  pools.set(kc, pool);
  target.createDispatcher = (cluster, agentOptions) => {
    const key = JSON.stringify([kc.getCurrentCluster()?.name, kc.getCurrentUser()?.name]);
    if (!pool.agents.has(key)) pool.agents.set(key, tracked(create(cluster, agentOptions), pool));
    return pool.agents.get(key);
  };
}

interface Pool {
  agents: Map<string, unknown>;
  /** When a response (headers or body bytes) last arrived on any pooled connection. */
  lastResponseAt: number;
}

const pools = new WeakMap<KubeConfig, Pool>();

const RESPONSE_CALLBACKS = new Set([
  'onResponseStart',
  'onResponseData',
  'onResponseEnd',
  'onHeaders',
  'onData',
  'onComplete',
]);

/**
 * The agent, noting when responses arrive. A request waiting behind hundreds of others on a busy
 * HTTP/2 connection and one sent on a connection that went silent look the same from the outside
 * (no answer yet); whether anything at all arrives on the pool tells them apart (ApiConnectionGuard).
 */
function tracked(agent: unknown, pool: Pool): unknown {
  const composable = agent as { compose?: (interceptor: unknown) => unknown } | undefined;
  if (typeof composable?.compose !== 'function') return agent;
  type Dispatch = (opts: unknown, handler: object) => unknown;
  return composable.compose(
    (dispatch: Dispatch) => (opts: unknown, handler: object) =>
      dispatch(
        opts,
        new Proxy(handler, {
          get(h, key, receiver) {
            const value: unknown = Reflect.get(h, key, receiver);
            if (typeof value !== 'function') return value;
            const call = value as (...args: unknown[]) => unknown;
            if (typeof key !== 'string' || !RESPONSE_CALLBACKS.has(key)) return call.bind(h);
            return (...args: unknown[]) => {
              pool.lastResponseAt = Date.now();
              return call.apply(h, args);
            };
          },
        }),
      ),
  );
}

/** When a response last arrived on a kubeconfig's pooled connections (0: never, or not pooled). */
export function lastResponseAt(kc: KubeConfig): number {
  return pools.get(kc)?.lastResponseAt ?? 0;
}

/**
 * Drops every pooled connection of a kubeconfig made by createKubeConfig: requests in flight on
 * them fail at once (a watch then restarts), the next ones connect afresh. For a connection the
 * API server gave up on while the socket stays open, which nothing else would ever notice.
 */
export async function replaceConnections(kc: KubeConfig): Promise<void> {
  const agents = pools.get(kc)?.agents;
  if (!agents) return;
  const old = [...agents.values()];
  agents.clear();
  await Promise.all(
    old.map(async (agent) => {
      const destroy = (agent as { destroy?: () => Promise<void> } | undefined)?.destroy;
      // An agent already closing, or a socket already gone, is what we want anyway.
      if (typeof destroy === 'function') await destroy.call(agent).catch(() => undefined);
    }),
  );
}
