import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@capstan/platform';
import { loadReconcilerConfig } from './config.js';

// The build's policy and limits are read once at start; a typo fails there, naming the variable.
describe('reconciler configuration: sources and limits', () => {
  it('defaults to no local repositories, no remote bases, no values URLs and the documented limits', () => {
    const c = loadReconcilerConfig({});
    assert.deepEqual(c.SOURCE_SCHEMES, ['https', 'http', 'ssh', 'git']);
    assert.equal(c.KUSTOMIZE_REMOTE_BASES, false);
    assert.deepEqual(c.VALUES_ALLOWED_HOSTS, []);
    assert.deepEqual(
      [c.MAX_FILE_BYTES, c.MAX_RENDERED_BYTES, c.MAX_DOCUMENTS, c.MAX_YAML_EXPANDED_BYTES],
      [4 * 1024 * 1024, 32 * 1024 * 1024, 10_000, 8 * 1024 * 1024],
    );
    assert.equal(c.MAX_CHART_BYTES, 128 * 1024 * 1024);
  });

  it('reads the chart values as the chart writes them', () => {
    const c = loadReconcilerConfig({
      SOURCE_SCHEMES: 'https, file',
      KUSTOMIZE_REMOTE_BASES: 'true',
      VALUES_ALLOWED_HOSTS: 'config.example.com,*.example.org',
      MAX_DOCUMENTS: '500',
    });
    assert.deepEqual(c.SOURCE_SCHEMES, ['https', 'file']);
    assert.equal(c.KUSTOMIZE_REMOTE_BASES, true);
    assert.deepEqual(c.VALUES_ALLOWED_HOSTS, ['config.example.com', '*.example.org']);
    assert.equal(c.MAX_DOCUMENTS, 500);
  });

  it('refuses an unknown scheme or a bad limit, naming the variable', () => {
    assert.throws(
      () => loadReconcilerConfig({ SOURCE_SCHEMES: 'https,ftp' }),
      (e: unknown) => e instanceof ConfigError && /SOURCE_SCHEMES: unknown entry "ftp"/.test(e.message),
    );
    assert.throws(
      () => loadReconcilerConfig({ MAX_YAML_EXPANDED_BYTES: '-1' }),
      (e: unknown) => e instanceof ConfigError && /MAX_YAML_EXPANDED_BYTES/.test(e.message),
    );
    assert.throws(() => loadReconcilerConfig({ KUSTOMIZE_REMOTE_BASES: 'yes' }), /KUSTOMIZE_REMOTE_BASES/);
  });
});
