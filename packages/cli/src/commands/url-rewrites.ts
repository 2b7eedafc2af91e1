import { AppsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { parseUrlRewrites, type UrlRewrites } from '@capstan/gitops-core';

/** The reconciler's Deployments, as the chart labels them. */
const RECONCILER_SELECTOR = 'app.kubernetes.io/part-of=capstan,app.kubernetes.io/component=reconciler';

/**
 * The URL rewrite table `capstan diff` fetches through, so it reaches the same mirrors as the
 * reconciler: CAPSTAN_URL_REWRITES when set (the chart's `urlRewrites`, same JSON), else the
 * URL_REWRITES the chart gave the reconciler's Deployment. Someone who may not read Deployments
 * gets none, and a fetch that then fails names the public URL.
 */
export async function urlRewritesFor(kc: KubeConfig, configured: string | undefined): Promise<UrlRewrites> {
  if (configured !== undefined) return parseUrlRewrites(configured);
  let value: string | undefined;
  try {
    const list = await kc
      .makeApiClient(AppsV1Api)
      .listDeploymentForAllNamespaces({ labelSelector: RECONCILER_SELECTOR });
    value = list.items
      .flatMap((d) => d.spec?.template.spec?.containers ?? [])
      .flatMap((c) => c.env ?? [])
      .find((e) => e.name === 'URL_REWRITES')?.value;
  } catch {
    return {};
  }
  return parseUrlRewrites(value);
}
