import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LatestCommits } from './latest-commits.js';

const trigger = (sha: string) => ({
  id: `commit:${sha}`,
  source: { sha } as never,
});

describe('LatestCommits', () => {
  it('keeps the commit observed last per repository, and offers it only when newer than asked', () => {
    const latest = new LatestCommits();
    latest.note('ns/repo', trigger('b'), 2_000);
    latest.note('ns/repo', trigger('a'), 1_000); // a late event of an older commit
    assert.equal(latest.newerThan('ns/repo', 1_500)?.trigger.id, 'commit:b');
    assert.equal(latest.newerThan('ns/repo', 2_000), undefined, 'the artifact is as new');
    assert.equal(latest.newerThan('ns/other', 0), undefined);
  });
});
