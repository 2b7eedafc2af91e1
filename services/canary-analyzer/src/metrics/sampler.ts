import {
  builtinQuery,
  isBuiltinMetric,
  renderQuery,
  type CanaryModel,
  type Measurement,
  type MetricModel,
} from '@capstan/canary-core';
import { PrometheusClient, PrometheusError, type PrometheusAuth } from './prometheus-client.js';
import type { Cluster } from '../kube/cluster.js';

interface MetricTemplate {
  spec?: {
    provider?: {
      type?: string;
      address?: string;
      secretRef?: { name: string };
      headers?: Record<string, string[] | string>;
      insecureSkipVerify?: boolean;
    };
    query?: string;
  };
}

/** Flagger's other metrics providers: accepted in a MetricTemplate, not queried by Capstan. */
const OTHER_PROVIDERS = [
  'datadog',
  'cloudwatch',
  'newrelic',
  'graphite',
  'stackdriver',
  'influxdb',
  'dynatrace',
  'keptn',
  'splunk',
  'externalmetrics',
];

interface SecretObject {
  data?: Record<string, string>;
}

/**
 * Measures a Canary's metrics for one interval: renders each query (built-in or MetricTemplate)
 * for the canary and for `<target>-primary`, and for comparison metrics reads both series over
 * the metric's window. Provider failures become a Measurement with `error`, never an exception.
 */
export class Sampler {
  constructor(
    private readonly cluster: Cluster,
    private readonly defaultServer: string,
  ) {}

  async measure(model: CanaryModel, nowMs: number): Promise<Measurement[]> {
    // Concurrently: a step's lateness is the slowest query, not the sum of them.
    return Promise.all(model.metrics.map((metric) => this.measureOne(model, metric, nowMs)));
  }

  private async measureOne(model: CanaryModel, metric: MetricModel, nowMs: number): Promise<Measurement> {
    let template: string;
    let client: PrometheusClient;
    try {
      ({ template, client } = await this.source(model, metric));
    } catch (e) {
      return { metric: metric.name, query: metric.query ?? '', canary: null, error: (e as Error).message };
    }
    const vars = (target: string) => ({
      name: model.name,
      namespace: model.namespace,
      target,
      service: model.apex,
      ingress: '',
      route: model.apex,
      interval: metric.intervalText,
      variables: metric.templateVariables,
    });
    let query = template;
    try {
      query = renderQuery(template, vars(model.target));
      const primaryQuery = renderQuery(template, vars(`${model.target}-primary`));
      const [canary, primary] = await Promise.all([
        client.instant(query, nowMs),
        client.instant(primaryQuery, nowMs),
      ]);
      if (!metric.compare) return { metric: metric.name, query, canary, primary };
      const step = Math.max(1, Math.round(metric.intervalMs / 1000 / 30));
      const start = nowMs - metric.intervalMs;
      const [canarySamples, primarySamples] = await Promise.all([
        client.range(query, start, nowMs, step),
        client.range(primaryQuery, start, nowMs, step),
      ]);
      return { metric: metric.name, query, canary, primary, canarySamples, primarySamples };
    } catch (e) {
      return {
        metric: metric.name,
        query,
        canary: null,
        error: e instanceof PrometheusError ? e.message : (e as Error).message,
      };
    }
  }

  private async source(
    model: CanaryModel,
    metric: MetricModel,
  ): Promise<{ template: string; client: PrometheusClient }> {
    const server = model.metricsServer ?? this.defaultServer;
    if (metric.templateRef) {
      const ref = metric.templateRef;
      const mt = await this.cluster.read<MetricTemplate>(
        'flagger.app/v1beta1',
        'MetricTemplate',
        ref.namespace,
        ref.name,
      );
      if (!mt) throw new Error(`MetricTemplate ${ref.namespace}/${ref.name} not found`);
      const query = mt.spec?.query;
      if (!query) throw new Error(`MetricTemplate ${ref.namespace}/${ref.name}: spec.query is empty`);
      const provider = mt.spec?.provider ?? {};
      // Flagger queries Prometheus for a type it does not know; the others it names we do not run.
      if (provider.type && OTHER_PROVIDERS.includes(provider.type))
        throw new Error(
          `MetricTemplate ${ref.namespace}/${ref.name}: spec.provider.type ${provider.type} is not supported by Capstan (prometheus only)`,
        );
      const auth = provider.secretRef ? await this.auth(ref.namespace, provider.secretRef.name) : {};
      const headers = Object.fromEntries(
        Object.entries(provider.headers ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]),
      );
      return {
        template: query,
        client: new PrometheusClient(provider.address ?? server, auth, {
          headers,
          insecureSkipVerify: provider.insecureSkipVerify ?? false,
        }),
      };
    }
    if (metric.query) return { template: metric.query, client: new PrometheusClient(server) };
    if (isBuiltinMetric(metric.name))
      return {
        template: builtinQuery(model.metricsFlavour, metric.name),
        client: new PrometheusClient(server),
      };
    throw new Error(`metric ${metric.name} has no query`);
  }

  private async auth(namespace: string, name: string): Promise<PrometheusAuth> {
    const secret = await this.cluster.read<SecretObject>('v1', 'Secret', namespace, name);
    if (!secret)
      throw new Error(`Secret ${namespace}/${name} not found (MetricTemplate spec.provider.secretRef)`);
    const get = (k: string) =>
      secret.data?.[k] === undefined ? undefined : Buffer.from(secret.data[k], 'base64').toString('utf8');
    const token = get('token');
    if (token) return { token };
    const username = get('username');
    if (username !== undefined) return { username, password: get('password') ?? '' };
    throw new Error(`Secret ${namespace}/${name} has neither token nor username/password`);
  }
}
