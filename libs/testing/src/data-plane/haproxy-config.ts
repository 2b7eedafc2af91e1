// The proxy's configuration as a pure function of the cluster's Services, TrafficSplits,
// HTTPRoutes and running pods: each Service gets a loopback frontend; a Service that a
// TrafficSplit or HTTPRoute (same name) splits is balanced over both backends' pods by weight,
// and an HTTPRoute's header matches become ACLs sending those requests to the canary.
import type { RunningPod } from './pod-runner.js';

export interface ServiceView {
  namespace: string;
  name: string;
  selector: Record<string, string>;
}

export interface SplitView {
  namespace: string;
  /** The Service whose traffic is split (TrafficSplit spec.service / HTTPRoute name). */
  service: string;
  backends: { service: string; weight: number }[];
  /** HTTPRoute rules with header matches: all matching requests go to `service`. */
  matches: {
    headers: { name: string; type: 'Exact' | 'RegularExpression'; value: string }[];
    service: string;
  }[];
}

export interface ProxyConfigInput {
  services: ServiceView[];
  splits: SplitView[];
  pods: RunningPod[];
  ports: Map<string, number>;
  statsPort: number;
}

const id = (ns: string, name: string) => `${ns}__${name}`.replace(/[^A-Za-z0-9_]/g, '_');

export function podsOf(svc: ServiceView, pods: RunningPod[]): RunningPod[] {
  const sel = Object.entries(svc.selector);
  if (sel.length === 0) return [];
  return pods.filter((p) => p.namespace === svc.namespace && sel.every(([k, v]) => p.labels[k] === v));
}

export function haproxyConfig(input: ProxyConfigInput): string {
  const out = [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend stats',
    `  bind 127.0.0.1:${input.statsPort}`,
    '  http-request return status 200 content-type text/plain string ok',
  ];
  const byName = new Map(input.services.map((s) => [`${s.namespace}/${s.name}`, s]));
  for (const svc of input.services) {
    const port = input.ports.get(`${svc.namespace}/${svc.name}`);
    if (port === undefined) continue;
    const split = input.splits.find((s) => s.namespace === svc.namespace && s.service === svc.name);
    const fe = id(svc.namespace, svc.name);
    out.push(`frontend fe_${fe}`, `  bind 127.0.0.1:${port}`);
    split?.matches.forEach((m, i) => {
      const acls = m.headers.map((h, j) => {
        const name = `m${i}_${j}`;
        out.push(
          h.type === 'Exact'
            ? `  acl ${name} req.hdr(${h.name}) -m str ${quote(h.value)}`
            : `  acl ${name} req.hdr(${h.name}) -m reg ${quote(h.value)}`,
        );
        return name;
      });
      out.push(`  use_backend be_${id(svc.namespace, m.service)}_only if ${acls.join(' ')}`);
    });
    out.push(`  default_backend be_${fe}`);
    out.push(`backend be_${fe}`, '  balance roundrobin', '  retries 0');
    const groups = split
      ? split.backends.map((b) => ({
          weight: b.weight,
          pods: podsOf(byName.get(`${svc.namespace}/${b.service}`) ?? { ...svc, selector: {} }, input.pods),
        }))
      : [{ weight: 100, pods: podsOf(svc, input.pods) }];
    let n = 0;
    for (const g of groups)
      for (const p of g.pods) {
        // HAProxy weights are 0..256 per server: share the group's percentage among its pods.
        const w = g.weight <= 0 ? 0 : Math.max(1, Math.round((g.weight * 2.56) / g.pods.length));
        out.push(`  server s${n++} ${p.ip}:${p.port} weight ${w}`);
      }
  }
  // Backends for header-matched rules: every pod of the named Service, no split.
  const matched = new Set(input.splits.flatMap((s) => s.matches.map((m) => `${s.namespace}/${m.service}`)));
  for (const key of matched) {
    const svc = byName.get(key);
    if (!svc) continue;
    out.push(`backend be_${id(svc.namespace, svc.name)}_only`, '  balance roundrobin');
    podsOf(svc, input.pods).forEach((p, i) => out.push(`  server s${i} ${p.ip}:${p.port}`));
  }
  return out.join('\n') + '\n';
}

const quote = (v: string) => `"${v.replace(/["\\]/g, '\\$&')}"`;
