import semver from 'semver';
import { globToRegExp } from './glob.js';

/**
 * How tags are ordered to pick the latest. `glob` and `regex` are Flux v1's filters: matching tags
 * ordered by build time (newest `created` first), ties broken by the tag text.
 */
export type TagOrder =
  | { kind: 'semver'; range: string }
  | { kind: 'alphabetical'; order: 'asc' | 'desc' }
  | { kind: 'numerical'; order: 'asc' | 'desc' }
  | { kind: 'newest-build' }
  | { kind: 'glob'; pattern: string }
  | { kind: 'regex'; pattern: string };

export interface TagPolicy {
  order: TagOrder;
  /** Flux v2 `filterTags`: only tags matching `pattern`; `extract` (e.g. `$ts`) is what gets ordered. */
  filter?: { pattern: string; extract?: string };
  /** Regular expressions of tags never to pick (Flux v2's exclusionList; default `^.*\.sig$`). */
  exclude?: string[];
  /** Write `repo:tag@sha256:...` instead of `repo:tag`. */
  pinDigest?: boolean;
}

export interface TagCandidate {
  tag: string;
  digest?: string;
  /** The image config's `created`, RFC 3339, when the registry was asked for it. */
  created?: string;
}

export type Selection =
  | {
      kind: 'chosen';
      tag: string;
      digest?: string;
      created?: string;
      /** Tags the policy looked at, and how many passed the filters. */
      considered: number;
      matched: number;
      /** Human-readable: why this tag wins. */
      why: string;
    }
  | {
      kind: 'none';
      reason: 'NoMatchingTag' | 'NoCreatedTime' | 'ConstantCreatedTime';
      message: string;
      considered: number;
      matched: number;
    };

/** A policy field that cannot be used, named as it appears in the object (e.g. `spec.policy.semver.range`). */
export interface PolicyFieldError {
  field: string;
  message: string;
}

export const DEFAULT_EXCLUSIONS = ['^.*\\.sig$'];

/** Every problem with a policy, each naming its field; empty when the policy is usable. */
export function validateTagPolicy(policy: TagPolicy, fields: PolicyFieldNames): PolicyFieldError[] {
  const errors: PolicyFieldError[] = [];
  const regex = (field: string, pattern: string) => {
    try {
      new RegExp(pattern);
    } catch (e) {
      errors.push({ field, message: `invalid regular expression "${pattern}": ${(e as Error).message}` });
    }
  };
  const order = policy.order;
  switch (order.kind) {
    case 'semver':
      if (semver.validRange(order.range) === null)
        errors.push({ field: fields.semverRange, message: `invalid semver range "${order.range}"` });
      break;
    case 'regex':
      regex(fields.pattern, order.pattern);
      break;
    case 'glob':
    case 'alphabetical':
    case 'numerical':
    case 'newest-build':
      break;
  }
  if (policy.filter) {
    regex(fields.filterPattern, policy.filter.pattern);
    const extract = policy.filter.extract;
    if (extract !== undefined && !/\$/.test(extract))
      errors.push({ field: fields.filterExtract, message: `"${extract}" references no group ($name or $1)` });
  }
  (policy.exclude ?? []).forEach((p, i) => regex(`${fields.exclude}[${i}]`, p));
  return errors;
}

export interface PolicyFieldNames {
  semverRange: string;
  pattern: string;
  filterPattern: string;
  filterExtract: string;
  exclude: string;
}

export const FLUX_V2_FIELDS: PolicyFieldNames = {
  semverRange: 'spec.policy.semver.range',
  pattern: 'spec.policy.regex.pattern',
  filterPattern: 'spec.filterTags.pattern',
  filterExtract: 'spec.filterTags.extract',
  exclude: 'spec.exclusionList',
};

/**
 * Picks the latest tag under a policy. Pure: the candidates (with digests and created times where
 * known) come in; the policy must have passed `validateTagPolicy`.
 */
export function selectTag(policy: TagPolicy, candidates: readonly TagCandidate[]): Selection {
  const exclusions = (policy.exclude ?? DEFAULT_EXCLUSIONS).map((p) => new RegExp(p));
  const filter = policy.filter ? new RegExp(policy.filter.pattern) : undefined;
  const keyed: { c: TagCandidate; key: string }[] = [];
  for (const c of candidates) {
    if (exclusions.some((e) => e.test(c.tag))) continue;
    if (!filter) {
      keyed.push({ c, key: c.tag });
      continue;
    }
    const m = filter.exec(c.tag);
    if (!m) continue;
    keyed.push({ c, key: policy.filter?.extract ? expand(policy.filter.extract, m) : c.tag });
  }
  const matched = ordered(policy.order, keyed);
  const considered = candidates.length;
  if (matched.kind === 'none') return { ...matched, considered };
  const best = matched.best;
  return {
    kind: 'chosen',
    tag: best.c.tag,
    ...(best.c.digest ? { digest: best.c.digest } : {}),
    ...(best.c.created ? { created: best.c.created } : {}),
    considered,
    matched: matched.count,
    why: matched.why,
  };
}

type Keyed = { c: TagCandidate; key: string };
type Ordered =
  | { kind: 'best'; best: Keyed; count: number; why: string }
  | {
      kind: 'none';
      reason: 'NoMatchingTag' | 'NoCreatedTime' | 'ConstantCreatedTime';
      message: string;
      matched: number;
    };

