import { groupOf } from './objects.js';
import { withoutCredentials, withoutUserinfo } from './url-credentials.js';

/**
 * Tenancy as plain functions: which references a tenant's object may make, and what a
 * cluster-scoped TenancyPolicy (capstan.dev/v1alpha1) lets the Syncs of a namespace do. The
 * policy is shaped after Argo CD's AppProject: allowed source URLs, target namespaces and
 * cluster-scoped kinds. Kubernetes RBAC (through the impersonated ServiceAccount) stays the
 * first line; the policy is a second one that a namespace admin cannot widen, because it is
 * cluster-scoped.
 */

/** A label selector as Kubernetes writes it (metav1.LabelSelector). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

export interface TenancyPolicySpec {
  /** Namespaces governed, by name pattern (`team-a`, `team-a-*`). */
  namespaces: string[];
  /** Namespaces governed, by their labels. A namespace is governed when either matches. */
  namespaceSelector?: LabelSelector;
  /** Git URLs the governed Syncs may apply from (patterns; `*` matches any run of characters). */
  sourceRepos: string[];
  /** Namespaces their namespaced objects may be written into (patterns). */
  destinationNamespaces: string[];
  /** Cluster-scoped kinds they may write (`group` empty for the core group; `*` for any). */
  clusterResources: { group: string; kind: string }[];
}

export interface TenancyPolicy {
  name: string;
  spec: TenancyPolicySpec;
}

/** The rule of a policy that refused something; it is named in status and in the decision. */
export type TenancyRule = 'sourceRepos' | 'destinationNamespaces' | 'clusterResources';

export interface TenancyRefusal {
  policy: string;
  rule: TenancyRule;
  /** The object refused (`ns/Kind/name`), when the refusal is about one. */
  object?: string;
  message: string;
}

/** A TenancyPolicy whose spec does not read; the message names the policy and the field. */
export class InvalidTenancyPolicyError extends Error {
  constructor(
    readonly policy: string,
    readonly field: string,
    detail: string,
  ) {
    super(`TenancyPolicy ${policy}: spec.${field} ${detail}`);
    this.name = 'InvalidTenancyPolicyError';
  }
}

/** Reads a TenancyPolicy object's spec, refusing (never guessing) anything it does not understand. */
export function parseTenancyPolicy(object: { metadata: { name: string }; spec?: unknown }): TenancyPolicy {
  const name = object.metadata.name;
  const spec = object.spec ?? {};
  if (!isRecord(spec)) throw new InvalidTenancyPolicyError(name, '', 'must be an object');
  const fail = (field: string, detail: string): never => {
    throw new InvalidTenancyPolicyError(name, field, detail);
  };
  const strings = (field: string): string[] => {
    const v = spec[field];
    if (v === undefined) return [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== ''))
      return fail(field, 'must be a list of non-empty strings');
    return v as string[];
  };
  const clusterResources = (() => {
    const v = spec['clusterResources'];
    if (v === undefined) return [];
    if (!Array.isArray(v)) return fail('clusterResources', 'must be a list of {group, kind}');
    return v.map((entry: unknown, i) => {
      if (!isRecord(entry) || typeof entry['kind'] !== 'string' || entry['kind'] === '')
        return fail(`clusterResources[${i}].kind`, 'must be a non-empty string');
      const group = entry['group'] ?? '';
      if (typeof group !== 'string') return fail(`clusterResources[${i}].group`, 'must be a string');
      return { group, kind: entry['kind'] };
    });
  })();
  const selector = spec['namespaceSelector'];
  if (selector !== undefined && !isRecord(selector))
    fail('namespaceSelector', 'must be a label selector ({matchLabels, matchExpressions})');
  const parsed: TenancyPolicySpec = {
    namespaces: strings('namespaces'),
    ...(selector === undefined ? {} : { namespaceSelector: selector as LabelSelector }),
    sourceRepos: strings('sourceRepos'),
    destinationNamespaces: strings('destinationNamespaces'),
    clusterResources,
  };
  if (parsed.namespaces.length === 0 && !parsed.namespaceSelector)
    fail('namespaces', 'or spec.namespaceSelector must name the namespaces the policy governs');
  return { name, spec: parsed };
}

/** `*` any run of characters, `?` one; everything else literal. Whole-string match. */
export function matchesPattern(pattern: string, value: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(value);
}

export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (!has || !(e.values ?? []).includes(value ?? '')) return false;
        break;
      case 'NotIn':
        if (has && (e.values ?? []).includes(value ?? '')) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** The policies that govern a namespace (by name pattern or label selector). */
export function governing(
  policies: readonly TenancyPolicy[],
  namespace: { name: string; labels: Readonly<Record<string, string>> },
): TenancyPolicy[] {
  return policies.filter(
    (p) =>
      p.spec.namespaces.some((pattern) => matchesPattern(pattern, namespace.name)) ||
      (p.spec.namespaceSelector !== undefined && matchesSelector(p.spec.namespaceSelector, namespace.labels)),
  );
}

/** Whether any policy needs the namespace's labels (otherwise they need not be read). */
export function needsNamespaceLabels(policies: readonly TenancyPolicy[]): boolean {
  return policies.some((p) => p.spec.namespaceSelector !== undefined);
}

/**
 * The source of a Sync: its URL must match a `sourceRepos` pattern of every governing policy.
 * A policy with no patterns allows no source, as an AppProject with no sourceRepos does.
 */
export function checkSource(policies: readonly TenancyPolicy[], url: string): TenancyRefusal[] {
  return policies
    .filter((p) => !p.spec.sourceRepos.some((pattern) => matchesPattern(pattern, withoutUserinfo(url))))
    .map((p) => ({
      policy: p.name,
      rule: 'sourceRepos' as const,
      // The refusal goes to the Sync's status and the audit log: never the URL's credentials.
      message: `TenancyPolicy ${p.name} (rule sourceRepos) does not allow source ${withoutCredentials(url)}`,
    }));
}

/** An object as it would be written: namespace resolved, absent for cluster-scoped kinds. */
export interface PlannedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/**
 * The objects a Sync would write: each namespaced one into a namespace some pattern of every
 * governing policy allows, each cluster-scoped one of a kind every governing policy lists.
 */
export function checkObjects(
  policies: readonly TenancyPolicy[],
  objects: readonly PlannedObject[],
): TenancyRefusal[] {
  const refusals: TenancyRefusal[] = [];
  for (const o of objects) {
    const ns = o.metadata.namespace;
    const object = `${ns ? `${ns}/` : ''}${o.kind}/${o.metadata.name}`;
    const group = groupOf(o.apiVersion);
    for (const p of policies) {
      if (ns) {
        if (!p.spec.destinationNamespaces.some((pattern) => matchesPattern(pattern, ns)))
          refusals.push({
            policy: p.name,
            rule: 'destinationNamespaces',
            object,
            message: `TenancyPolicy ${p.name} (rule destinationNamespaces) does not allow writing ${object} into namespace ${ns}`,
          });
      } else if (
        !p.spec.clusterResources.some(
          (r) => (r.group === '*' || r.group === group) && (r.kind === '*' || r.kind === o.kind),
        )
      )
        refusals.push({
          policy: p.name,
          rule: 'clusterResources',
          object,
          message: `TenancyPolicy ${p.name} (rule clusterResources) does not allow the cluster-scoped ${group ? `${group}/` : ''}${o.kind} ${object}`,
        });
    }
  }
  return refusals;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
