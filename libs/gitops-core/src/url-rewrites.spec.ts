import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseUrlRewrites, rewriteUrl } from './url-rewrites.js';

describe('rewriteUrl', () => {
  const table = {
    'https://github.com/': 'https://git.mirror.internal/github/',
    'https://github.com/fluxcd/': 'https://git.mirror.internal/flux/',
    'https://stefanprodan.github.io/podinfo': 'http://charts.internal/podinfo',
  };
  it('rewrites by the longest matching prefix, like git insteadOf', () => {
    assert.equal(
      rewriteUrl('https://github.com/fluxcd/flux2.git', table),
      'https://git.mirror.internal/flux/flux2.git',
    );
    assert.equal(
      rewriteUrl('https://github.com/org/app.git', table),
      'https://git.mirror.internal/github/org/app.git',
    );
    assert.equal(
      rewriteUrl('https://stefanprodan.github.io/podinfo/index.yaml', table),
      'http://charts.internal/podinfo/index.yaml',
    );
    assert.equal(rewriteUrl('https://gitlab.com/x.git', table), 'https://gitlab.com/x.git');
  });
  it('parses the config form and names what is wrong', () => {
    assert.deepEqual(parseUrlRewrites(''), {});
    assert.deepEqual(parseUrlRewrites('{"a":"b"}'), { a: 'b' });
    assert.throws(() => parseUrlRewrites('[1]'), /expected an object/);
    assert.throws(() => parseUrlRewrites('{"a":1}'), /"a" must map/);
    assert.throws(() => parseUrlRewrites('{'), /not JSON/);
  });
});