function ordered(order: TagOrder, keyed: Keyed[]): Ordered {
  const none = (message: string, matched = 0): Ordered => ({
    kind: 'none',
    reason: 'NoMatchingTag',
    message,
    matched,
  });
  switch (order.kind) {
    case 'semver': {
      // Masterminds (Flux) includes pre-releases only when the range itself names one (`-0`).
      const includePrerelease = /-/.test(order.range);
      const versions = keyed
        .map((k) => ({ k, v: semver.parse(k.key.replace(/^v(?=\d)/, '')) }))
        .filter((x): x is { k: Keyed; v: semver.SemVer } => x.v !== null)
        .filter((x) => semver.satisfies(x.v, order.range, { includePrerelease }));
      if (versions.length === 0) return none(`no tag satisfies semver range ${order.range}`);
      versions.sort((a, b) => semver.rcompare(a.v, b.v) || a.k.c.tag.localeCompare(b.k.c.tag));
      const best = first(versions);
      return {
        kind: 'best',
        best: best.k,
        count: versions.length,
        why: `${best.k.c.tag} is the highest of ${versions.length} tag(s) in semver range ${order.range}`,
      };
    }
    case 'alphabetical': {
      if (keyed.length === 0) return none('no tag passes the filter');
      const sorted = [...keyed].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const best = first(order.order === 'asc' ? sorted.reverse() : sorted);
      return {
        kind: 'best',
        best,
        count: keyed.length,
        why: `${best.c.tag} is ${order.order === 'asc' ? 'last' : 'first'} alphabetically of ${keyed.length} tag(s)`,
      };
    }
    case 'numerical': {
      const nums = keyed.map((k) => ({ k, n: Number(k.key) })).filter((x) => isNumeric(x.k.key));
      if (nums.length === 0) return none('no tag is a number after the filter');
      nums.sort((a, b) => a.n - b.n);
      const best = first(order.order === 'asc' ? nums.reverse() : nums);
      return {
        kind: 'best',
        best: best.k,
        count: nums.length,
        why: `${best.k.c.tag} is the ${order.order === 'asc' ? 'highest' : 'lowest'} number of ${nums.length} tag(s)`,
      };
    }
    case 'newest-build':
      return newest(keyed, 'by build time');
    case 'glob': {
      const re = globToRegExp(order.pattern);
      return newest(
        keyed.filter((k) => re.test(k.key)),
        `matching glob ${order.pattern}`,
      );
    }
    case 'regex': {
      const re = new RegExp(order.pattern);
      return newest(
        keyed.filter((k) => re.test(k.key)),
        `matching regex ${order.pattern}`,
      );
    }
  }
}

function isNumeric(s: string): boolean {
  return /^-?\d+(\.\d+)?$/.test(s);
}

/**
 * Newest by the image config's `created`. A tag without one cannot be ranked; when none has one,
 * or all share one time (reproducible builds), there is no newest and we say so rather than guess.
 */
function newest(keyed: Keyed[], what: string): Ordered {
  if (keyed.length === 0)
    return { kind: 'none', reason: 'NoMatchingTag', message: `no tag ${what}`, matched: 0 };
  const timed = keyed
    .map((k) => ({ k, at: k.c.created === undefined ? NaN : Date.parse(k.c.created) }))
    .filter((t) => !Number.isNaN(t.at) && t.at > 0);
  if (timed.length === 0)
    return {
      kind: 'none',
      reason: 'NoCreatedTime',
      message: `no tag ${what} has a created time in its image config (${sample(keyed)})`,
      matched: keyed.length,
    };
  const times = new Set(timed.map((t) => t.at));
  if (timed.length > 1 && times.size === 1)
    return {
      kind: 'none',
      reason: 'ConstantCreatedTime',
      message: `all ${timed.length} tag(s) ${what} have the same created time ${new Date(first(timed).at).toISOString()}; cannot tell which is newest`,
      matched: keyed.length,
    };
  timed.sort((a, b) => b.at - a.at || (a.k.c.tag < b.k.c.tag ? 1 : -1));
  const best = first(timed);
  const untimed = keyed.length - timed.length;
  return {
    kind: 'best',
    best: best.k,
    count: keyed.length,
    why: `${best.k.c.tag} is the newest build (${best.k.c.created ?? ''}) of ${timed.length} tag(s) ${what}${untimed ? `; ${untimed} without a created time ignored` : ''}`,
  };
}

/** The first element of a list the caller checked is not empty. */
function first<T>(items: readonly T[]): T {
  const [item] = items;
  if (item === undefined) throw new Error('empty list');
  return item;
}

function sample(keyed: Keyed[]): string {
  const tags = keyed.slice(0, 5).map((k) => k.c.tag);
  return tags.join(', ') + (keyed.length > 5 ? `, ... ${keyed.length - 5} more` : '');
}

/** `$name`, `${name}`, `$1` expanded from a match, as Go's Regexp.Expand does for Flux's `extract`. */
function expand(template: string, m: RegExpExecArray): string {
  return template.replace(/\$(?:\{(\w+)\}|(\w+))/g, (_all, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    if (/^\d+$/.test(name)) return m[Number(name)] ?? '';
    return m.groups?.[name] ?? '';
  });
}

/** True when `a` ranks strictly after `b` under the policy (used to refuse rollbacks of automation). */
export function ranksAfter(policy: TagPolicy, a: TagCandidate, b: TagCandidate): boolean {
  const pick = selectTag({ ...policy, exclude: [] }, [a, b]);
  return pick.kind === 'chosen' && pick.tag === a.tag && a.tag !== b.tag;
}
