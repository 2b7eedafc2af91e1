import { createHash } from 'node:crypto';
import type { CanaryModel } from '@capstan/canary-core';
import type { Obj, Owner } from './workload-objects.js';

/**
 * The routing objects for a weight: SMI TrafficSplit (Linkerd) or a Gateway API HTTPRoute with
 * two weighted backends, plus, for A/B, a first rule sending matching requests to the canary.
 */
export function trafficSplit(model: CanaryModel, canaryWeight: number, owner: Owner): Obj {
  return {
    apiVersion: 'split.smi-spec.io/v1alpha1',
    kind: 'TrafficSplit',
    metadata: {
      name: model.apex,
      namespace: model.namespace,
      ownerReferences: [{ ...owner, controller: true }],
    },
    spec: {
      service: model.hosts[0] ?? model.apex,
      backends: [
        { service: `${model.apex}-canary`, weight: canaryWeight },
        { service: `${model.apex}-primary`, weight: 100 - canaryWeight },
      ],
    },
  };
}

/** What the HTTPRoute shows at a moment of the rollout. */
export interface RouteView {
  canaryWeight: number;
  /** A/B: the match rules send their requests to the canary. */
  abActive: boolean;
  /** Blue/green with mirroring: requests copied to the canary while the primary answers. */
  mirror: boolean;
  /** Session affinity: the cookie (`name=value`) that keeps a client on the canary. */
  cookie?: string;
}

export function httpRoute(model: CanaryModel, view: RouteView, owner: Owner): Obj {
  const backend = (name: string, weight: number, filters?: unknown[]) => ({
    group: '',
    kind: 'Service',
    name,
    port: model.port,
    weight,
    ...(filters ? { filters } : {}),
  });
  const canary = `${model.apex}-canary`;
  const affinity = view.cookie && view.canaryWeight > 0 ? view.cookie : undefined;
  // The canary's answers set the cookie; a request carrying it goes to the canary.
  const setCookie = affinity
    ? [
        {
          type: 'ResponseHeaderModifier',
          responseHeaderModifier: {
            add: [
              {
                name: 'Set-Cookie',
                value: `${affinity}; Max-Age=${model.sessionAffinity?.maxAge ?? 86_400}`,
              },
            ],
          },
        },
      ]
    : undefined;
  const weighted = {
    backendRefs: [
      backend(`${model.apex}-primary`, 100 - view.canaryWeight),
      backend(canary, view.canaryWeight, setCookie),
    ],
    ...(view.mirror
      ? {
          filters: [
            {
              type: 'RequestMirror',
              requestMirror: {
                backendRef: { group: '', kind: 'Service', name: canary, port: model.port },
                ...(model.mirrorPercent !== undefined && model.mirrorPercent < 100
                  ? { percent: model.mirrorPercent }
                  : {}),
              },
            },
          ],
        }
      : {}),
  };
  const abRules = view.abActive
    ? model.match.map((m) => ({
        matches: [
          {
            headers: [
              ...Object.entries(m.headers ?? {}).map(([name, rule]) => headerMatch(name, rule)),
              ...Object.entries(m.cookies ?? {}).map(([name, rule]) => cookieMatch(name, rule)),
            ],
          },
        ],
        backendRefs: [backend(canary, 100)],
      }))
    : [];
  const stickyRules = affinity
    ? [
        {
          matches: [
            { headers: [{ type: 'RegularExpression', name: 'Cookie', value: `.*${escape(affinity)}.*` }] },
          ],
          backendRefs: [backend(canary, 100)],
        },
      ]
    : [];
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: {
      name: model.apex,
      namespace: model.namespace,
      ownerReferences: [{ ...owner, controller: true }],
    },
    spec: {
      parentRefs: model.gatewayRefs.map((g) => ({ name: g.name, namespace: g.namespace })),
      ...(model.hosts.length ? { hostnames: model.hosts } : {}),
      rules: [...abRules, ...stickyRules, weighted],
    },
  };
}

/**
 * The route after a revert on deletion: every request to the apex Service (which selects the
 * target's pods again), and no owner, so it outlives the Canary.
 */
export function revertedHttpRoute(model: CanaryModel): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: model.apex, namespace: model.namespace },
    spec: {
      parentRefs: model.gatewayRefs.map((g) => ({ name: g.name, namespace: g.namespace })),
      ...(model.hosts.length ? { hostnames: model.hosts } : {}),
      rules: [
        { backendRefs: [{ group: '', kind: 'Service', name: model.apex, port: model.port, weight: 100 }] },
      ],
    },
  };
}

/** The rollout's affinity cookie: derived from the Canary and its run, so a restart keeps it. */
export function affinityCookie(cookieName: string, uid: string, run: number): string {
  return `${cookieName}=${createHash('sha256').update(`${uid}:${run}`).digest('hex').slice(0, 20)}`;
}

function headerMatch(name: string, rule: Record<string, string>) {
  if (rule['regex'] !== undefined) return { type: 'RegularExpression', name, value: rule['regex'] };
  if (rule['prefix'] !== undefined)
    return { type: 'RegularExpression', name, value: `^${escape(rule['prefix'])}.*` };
  if (rule['suffix'] !== undefined)
    return { type: 'RegularExpression', name, value: `.*${escape(rule['suffix'])}$` };
  return { type: 'Exact', name, value: rule['exact'] ?? '' };
}

/** Cookies travel in the Cookie header: match `name=value` inside it. */
function cookieMatch(name: string, rule: Record<string, string>) {
  const value = rule['exact'] ?? rule['prefix'] ?? rule['regex'] ?? '';
  const pattern =
    rule['regex'] !== undefined
      ? `.*${name}=${value}.*`
      : `.*${escape(name)}=${escape(value)}${rule['exact'] !== undefined ? '(;.*)?$' : '.*'}`;
  return { type: 'RegularExpression', name: 'Cookie', value: pattern };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
