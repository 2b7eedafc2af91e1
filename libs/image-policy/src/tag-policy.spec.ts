import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FLUX_V2_FIELDS,
  parseFluxV1Filter,
  selectTag,
  validateTagPolicy,
  type TagCandidate,
  type TagPolicy,
} from './index.js';

const tags = (...t: string[]): TagCandidate[] => t.map((tag) => ({ tag }));
const chosen = (p: TagPolicy, c: TagCandidate[]) => {
  const s = selectTag(p, c);
  if (s.kind !== 'chosen') return assert.fail(JSON.stringify(s));
  return s.tag;
};

describe('tag policies', () => {
  it('semver picks the highest in range and ignores pre-releases unless the range has -0', () => {
    const c = tags('3.0.0', '3.0.1', '3.1.0', '3.0.2-rc.1', 'latest', 'v3.0.3-beta', 'sha-abc');
    assert.equal(chosen(parseFluxV1Filter('semver:~3.0'), c), '3.0.1');
    assert.equal(chosen({ order: { kind: 'semver', range: '>=3.0.0-0 <3.1.0' } }, c), 'v3.0.3-beta');
    assert.equal(chosen({ order: { kind: 'semver', range: '>=1.0.0' } }, c), '3.1.0');
    const none = selectTag({ order: { kind: 'semver', range: '^9' } }, c);
    assert.deepEqual(none.kind === 'none' && [none.reason, none.message], [
      'NoMatchingTag',
      'no tag satisfies semver range ^9',
    ]);
  });

  it('alphabetical and numerical orders, with filterTags pattern and extract', () => {
    const c = tags('main-100-a1', 'main-20-b2', 'dev-999-c3', 'main-3-d4');
    const filter = { pattern: '^main-(?<ts>\\d+)-.*', extract: '$ts' };
    assert.equal(chosen({ order: { kind: 'numerical', order: 'asc' }, filter }, c), 'main-100-a1');
    assert.equal(chosen({ order: { kind: 'numerical', order: 'desc' }, filter }, c), 'main-3-d4');
    // Alphabetically "20" sorts after "100": the reason numerical exists.
    assert.equal(chosen({ order: { kind: 'alphabetical', order: 'asc' }, filter }, c), 'main-3-d4');
    assert.equal(chosen({ order: { kind: 'alphabetical', order: 'desc' } }, c), 'dev-999-c3');
  });

  it('exclusions drop tags before ordering; the default drops cosign .sig tags', () => {
    const c = tags('1.0.0', '1.1.0', 'sha256-abc.sig');
    assert.equal(chosen({ order: { kind: 'alphabetical', order: 'asc' } }, c), '1.1.0');
    assert.equal(chosen({ order: { kind: 'semver', range: '*' }, exclude: ['^1\\.1'] }, c), '1.0.0');
  });

  it('Flux v1 globs and regexes pick the newest build; ties by tag; no or constant times say so', () => {
    const c: TagCandidate[] = [
      { tag: '1.9', created: '2026-01-01T00:00:00Z' },
      { tag: '1.10', created: '2026-02-01T00:00:00Z' },
      { tag: '2.0', created: '2026-03-01T00:00:00Z' },
      { tag: '1.11' },
    ];
    const glob = selectTag(parseFluxV1Filter('glob:1.*'), c);
    assert.equal(glob.kind === 'chosen' && glob.tag, '1.10');
    assert.match(glob.kind === 'chosen' ? glob.why : '', /newest build .*1 without a created time ignored/);
    assert.equal(chosen(parseFluxV1Filter('regex:^2\\.'), c), '2.0');
    assert.equal(chosen(parseFluxV1Filter('*'), c), '2.0');
    const untimed = selectTag(parseFluxV1Filter('1.1?'), [{ tag: '1.11' }, { tag: '1.12' }]);
    assert.equal(untimed.kind === 'none' && untimed.reason, 'NoCreatedTime');
    const constant = selectTag({ order: { kind: 'newest-build' } }, [
      { tag: 'a', created: '1980-01-01T00:00:01Z' },
      { tag: 'b', created: '1980-01-01T00:00:01Z' },
    ]);
    assert.equal(constant.kind === 'none' && constant.reason, 'ConstantCreatedTime');
    const zero = selectTag({ order: { kind: 'newest-build' } }, [
      { tag: 'a', created: '0001-01-01T00:00:00Z' },
    ]);
    assert.equal(zero.kind === 'none' && zero.reason, 'NoCreatedTime');
  });

  it('validation names the field of an invalid semver range or regex', () => {
    assert.deepEqual(validateTagPolicy({ order: { kind: 'semver', range: '~>3.x.y' } }, FLUX_V2_FIELDS), [
      { field: 'spec.policy.semver.range', message: 'invalid semver range "~>3.x.y"' },
    ]);
    const errors = validateTagPolicy(
      { order: { kind: 'alphabetical', order: 'asc' }, filter: { pattern: '(' }, exclude: ['ok', '['] },
      FLUX_V2_FIELDS,
    );
    assert.deepEqual(
      errors.map((e) => e.field),
      ['spec.filterTags.pattern', 'spec.exclusionList[1]'],
    );
    assert.deepEqual(validateTagPolicy(parseFluxV1Filter('semver:~3.0'), FLUX_V2_FIELDS), []);
  });
});
