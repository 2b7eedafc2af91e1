import type { MetricsFlavour } from '../spec.js';

/**
 * Flagger's built-in metrics as templates, rendered like any MetricTemplate. `request-success-rate`
 * is a percentage of non-5xx (Linkerd: non-"failure") responses; `request-duration` the P99 in ms.
 * Linkerd's proxy labels inbound traffic by `deployment`; the Gateway API / kubernetes flavour
 * reads the app's own `http_request_duration_seconds` by pod name.
 */
const LINKERD = {
  'request-success-rate':
    'sum(rate(response_total{namespace="{{ namespace }}",deployment=~"{{ target }}",classification!="failure",direction="inbound"}[{{ interval }}])) / ' +
    'sum(rate(response_total{namespace="{{ namespace }}",deployment=~"{{ target }}",direction="inbound"}[{{ interval }}])) * 100',
  'request-duration':
    'histogram_quantile(0.99, sum(rate(response_latency_ms_bucket{namespace="{{ namespace }}",deployment=~"{{ target }}",direction="inbound"}[{{ interval }}])) by (le))',
};

const POD = 'kubernetes_pod_name=~"{{ target }}-[0-9a-zA-Z]+(-[0-9a-zA-Z]+)"';
const GATEWAY_API = {
  'request-success-rate':
    `sum(rate(http_request_duration_seconds_count{kubernetes_namespace="{{ namespace }}",${POD},status!~"5.*"}[{{ interval }}])) / ` +
    `sum(rate(http_request_duration_seconds_count{kubernetes_namespace="{{ namespace }}",${POD}}[{{ interval }}])) * 100`,
  'request-duration': `histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{kubernetes_namespace="{{ namespace }}",${POD}}[{{ interval }}])) by (le)) * 1000`,
};

export type BuiltinMetric = keyof typeof LINKERD;

export function isBuiltinMetric(name: string): name is BuiltinMetric {
  return name === 'request-success-rate' || name === 'request-duration';
}

export function builtinQuery(flavour: MetricsFlavour, metric: BuiltinMetric): string {
  return (flavour === 'linkerd' ? LINKERD : GATEWAY_API)[metric];
}
