import type { ObjectOrigin, SourcedObject } from '@capstan/gitops-core';

export const HOOK = 'helm.sh/hook';
export const HOOK_WEIGHT = 'helm.sh/hook-weight';
export const HOOK_DELETE_POLICY = 'helm.sh/hook-delete-policy';

export type HookEvent = 'pre-install' | 'pre-upgrade' | 'post-install' | 'post-upgrade';
export type HookDeletePolicy = 'before-hook-creation' | 'hook-succeeded' | 'hook-failed';

export interface HookInfo {
  /** The install/upgrade events the hook runs on; the caller picks by whether the release is new. */
  events: HookEvent[];
  weight: number;
  deletePolicies: HookDeletePolicy[];
  /** Which HelmRelease rendered it, so hooks of different releases are not interleaved. */
  release: string;
}

export interface HookObject extends SourcedObject {
  /** `template` names the chart template the hook was rendered from. */
  origin: ObjectOrigin & { template?: string };
  hook: HookInfo;
}

export interface HookGroups {
  /** Run before the release's objects, in this order. */
  pre: HookObject[];
  /** Run after the release's objects are healthy, in this order. */
  post: HookObject[];
  /** `helm test` Pods of releases that enable tests, run after the release is deployed. */
  tests?: HookObject[];
}

const RELEVANT: readonly string[] = ['pre-install', 'pre-upgrade', 'post-install', 'post-upgrade'];
const POLICIES: readonly string[] = ['before-hook-creation', 'hook-succeeded', 'hook-failed'];

export interface HookOptions {
  disableInstallHooks?: boolean;
  disableUpgradeHooks?: boolean;
  /** Keep the chart's `test` hooks (Flux v1 `spec.test.enable`): run after an install or upgrade. */
  tests?: boolean;
}

/**
 * Separates Helm hooks from a chart's objects. Hooks on delete and rollback events are dropped
 * (a GitOps apply never deletes a release; a rollback re-applies the last deployed objects), and
 * `test` hooks too unless the release enables tests.
 * Order is Helm's: ascending weight, then kind and name for a stable tie-break.
 */
export function splitHooks(
  objects: readonly SourcedObject[],
  release: string,
  options: HookOptions = {},
): { objects: SourcedObject[]; hooks: HookGroups } {
  const plain: SourcedObject[] = [];
  const pre: HookObject[] = [];
  const post: HookObject[] = [];
  const tests: HookObject[] = [];
  for (const s of objects) {
    const annotation = s.object.metadata.annotations?.[HOOK];
    if (annotation === undefined) {
      plain.push(s);
      continue;
    }
    const named = annotation.split(',').map((e) => e.trim());
    // `test-success` is Helm 2's name for the same event.
    if (options.tests && named.some((e) => e === 'test' || e === 'test-success'))
      tests.push({
        ...s,
        hook: {
          events: [],
          weight: weightOf(s.object.metadata.annotations?.[HOOK_WEIGHT]),
          deletePolicies: deletePoliciesOf(s.object.metadata.annotations?.[HOOK_DELETE_POLICY]),
          release,
        },
      });
    const events = named
      .filter((e): e is HookEvent => RELEVANT.includes(e))
      .filter((e) => !(options.disableInstallHooks && e.endsWith('-install')))
      .filter((e) => !(options.disableUpgradeHooks && e.endsWith('-upgrade')));
    const info = (group: HookEvent[]): HookInfo => ({
      events: group,
      weight: weightOf(s.object.metadata.annotations?.[HOOK_WEIGHT]),
      deletePolicies: deletePoliciesOf(s.object.metadata.annotations?.[HOOK_DELETE_POLICY]),
      release,
    });
    const before = events.filter((e) => e.startsWith('pre-'));
    const after = events.filter((e) => e.startsWith('post-'));
    // A hook on both pre- and post- events is rendered once per phase, as Helm runs it twice.
    if (before.length > 0) pre.push({ ...s, hook: info(before) });
    if (after.length > 0) post.push({ ...s, hook: info(after) });
  }
  return {
    objects: plain,
    hooks: {
      pre: sortHooks(pre),
      post: sortHooks(post),
      ...(tests.length > 0 ? { tests: sortHooks(tests) } : {}),
    },
  };
}

export function sortHooks(hooks: readonly HookObject[]): HookObject[] {
  return [...hooks].sort(
    (a, b) =>
      a.hook.weight - b.hook.weight ||
      a.object.kind.localeCompare(b.object.kind) ||
      a.object.metadata.name.localeCompare(b.object.metadata.name),
  );
}

function weightOf(value: string | undefined): number {
  const n = Number.parseInt(value ?? '0', 10);
  return Number.isFinite(n) ? n : 0;
}

/** Helm 3 deletes a previous run of the hook before creating it again unless told otherwise. */
function deletePoliciesOf(value: string | undefined): HookDeletePolicy[] {
  const policies = (value ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p): p is HookDeletePolicy => POLICIES.includes(p));
  return policies.length > 0 ? policies : ['before-hook-creation'];
}
